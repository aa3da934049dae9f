"""The dashboard and the workload list read the kept counts, scores included (issues 13, 15)."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from reviews.models import Answer, ChoiceAnswer, PillarCounts, Role
from reviews.scores import Practices, mean_score, percent, question_practices
from reviews.services import answer_choice_update, workload_create, workload_share
from reviews.views.dashboard import PER_PAGE

SELECTED = ChoiceAnswer.Status.SELECTED


def make_workload(owner, name):
    return workload_create(
        owner=owner,
        name=name,
        description=f"About {name}.",
        environment="PRODUCTION",
        review_owner="Someone",
    )


def tick(workload, user, question_id, *choice_ids):
    for choice_id in choice_ids:
        answer = Answer.objects.select_related("question", "lens_review").get(
            lens_review__workload=workload, question__question_id=question_id
        )
        answer_choice_update(answer=answer, choice_id=choice_id, status=SELECTED, user=user)


def expected_scores(workload):
    """Pillar scores and the workload's score, counted from the answers with reviews.scores."""
    pillars: dict[str, Practices] = {}
    for answer in Answer.objects.filter(lens_review__workload=workload).select_related(
        "question__pillar"
    ):
        statuses = dict(
            ChoiceAnswer.objects.filter(answer=answer).values_list("choice_id", "status")
        )
        practices = question_practices(
            ((c.is_none, statuses.get(c.pk)) for c in answer.question.choices.all()),
            is_applicable=answer.is_applicable,
        )
        key = answer.question.pillar.pillar_id
        pillars[key] = pillars.get(key, Practices()) + practices
    scores = {key: p.score for key, p in pillars.items()}
    return scores, mean_score(scores.values())


@pytest.fixture
def scored(workload, alice, bob):
    """Payments API answers two security questions and one reliability question; Search one
    operations question; Empty nothing (no score)."""
    tick(workload, alice, "sec1", "sec1_bp1", "sec1_bp2")
    tick(workload, alice, "sec2", "sec2_no")
    tick(workload, bob, "rel1", "rel1_bp1")
    search = make_workload(alice, "Search")
    tick(search, alice, "ops1", "ops1_bp1", "ops1_bp2", "ops1_bp3")
    empty = make_workload(alice, "Empty")
    return {"payments": workload, "search": search, "empty": empty}


def test_the_dashboard_shows_each_workloads_score_and_the_portfolios(client, alice, scored):
    client.force_login(alice)

    response = client.get(reverse("reviews:dashboard"))

    data = response.context["data"]
    rows = {row.name: row for row in data.rows}
    payments, payments_score = expected_scores(scored["payments"])
    _, search_score = expected_scores(scored["search"])
    assert rows["Payments API"].score == pytest.approx(payments_score)
    assert rows["Search"].score == pytest.approx(search_score)
    assert rows["Empty"].score is None
    assert data.summary.score == pytest.approx(mean_score([payments_score, search_score]))
    assert rows["Payments API"].pillars[("wellarchitected", "security")].score == (
        pytest.approx(payments["security"])
    )
    body = response.content.decode()
    assert percent(data.summary.score) in body
    assert f'<td class="num workload-score">{percent(payments_score)}</td>' in body
    assert '<td class="num workload-score">–</td>' in body


def test_a_pillars_portfolio_score_is_the_mean_of_the_workloads_scores(client, alice, scored):
    tick(scored["search"], alice, "sec1", "sec1_bp1")
    client.force_login(alice)

    data = client.get(reverse("reviews:dashboard")).context["data"]

    security = next(p for p in data.main_pillars if p.pillar_id == "security")
    mine = [expected_scores(scored[name])[0].get("security") for name in ("payments", "search")]
    assert security.score == pytest.approx(mean_score(mine))
    operations = next(p for p in data.main_pillars if p.pillar_id == "operationalExcellence")
    assert operations.score == pytest.approx(
        expected_scores(scored["search"])[0]["operationalExcellence"]
    )


def test_the_workload_list_shows_each_workloads_score(client, alice, scored):
    client.force_login(alice)

    response = client.get(reverse("reviews:workload_list"))

    rows = {w.name: w for w in response.context["workloads"]}
    assert rows["Payments API"].score == pytest.approx(expected_scores(scored["payments"])[1])
    assert percent(rows["Empty"].score) == "–"
    assert f">{percent(rows['Search'].score)}</td>" in response.content.decode()


def test_the_dashboard_and_the_list_read_the_kept_counts_not_the_answers(client, alice, scored):
    client.force_login(alice)
    before = client.get(reverse("reviews:dashboard")).context["data"].summary.high
    PillarCounts.objects.filter(
        lens_review__workload=scored["empty"], pillar__pillar_id="security"
    ).update(high=9)
    # Written around the services, which move the review's version: counted afresh.
    cache.clear()

    dashboard = client.get(reverse("reviews:dashboard")).context["data"]
    listed = client.get(reverse("reviews:workload_list")).context["workloads"]

    assert dashboard.rows[0].name == "Empty" and dashboard.rows[0].high == 9
    assert dashboard.summary.high == before + 9
    assert {w.name: w.high for w in listed}["Empty"] == 9


def test_sorting_the_list_by_risk_uses_the_kept_counts(client, alice, scored):
    PillarCounts.objects.filter(
        lens_review__workload=scored["search"], pillar__pillar_id="security"
    ).update(high=4, medium=1)
    client.force_login(alice)

    response = client.get(reverse("reviews:workload_list"), {"sort": "-high"})

    assert [w.name for w in response.context["workloads"]][0] == "Search"


def test_a_page_past_the_end_shows_the_last_page(client, alice, builtin_lens):
    for n in range(PER_PAGE + 3):
        make_workload(alice, f"Workload {n:02}")
    client.force_login(alice)

    response = client.get(reverse("reviews:dashboard"), {"page": 9})

    page = response.context["page"]
    assert page.number == 2 and len(page.object_list) == 3
    assert [row.name for row in page.object_list] == [
        "Workload 25",
        "Workload 26",
        "Workload 27",
    ]


def test_the_dashboards_queries_do_not_grow_with_the_portfolio(
    client, alice, bob, scored, django_assert_max_num_queries
):
    client.force_login(alice)
    with django_assert_max_num_queries(30) as small:
        client.get(reverse("reviews:dashboard"))
    for n in range(PER_PAGE + 5):
        other = make_workload(bob, f"More {n:02}")
        workload_share(workload=other, user=alice, role=Role.READONLY)
        tick(other, bob, "sec1", "sec1_bp1")

    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse("reviews:dashboard"))

    assert response.context["data"].summary.workloads == 3 + PER_PAGE + 5
