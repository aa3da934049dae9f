"""The dashboard: risk across the workloads a user can see."""

import datetime

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from lenses.services import lens_import, lens_version_publish
from reviews.dashboard import Filters, monthly_changes, portfolio, trend_points
from reviews.milestones import milestone_create
from reviews.models import Answer, AnswerRisk, Milestone, Role, Workload
from reviews.services import (
    answer_choice_update,
    workload_add_lens,
    workload_create,
    workload_remove_lens,
    workload_share,
)
from reviews.views.dashboard import PER_PAGE
from tests.factories import answers_set_risk, lens_bytes, lens_document

HTMX = {"HTTP_HX_REQUEST": "true"}
HIGH, MEDIUM, NONE = AnswerRisk.HIGH, AnswerRisk.MEDIUM, AnswerRisk.NONE
# Counted afresh: session, user, the stamps of the slices (reviews.dashboard.slice_stamps),
# the workloads ranked with their totals (kept counts), the pillars' totals (kept counts), risky
# answers per question, the lenses reviewed (unfiltered only), milestones, pillar and question
# names, the page's workloads, their kept counts, their improvement items and deprecated lens
# versions, the owners and tags for the filters and the owners' names, the lenses' names, and the
# team names; the filtered htmx partial leaves out the lenses reviewed and the last four (the
# form is not swapped). From the cache: the same without the totals, lenses reviewed,
# milestones, and owners and tags.
DASHBOARD_QUERIES = 17
DASHBOARD_PARTIAL_QUERIES = 12
DASHBOARD_CACHED_QUERIES = 11


def dashboard_url(**params):
    url = reverse("reviews:dashboard")
    if params:
        url += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return url


def make_workload(owner, name, *, environment="PRODUCTION", tags=None):
    return workload_create(
        owner=owner,
        name=name,
        description=f"About {name}.",
        environment=environment,
        review_owner="Someone",
        tags=tags or {},
    )


def set_risks(workload, **risks):
    """Give questions of the built-in lens a risk directly (the counting is what is tested)."""
    for question_id, risk in risks.items():
        updated = answers_set_risk(
            Answer.objects.filter(
                lens_review__workload=workload,
                lens_review__lens__alias="wellarchitected",
                question__question_id=question_id,
            ),
            risk,
        )
        assert updated == 1, question_id


def record_milestone(workload, number, when, high, medium):
    milestone = Milestone.objects.create(
        workload=workload,
        number=number,
        name=f"Milestone {number}",
        data={"lens_reviews": []},
        high_count=high,
        medium_count=medium,
    )
    # recorded_at is set on creation; history is written afterwards.
    Milestone.objects.filter(pk=milestone.pk).update(recorded_at=when)
    return milestone


def at(year, month, day):
    return datetime.datetime(year, month, day, 12, tzinfo=datetime.UTC)


@pytest.fixture
def team_lens(alice):
    version = lens_import(raw=lens_bytes(name="Team Lens", pillars=2, questions=2), user=alice)
    return lens_version_publish(lens_version=version, version="1.0").lens


@pytest.fixture
def security_lens(alice):
    """A second lens whose pillars share the built-in lens's ids, one its name exactly and one
    in lower case: "security" and "Reliability"."""
    document = lens_document(name="Cloud Security Lens", pillars=2, questions=2)
    document["pillars"][0].update(id="security", name="security")
    document["pillars"][1].update(id="reliability", name="Reliability")
    version = lens_import(raw=lens_bytes(document), user=alice)
    return lens_version_publish(lens_version=version, version="1.0").lens


def set_lens_risks(workload, lens, **risks):
    for question_id, risk in risks.items():
        updated = answers_set_risk(
            Answer.objects.filter(
                lens_review__workload=workload,
                lens_review__lens=lens,
                question__question_id=question_id,
            ),
            risk,
        )
        assert updated == 1, question_id


@pytest.fixture
def two_lenses(workload, alice, security_lens, team_lens):
    """Payments API reviews the built-in lens, the Cloud Security Lens and the Team Lens;
    Search only the built-in lens.

    Payments API: built-in sec1 high, rel1 medium; Cloud Security Lens p1_q1 and p1_q2 high
    (its "security" pillar), p2_q1 medium (its "Reliability"); Team Lens p1_q1 medium.
    Search: built-in sec2 high.
    """
    set_risks(workload, sec1=HIGH, rel1=MEDIUM)
    workload_add_lens(workload=workload, lens=security_lens)
    set_lens_risks(workload, security_lens, p1_q1=HIGH, p1_q2=HIGH, p2_q1=MEDIUM)
    workload_add_lens(workload=workload, lens=team_lens)
    set_lens_risks(workload, team_lens, p1_q1=MEDIUM)
    search = make_workload(alice, "Search")
    set_risks(search, sec2=HIGH)
    return {"payments": workload, "search": search}


@pytest.fixture
def portfolio_of_three(workload, alice, bob, carol):
    """Alice sees three workloads with known risks.

    Payments API (production):  sec1 high, sec2 high, sec3 medium, rel1 medium
    Search (pre-production, team=search):  sec1 high, rel1 high, rel2 medium, cost1 medium
    Wiki (Bob's, shared read-only with Alice, team=it): no risks
    """
    set_risks(workload, sec1=HIGH, sec2=HIGH, sec3=MEDIUM, rel1=MEDIUM, ops1=NONE)
    search = make_workload(
        alice, "Search", environment="PREPRODUCTION", tags={"team": "search", "tier": "2"}
    )
    set_risks(search, sec1=HIGH, rel1=HIGH, rel2=MEDIUM, cost1=MEDIUM)
    wiki = make_workload(bob, "Wiki", tags={"team": "it"})
    set_risks(wiki, ops1=NONE, ops2=NONE)
    workload_share(workload=wiki, user=alice, role=Role.READONLY)
    return {"payments": workload, "search": search, "wiki": wiki}


def all_bars(data):
    """The pillar chart's bars, lens after lens."""
    return [bar for lens in data.lenses for bar in lens.bars]


def rows_by_name(response):
    return {row.name: row for row in response.context["data"].rows}


# -- it works ------------------------------------------------------------------------------------


def test_the_dashboard_sums_up_workloads_and_risks(client, alice, portfolio_of_three):
    client.force_login(alice)

    response = client.get(dashboard_url())

    assert response.status_code == 200
    summary = response.context["data"].summary
    assert (summary.workloads, summary.with_high, summary.with_medium) == (3, 2, 2)
    assert (summary.high, summary.medium) == (4, 4)
    assert summary.questions == 3 * 38
    body = response.content.decode()
    assert "Payments API" in body and "Search" in body and "Wiki" in body


def test_the_pillar_chart_adds_up_high_and_medium_risks_per_pillar(
    client, alice, portfolio_of_three
):
    client.force_login(alice)

    response = client.get(dashboard_url())

    bars = {bar.label: (bar.high, bar.medium) for bar in all_bars(response.context["data"])}
    assert list(bars) == [
        "Operational Excellence",
        "Security",
        "Reliability",
        "Performance Efficiency",
        "Cost Optimization",
        "Sustainability",
    ]
    assert bars["Security"] == (3, 1)
    assert bars["Reliability"] == (1, 2)
    assert bars["Cost Optimization"] == (0, 1)
    assert bars["Operational Excellence"] == (0, 0)
    assert "3 high · 1 medium" in response.content.decode()


def test_each_workload_shows_answers_lenses_and_risks_per_pillar(client, alice, portfolio_of_three):
    client.force_login(alice)

    rows = rows_by_name(client.get(dashboard_url()))

    payments = rows["Payments API"]
    assert (payments.answered, payments.total) == (5, 38)
    assert payments.lenses == ["Well-Architected Framework"]
    cells = {cell.name: (cell.high, cell.medium) for cell in payments.cells if cell}
    assert cells["Security"] == (2, 1)
    assert cells["Reliability"] == (0, 1)
    assert cells["Cost Optimization"] == (0, 0)


def test_the_workloads_come_riskiest_first(client, alice, portfolio_of_three):
    client.force_login(alice)

    response = client.get(dashboard_url())

    # Payments API and Search both have 2 high and 2 medium: then by name.
    assert [row.name for row in response.context["data"].rows] == ["Payments API", "Search", "Wiki"]


def test_the_worst_pillar_has_the_most_high_risks_then_the_most_medium(
    client, alice, portfolio_of_three
):
    client.force_login(alice)

    response = client.get(dashboard_url())

    rows = rows_by_name(response)
    assert rows["Payments API"].worst.name == "Security"
    # Search: Security 1 high, Reliability 1 high and 1 medium.
    assert rows["Search"].worst.name == "Reliability"
    assert rows["Wiki"].worst is None
    body = response.content.decode()
    row = body[body.index(f'id="dashboard-workload-{portfolio_of_three["search"].public_id}"') :]
    row = row[: row.index("</tr>")]
    assert row.count('class="pillar-cell worst"') == 1
    assert row.count("Worst") == 1


def test_a_tie_on_risks_goes_to_the_pillar_shown_first(client, alice, workload):
    set_risks(workload, rel1=HIGH, sec1=HIGH)
    client.force_login(alice)

    rows = rows_by_name(client.get(dashboard_url()))

    assert rows["Payments API"].worst.name == "Security"


def test_custom_lens_pillars_count_under_their_own_name(client, alice, workload, team_lens):
    workload_add_lens(workload=workload, lens=team_lens)
    answers_set_risk(
        Answer.objects.filter(lens_review__lens=team_lens, question__question_id="p2_q1"), HIGH
    )
    answers_set_risk(
        Answer.objects.filter(lens_review__lens=team_lens, question__question_id="p2_q2"), HIGH
    )
    set_risks(workload, sec1=HIGH)
    client.force_login(alice)

    response = client.get(dashboard_url())

    data = response.context["data"]
    assert [bar.label for bar in all_bars(data)][-2:] == ["Pillar 1", "Pillar 2"]
    assert data.has_other_pillars
    row = data.rows[0]
    assert row.lenses == ["Well-Architected Framework", "Team Lens"]
    assert row.worst.name == "Pillar 2" and row.worst_is_other
    assert (row.other_high, row.other_medium) == (2, 0)
    assert "Worst: Pillar 2" in response.content.decode()


def test_a_removed_lens_no_longer_counts(client, alice, workload, team_lens):
    workload_add_lens(workload=workload, lens=team_lens)
    answers_set_risk(Answer.objects.filter(lens_review__lens=team_lens), HIGH)
    workload_remove_lens(workload=workload, lens=team_lens)
    client.force_login(alice)

    data = client.get(dashboard_url()).context["data"]

    assert data.summary.high == 0
    assert not data.has_other_pillars
    assert [bar.label for bar in all_bars(data) if bar.label.startswith("Pillar")] == []


def test_each_workload_shows_its_improvement_status(client, alice, workload):
    answer = Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload, question__question_id="sec1"
    )
    answer_choice_update(answer=answer, choice_id="sec1_no", status="SELECTED", user=alice)
    client.force_login(alice)

    response = client.get(dashboard_url())

    assert response.context["data"].rows[0].improvement == "NOT_STARTED"
    assert "improvement-NOT_STARTED" in response.content.decode()


def test_the_common_risky_questions_count_the_workloads_they_affect(
    client, alice, portfolio_of_three
):
    client.force_login(alice)

    response = client.get(dashboard_url())

    questions = [
        (q.question_id, q.workloads, q.high, q.medium) for q in response.context["data"].questions
    ]
    assert questions == [
        ("sec1", 2, 2, 0),
        ("rel1", 2, 1, 1),
        ("sec2", 1, 1, 0),
        ("cost1", 1, 0, 1),
        ("rel2", 1, 0, 1),
        ("sec3", 1, 0, 1),
    ]
    first = response.context["data"].questions[0]
    assert first.pillar == "Security"
    assert first.title == "How do you operate your workload securely?"


def test_a_common_question_links_to_the_workloads_it_affects(client, alice, portfolio_of_three):
    client.force_login(alice)
    response = client.get(dashboard_url(environment="PRODUCTION"))
    rel1 = next(q for q in response.context["data"].questions if q.question_id == "rel1")
    assert rel1.url == dashboard_url(environment="PRODUCTION", question="wellarchitected%3Arel1")

    response = client.get(dashboard_url(question="wellarchitected:rel1"))

    rows = rows_by_name(response)
    assert set(rows) == {"Payments API", "Search"}
    assert rows["Search"].question_risk == HIGH
    assert rows["Payments API"].question_risk == MEDIUM
    body = response.content.decode()
    assert 'id="question-filter"' in body
    assert (
        reverse(
            "reviews:question",
            args=[portfolio_of_three["search"].public_id, "wellarchitected", "rel1"],
        )
        in body
    )
    assert 'name="question" value="wellarchitected:rel1"' in body


def test_an_unreadable_question_filter_filters_nothing(client, alice, portfolio_of_three):
    client.force_login(alice)

    response = client.get(dashboard_url(question="not a question"))

    assert response.context["data"].summary.workloads == 3


# -- several lenses ------------------------------------------------------------------------------


def test_pillars_of_two_lenses_with_the_same_names_count_under_their_own_lens(
    client, alice, two_lenses, security_lens
):
    client.force_login(alice)

    response = client.get(dashboard_url())

    lenses = response.context["data"].lenses
    # The built-in lens first, then the others by name.
    assert [lens.name for lens in lenses] == [
        "Well-Architected Framework",
        "Cloud Security Lens",
        "Team Lens",
    ]
    builtin, security, team = lenses
    assert len(builtin.pillars) == 6
    assert {bar.label: (bar.high, bar.medium) for bar in builtin.bars}["Security"] == (2, 0)
    assert {bar.label: (bar.high, bar.medium) for bar in builtin.bars}["Reliability"] == (0, 1)
    assert [(bar.label, bar.high, bar.medium) for bar in security.bars] == [
        ("security", 2, 0),
        ("Reliability", 0, 1),
    ]
    assert [(bar.label, bar.high, bar.medium) for bar in team.bars] == [
        ("Pillar 1", 0, 1),
        ("Pillar 2", 0, 0),
    ]
    body = response.content.decode()
    chart = body[body.index('id="pillar-chart"') : body.index('id="trend"')]
    headings = [
        chart.index(f'<h3 class="lens-group-name">{name}</h3>')
        for name in ("Well-Architected Framework", "Cloud Security Lens", "Team Lens")
    ]
    assert headings == sorted(headings)
    assert chart.count("<svg") == 3


def test_the_workload_table_names_the_lens_of_its_pillar_columns(client, alice, two_lenses):
    client.force_login(alice)

    response = client.get(dashboard_url())

    data = response.context["data"]
    assert data.main_lens.name == "Well-Architected Framework"
    payments = rows_by_name(response)["Payments API"]
    assert [cell.name for cell in payments.cells] == [p.name for p in data.main_lens.pillars]
    assert [(p.lens_name, p.name) for p in payments.other] == [
        ("Cloud Security Lens", "security"),
        ("Cloud Security Lens", "Reliability"),
        ("Team Lens", "Pillar 1"),
    ]
    assert (payments.other_high, payments.other_medium) == (2, 2)
    assert payments.worst.name == "security" and payments.worst_is_other
    body = response.content.decode()
    assert 'class="lens-col">Well-Architected Framework</th>' in body
    assert "Cloud Security Lens, security: 2 high, 0 medium" in body
    assert "Worst: security" in body and "(Cloud Security Lens)" in body


def test_the_riskiest_questions_name_their_lens(client, alice, two_lenses, security_lens):
    client.force_login(alice)

    response = client.get(dashboard_url())

    questions = {(q.alias, q.question_id): q for q in response.context["data"].questions}
    assert questions[(security_lens.alias, "p1_q1")].lens == "Cloud Security Lens"
    assert questions[(security_lens.alias, "p1_q1")].pillar == "security"
    assert questions[("wellarchitected", "sec1")].lens == "Well-Architected Framework"
    body = response.content.decode()
    for (alias, question_id), question in questions.items():
        row = body[body.index(f'id="risky-{alias}-{question_id}"') :]
        row = row[: row.index("</tr>")]
        assert f'<span class="risky-lens">{question.lens}</span>' in row
        assert f'<span class="risky-pillar">{question.pillar}</span>' in row


def test_the_lens_picker_offers_the_reviewed_lenses_built_in_first(
    client, alice, two_lenses, security_lens, team_lens
):
    client.force_login(alice)

    response = client.get(dashboard_url(lens=security_lens.alias))

    assert response.context["lenses"] == [
        ("wellarchitected", "Well-Architected Framework"),
        (security_lens.alias, "Cloud Security Lens"),
        (team_lens.alias, "Team Lens"),
    ]
    body = response.content.decode()
    picker = body[body.index('<select name="lens" id="id_lens">') :]
    picker = picker[: picker.index("</select>")]
    assert '<option value="">All lenses</option>' in picker
    assert f'<option value="{security_lens.alias}" selected>Cloud Security Lens</option>' in picker
    assert "change from:#id_lens" in body


def test_picking_a_lens_shows_its_pillars_questions_and_the_workloads_reviewing_it(
    client, alice, two_lenses, security_lens
):
    client.force_login(alice)

    response = client.get(dashboard_url(lens=security_lens.alias))
    partial = client.get(dashboard_url(lens=security_lens.alias), **HTMX).content.decode()

    data = response.context["data"]
    assert [row.name for row in data.rows] == ["Payments API"]
    assert [lens.name for lens in data.lenses] == ["Cloud Security Lens"]
    assert data.main_lens.alias == security_lens.alias
    payments = data.rows[0]
    assert [(c.name, c.high, c.medium) for c in payments.cells] == [
        ("security", 2, 0),
        ("Reliability", 0, 1),
    ]
    # The built-in lens's and the Team Lens's risks are still the workload's: under "Other".
    assert [p.lens_name for p in payments.other] == [
        "Well-Architected Framework",
        "Well-Architected Framework",
        "Team Lens",
    ]
    assert {q.alias for q in data.questions} == {security_lens.alias}
    for body in (response.content.decode(), partial):
        assert "Search" not in body
        assert "Most common risky questions in Cloud Security Lens" in body
        assert body.count('class="lens-group-name"') == 1
        assert 'id="lens-note"' in body
    assert "<html" not in partial


def test_a_lens_nobody_reviews_matches_no_workload(client, alice, two_lenses):
    client.force_login(alice)

    unknown = client.get(dashboard_url(lens="no-such-lens"))
    unreadable = client.get(dashboard_url(lens="not%20a%20slug%00"))

    assert unknown.context["data"].rows == []
    assert "No workload matches these filters" in unknown.content.decode()
    assert unreadable.status_code == 200
    assert unreadable.context["data"].summary.workloads == 2


def test_the_lens_picker_offers_the_reviewed_lenses_unfiltered_too(
    client, alice, two_lenses, security_lens, team_lens
):
    client.force_login(alice)

    response = client.get(dashboard_url())

    assert response.context["lenses"] == [
        ("wellarchitected", "Well-Architected Framework"),
        (security_lens.alias, "Cloud Security Lens"),
        (team_lens.alias, "Team Lens"),
    ]


def test_the_lens_picker_offers_mallory_none_of_alices_lenses(
    client, mallory, two_lenses, security_lens
):
    make_workload(mallory, "Mallory's own")
    client.force_login(mallory)

    response = client.get(dashboard_url(lens=security_lens.alias))

    assert response.context["lenses"] == [("wellarchitected", "Well-Architected Framework")]
    assert response.context["data"].rows == []
    assert "Cloud Security Lens" not in response.content.decode()


# -- filters -------------------------------------------------------------------------------------


def test_the_dashboard_filters_by_environment(client, alice, portfolio_of_three):
    client.force_login(alice)

    response = client.get(dashboard_url(environment="PREPRODUCTION"))

    data = response.context["data"]
    assert [row.name for row in data.rows] == ["Search"]
    assert (data.summary.high, data.summary.medium) == (2, 2)
    assert {bar.label: bar.high for bar in all_bars(data)}["Security"] == 1


def test_the_dashboard_filters_by_tag_key_or_key_and_value(client, alice, portfolio_of_three):
    client.force_login(alice)

    by_key = client.get(dashboard_url(tag="team")).context["data"]
    by_value = client.get(dashboard_url(tag="team=it")).context["data"]

    assert {row.name for row in by_key.rows} == {"Search", "Wiki"}
    assert [row.name for row in by_value.rows] == ["Wiki"]
    assert by_value.summary.high == 0


def test_the_dashboard_filters_by_owner(client, alice, portfolio_of_three):
    client.force_login(alice)

    response = client.get(dashboard_url(owner="bob"))

    assert [row.name for row in response.context["data"].rows] == ["Wiki"]
    assert response.context["data"].questions == []


def test_the_filters_offer_the_owners_and_tags_in_use(client, alice, portfolio_of_three):
    client.force_login(alice)

    response = client.get(dashboard_url())

    assert response.context["owners"] == ["alice", "bob"]
    assert "team=search" in response.context["known_tags"]
    assert '<option value="bob">bob</option>' in response.content.decode()


def test_filters_that_match_nothing_say_so(client, alice, portfolio_of_three):
    client.force_login(alice)

    response = client.get(dashboard_url(owner="nobody"))

    assert "No workload matches these filters" in response.content.decode()


# -- trend ---------------------------------------------------------------------------------------


def test_the_trend_adds_up_each_workloads_latest_milestone_per_month(alice, portfolio_of_three):
    payments, search = portfolio_of_three["payments"], portfolio_of_three["search"]
    record_milestone(payments, 1, at(2025, 1, 10), high=5, medium=3)
    record_milestone(search, 1, at(2025, 2, 20), high=1, medium=1)
    record_milestone(payments, 2, at(2025, 3, 5), high=2, medium=4)
    record_milestone(payments, 3, at(2025, 3, 25), high=3, medium=4)

    data = portfolio(alice, Filters(), now=at(2025, 4, 15))

    assert [(p.label, p.high, p.medium) for p in data.trend] == [
        ("Jan ’25", 5, 3),
        ("Feb ’25", 6, 4),
        ("Mar ’25", 4, 5),
        ("Apr ’25", 4, 5),
        ("Now", 4, 4),
    ]


def test_the_trend_follows_the_filters(alice, portfolio_of_three):
    record_milestone(portfolio_of_three["payments"], 1, at(2025, 1, 10), high=5, medium=3)
    record_milestone(portfolio_of_three["search"], 1, at(2025, 1, 20), high=1, medium=1)

    data = portfolio(alice, Filters(environment="PREPRODUCTION"), now=at(2025, 2, 1))

    assert [(p.label, p.high, p.medium) for p in data.trend] == [
        ("Jan ’25", 1, 1),
        ("Feb ’25", 1, 1),
        ("Now", 2, 2),
    ]


def test_the_trend_shows_the_last_twelve_months_counting_older_milestones(alice, workload):
    record_milestone(workload, 1, at(2023, 6, 1), high=7, medium=1)
    visible = Workload.objects.for_user(alice).values("pk")
    summary = portfolio(alice, Filters()).summary

    points = trend_points(monthly_changes(visible), summary, now=at(2025, 4, 15))

    assert len(points) == 13
    assert (points[0].label, points[0].high) == ("May ’24", 7)
    assert points[-1].label == "Now"


def test_without_milestones_there_is_no_trend(client, alice, workload):
    client.force_login(alice)

    response = client.get(dashboard_url())

    assert response.context["data"].trend == []
    assert "No milestones yet" in response.content.decode()


def test_the_trend_chart_is_drawn_from_real_milestones(client, alice, workload):
    set_risks(workload, sec1=HIGH, rel1=MEDIUM)
    milestone_create(workload=workload, name="Baseline", user=alice)
    client.force_login(alice)

    response = client.get(dashboard_url())

    month = timezone.localdate().strftime("%b ’%y")
    points = [(p.label, p.high, p.medium) for p in response.context["data"].trend]
    assert points == [(month, 1, 1), ("Now", 1, 1)]
    assert "<svg" in response.content.decode()


# -- access, methods, htmx -----------------------------------------------------------------------


def test_the_dashboard_requires_login(client, workload):
    response = client.get(dashboard_url())

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_mallory_sees_none_of_alices_workloads(client, mallory, portfolio_of_three):
    own = make_workload(mallory, "Mallory's own")
    set_risks(own, sec1=HIGH)
    client.force_login(mallory)

    response = client.get(dashboard_url())

    data = response.context["data"]
    assert [row.name for row in data.rows] == ["Mallory's own"]
    assert (data.summary.high, data.summary.medium) == (1, 0)
    assert [q.question_id for q in data.questions] == ["sec1"]
    assert response.context["owners"] == ["mallory"]
    assert "Payments API" not in response.content.decode()


def test_a_question_filter_shows_mallory_nothing_of_alices(client, mallory, portfolio_of_three):
    client.force_login(mallory)

    response = client.get(dashboard_url(question="wellarchitected:sec1"))

    assert response.context["data"].rows == []
    assert "Payments API" not in response.content.decode()


def test_staff_see_nothing_extra(client, admin_user, portfolio_of_three):
    record_milestone(portfolio_of_three["payments"], 1, at(2025, 1, 10), high=5, medium=3)
    client.force_login(admin_user)

    response = client.get(dashboard_url())

    data = response.context["data"]
    assert data.rows == [] and data.questions == [] and data.trend == []
    assert data.summary.workloads == 0
    body = response.content.decode()
    assert "Payments API" not in body and "Search" not in body
    assert "No workloads to show yet" in body


def test_the_dashboard_rejects_post(client, alice):
    client.force_login(alice)

    assert client.post(dashboard_url()).status_code == 405


def test_an_htmx_request_gets_only_the_results(client, alice, portfolio_of_three):
    client.force_login(alice)

    response = client.get(dashboard_url(environment="PREPRODUCTION"), **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="summary"' in body and "Search" in body and "Payments API" not in body
    assert "<html" not in body and 'name="tag"' not in body


def test_an_htmx_history_restore_gets_the_whole_page(client, alice, workload):
    client.force_login(alice)

    response = client.get(dashboard_url(), HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)

    assert "<html" in response.content.decode()


def test_the_page_works_without_javascript(client, alice, workload):
    client.force_login(alice)

    body = client.get(dashboard_url()).content.decode()

    assert f'<form class="filters" method="get" action="{dashboard_url()}"' in body
    assert 'id="results"' in body


def test_the_dashboard_escapes_names_and_tags(client, alice, builtin_lens):
    make_workload(alice, "<script>alert(1)</script>", tags={"<b>": "<i>"})
    client.force_login(alice)

    body = client.get(dashboard_url()).content.decode()

    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<b>" not in body


def test_the_dashboard_escapes_lens_and_pillar_names(client, alice, workload):
    document = lens_document(name="<b>Bold</b> lens", pillars=1, questions=1)
    document["pillars"][0]["name"] = "<i>pillar</i>"
    version = lens_import(raw=lens_bytes(document), user=alice)
    lens = lens_version_publish(lens_version=version, version="1.0").lens
    workload_add_lens(workload=workload, lens=lens)
    set_lens_risks(workload, lens, p1_q1=HIGH)
    client.force_login(alice)

    body = client.get(dashboard_url()).content.decode()

    assert "<b>Bold</b>" not in body and "<i>pillar</i>" not in body
    assert '<h3 class="lens-group-name">&lt;b&gt;Bold&lt;/b&gt; lens</h3>' in body
    assert ">&lt;b&gt;Bold&lt;/b&gt; lens</option>" in body
    assert "&lt;i&gt;pillar&lt;/i&gt;" in body


def test_many_workloads_come_in_pages(client, alice, builtin_lens):
    for n in range(PER_PAGE + 2):
        make_workload(alice, f"Workload {n:02}")
    client.force_login(alice)

    first = client.get(dashboard_url())
    second = client.get(dashboard_url(page=2), **HTMX)

    assert len(first.context["page"].object_list) == PER_PAGE
    assert first.context["data"].summary.workloads == PER_PAGE + 2
    assert "Page 1 of 2" in first.content.decode()
    body = second.content.decode()
    assert "Workload 25" in body and "Workload 26" in body and "Workload 24" not in body
    assert "Page 2 of 2" in body


# -- queries -------------------------------------------------------------------------------------


def grow(alice, bob, team_lens, workloads=5, milestones=3):
    """More workloads, answers, lenses and milestones, all visible to Alice."""
    for n in range(workloads):
        owner = alice if n % 2 else bob
        other = make_workload(owner, f"Grown {n}", tags={"n": str(n), "team": "grown"})
        if owner == bob:
            workload_share(workload=other, user=alice, role=Role.CONTRIBUTOR)
        if n % 3 == 0:
            workload_add_lens(workload=other, lens=team_lens)
            answers_set_risk(
                Answer.objects.filter(lens_review__workload=other, lens_review__lens=team_lens),
                MEDIUM,
            )
        set_risks(other, sec1=HIGH, rel1=MEDIUM, **{f"ops{n % 6 + 1}": HIGH})
        for m in range(1, milestones + 1):
            record_milestone(other, m, at(2025, m, 1 + n), high=m + n, medium=n)


def page_urls(workload):
    return [
        dashboard_url(),
        dashboard_url(environment="PRODUCTION", tag="team", owner="alice"),
        dashboard_url(question="wellarchitected:sec1"),
        dashboard_url(lens="wellarchitected"),
        reverse("reviews:workload_list"),
        reverse("reviews:milestones", args=[workload.public_id]),
        reverse("reviews:compare", args=[workload.public_id]) + "?from=1&to=now",
    ]


def test_the_dashboard_list_and_milestone_pages_take_a_constant_number_of_queries(
    client, alice, bob, workload, team_lens, django_assert_max_num_queries
):
    client.force_login(alice)
    Workload.objects.filter(pk=workload.pk).update(tags={"team": "core"})
    set_risks(workload, sec1=HIGH)
    milestone_create(workload=workload, name="Baseline", user=alice)
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        client.get(dashboard_url())
    small = []
    for url in page_urls(workload):
        cache.clear()  # counted afresh; test_dashboard_cache.py counts what is cached
        with django_assert_max_num_queries(20) as captured:
            assert client.get(url).status_code == 200
        small.append(len(captured.captured_queries))

    grow(alice, bob, team_lens, workloads=6, milestones=4)
    workload_add_lens(workload=workload, lens=team_lens)
    for n in range(2, 6):
        set_risks(workload, **{f"rel{n}": HIGH})
        milestone_create(workload=workload, name=f"Review {n}", user=alice)

    for url, count in zip(page_urls(workload), small, strict=True):
        cache.clear()
        with django_assert_max_num_queries(count):
            response = client.get(url)
        assert response.status_code == 200
    cache.clear()
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        response = client.get(dashboard_url())
    assert response.context["data"].summary.workloads == 7
    assert len(response.context["data"].trend) > 2
    with django_assert_max_num_queries(DASHBOARD_CACHED_QUERIES):
        client.get(dashboard_url())
    with django_assert_max_num_queries(DASHBOARD_PARTIAL_QUERIES):
        client.get(dashboard_url(tag="team"), **HTMX)


def test_reviews_on_a_deprecated_lens_version_are_marked(client, alice, workload, admin_user):
    from lenses.services import lens_import, lens_version_deprecate, lens_version_publish
    from reviews.services import workload_add_lens
    from tests.factories import lens_bytes

    version = lens_version_publish(
        lens_version=lens_import(raw=lens_bytes(name="Old Lens"), user=admin_user),
        version="1.0",
    )
    workload_add_lens(workload=workload, lens=version.lens)
    lens_version_deprecate(lens_version=version)
    client.force_login(alice)

    body = client.get(reverse("reviews:dashboard")).content.decode()

    row = body[body.index(f'id="dashboard-workload-{workload.public_id}"') :]
    assert "Deprecated lens version</span> Old Lens 1.0" in row[: row.index("</tr>")]
