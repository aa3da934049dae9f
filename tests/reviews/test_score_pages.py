"""Scores (reviews.scores) as the pages, the selector and the CSV show them, on answers made
through the services: ticks, choices and questions marked not applicable, "None of these"."""

import csv
import io
import re
from xml.etree import ElementTree

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lenses.services import lens_import, lens_version_publish
from reviews.milestones import milestone_create
from reviews.models import Answer, LensReview, Milestone
from reviews.score_selectors import review_practices, snapshot_practices
from reviews.scores import Practices
from reviews.services import answer_applicability_update, answer_choice_update, workload_add_lens
from tests.factories import lens_bytes

ALIAS = "score-lens"


@pytest.fixture
def score_lens(alice):
    """Two pillars of two questions, each with three best practices and "None of these"."""
    version = lens_import(
        raw=lens_bytes(name="Score Lens", pillars=2, questions=2, choices=3),
        user=alice,
        alias=ALIAS,
    )
    return lens_version_publish(lens_version=version, version="1.0").lens


@pytest.fixture
def review(workload, score_lens) -> LensReview:
    return workload_add_lens(workload=workload, lens=score_lens)


def answer(review, question_id) -> Answer:
    return Answer.objects.get(lens_review=review, question__question_id=question_id)


def tick(review, user, question_id, *choice_ids, status="SELECTED") -> None:
    for choice_id in choice_ids:
        answer_choice_update(
            answer=answer(review, question_id), choice_id=choice_id, status=status, user=user
        )


def not_applicable(review, user, question_id) -> None:
    answer_applicability_update(
        answer=answer(review, question_id), is_applicable=False, reason="OUT_OF_SCOPE", user=user
    )


@pytest.fixture
def answered(review, alice) -> LensReview:
    """Pillar 1: 2 of 3 and 1 of 2 (one choice not applicable) = 3 of 5, 60%. Pillar 2: "None
    of these" (0 of 3) and a question not applicable = 0%. The lens: (60 + 0) / 2 = 30%."""
    tick(review, alice, "p1_q1", "p1_q1_c1", "p1_q1_c2")
    tick(review, alice, "p1_q2", "p1_q2_c3", status="NOT_APPLICABLE")
    tick(review, alice, "p1_q2", "p1_q2_c1")
    tick(review, alice, "p2_q1", "p2_q1_no")
    # Ticked, then ruled out: its ticks stay but count for nothing.
    tick(review, alice, "p2_q2", "p2_q2_c1", "p2_q2_c2", "p2_q2_c3")
    not_applicable(review, alice, "p2_q2")
    return review


def page(client, name, workload, *args) -> str:
    response = client.get(reverse(f"reviews:{name}", args=[workload.public_id, *args]))
    assert response.status_code == 200
    return response.content.decode()


def text_of(html: str, element_id: str) -> str:
    """The text of the element with that id (tags dropped, spaces folded)."""
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(tr|div|p)>', html, re.S)
    assert match, element_id
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


# -- the selector ----------------------------------------------------------------------------


def test_the_selector_counts_ticks_and_leaves_out_what_does_not_apply(answered):
    pillars = review_practices([answered])[answered.pk]

    assert pillars == {"pillar1": Practices(3, 5, 2), "pillar2": Practices(0, 3, 1)}
    assert pillars["pillar1"].score == 60
    assert pillars["pillar2"].score == 0


def test_a_review_nobody_answered_has_counts_but_no_score(review):
    pillars = review_practices([review])[review.pk]

    assert pillars == {"pillar1": Practices(0, 6, 0), "pillar2": Practices(0, 6, 0)}
    assert {practices.score for practices in pillars.values()} == {None}


def test_the_selector_gives_the_same_counts_from_a_queryset_and_from_a_list(answered, workload):
    reviews = LensReview.objects.filter(workload=workload)

    assert review_practices(reviews) == review_practices(list(reviews))


def test_a_milestone_scores_what_the_live_review_scored(answered, workload, alice):
    milestone = milestone_create(workload=workload, name="Before launch", user=alice)
    frozen = next(s for s in milestone.data["lens_reviews"] if s["lens"]["alias"] == ALIAS)

    assert snapshot_practices(frozen) == review_practices([answered])[answered.pk]
    # The built-in lens has no answer, so no score: the workload's is the Score Lens's.
    assert milestone.score == 30


def test_the_selector_takes_two_queries_however_many_reviews_and_answers(
    review, workload, alice, builtin_lens
):
    reviews = list(LensReview.objects.filter(workload=workload))
    with CaptureQueriesContext(connection) as few:
        review_practices(reviews)
    for question_id in ("p1_q1", "p1_q2", "p2_q1", "p2_q2"):
        tick(review, alice, question_id, f"{question_id}_c1", f"{question_id}_c2")
    builtin = next(r for r in reviews if r.lens.is_builtin)
    tick(builtin, alice, "sec1", "sec1_bp1", "sec1_bp2")

    with CaptureQueriesContext(connection) as more:
        practices = review_practices(reviews)

    assert len(few.captured_queries) == len(more.captured_queries) == 2
    assert practices[builtin.pk]["security"].followed == 2


def test_a_saved_milestone_gets_its_score_from_its_copy_when_the_column_comes(
    answered, workload, alice
):
    from importlib import import_module

    migration = import_module("reviews.migrations.0008_milestone_score")
    milestone = milestone_create(workload=workload, name="Before launch", user=alice)
    Milestone.objects.filter(pk=milestone.pk).update(score=None)

    migration.score_saved_milestones(apps, None)

    milestone.refresh_from_db()
    assert milestone.score == 30


# -- pages -----------------------------------------------------------------------------------


def test_the_overview_shows_the_lens_score_and_each_pillars(client, answered, workload, carol):
    client.force_login(carol)

    html = page(client, "overview", workload, ALIAS)

    assert text_of(html, "score").startswith("30% lens score")
    rows = re.findall(r'<tr id="pillar-row-\d+">(.*?)</tr>', html, re.S)
    assert [re.findall(r'class="num score">([^<]*)<', row) for row in rows] == [["60%"], ["0%"]]


def test_the_pillar_page_shows_the_pillars_score(client, answered, workload, carol):
    client.force_login(carol)

    html = page(client, "pillar", workload, ALIAS, "pillar1")

    assert text_of(html, "score").startswith("60% pillar score")


def test_a_review_without_answers_shows_a_dash_for_its_score(client, review, workload, carol):
    client.force_login(carol)

    html = page(client, "overview", workload, ALIAS)

    assert text_of(html, "score").startswith("– lens score")


def test_a_pillar_whose_questions_all_do_not_apply_has_no_score(client, answered, workload, alice):
    not_applicable(answered, alice, "p2_q1")
    client.force_login(alice)

    html = page(client, "overview", workload, ALIAS)

    rows = re.findall(r'<tr id="pillar-row-\d+">(.*?)</tr>', html, re.S)
    assert [re.findall(r'class="num score">([^<]*)<', row) for row in rows] == [["60%"], ["–"]]
    # The lens's score is the mean of the pillars that have one.
    assert text_of(html, "score").startswith("60% lens score")


def test_the_overview_takes_the_same_queries_as_the_review_grows(
    client, review, workload, alice, django_assert_max_num_queries
):
    client.force_login(alice)
    with CaptureQueriesContext(connection) as empty:
        page(client, "overview", workload, ALIAS)
    tick(review, alice, "p1_q1", "p1_q1_c1", "p1_q1_c2")
    tick(review, alice, "p2_q1", "p2_q1_no")
    not_applicable(review, alice, "p2_q2")

    with django_assert_max_num_queries(len(empty.captured_queries)):
        html = page(client, "overview", workload, ALIAS)
    assert text_of(html, "score").startswith("17% lens score")  # (2/6 + 0/3) / 2


def test_the_workload_page_shows_each_lens_reviews_score_and_the_workloads(
    client, answered, workload, carol
):
    client.force_login(carol)

    html = page(client, "workload_detail", workload)

    assert re.search(r'id="lens-review-score-lens".*?class="num score">30%<', html, re.S)
    assert re.search(r'id="lens-review-wellarchitected".*?class="num score">–<', html, re.S)
    assert text_of(html, "workload-score").startswith("Workload score 30%")


def test_the_milestone_pages_show_the_frozen_scores(client, answered, workload, alice, carol):
    milestone_create(workload=workload, name="Before launch", user=alice)
    tick(answered, alice, "p1_q1", "p1_q1_c3")  # changes nothing frozen
    client.force_login(carol)

    html = page(client, "milestone_overview", workload, 1, ALIAS)

    assert text_of(html, "score").startswith("30% lens score")
    assert re.findall(r'class="num score">([^<]*)<', html) == ["60%", "0%"]
    listing = page(client, "milestones", workload)
    row = re.search(r'<tr id="milestone-1">(.*?)</tr>', listing, re.S).group(1)
    assert re.findall(r'class="num score">([^<]*)<', row) == ["30%"]


def test_the_trend_draws_the_score_of_each_milestone_and_now(client, answered, workload, alice):
    milestone_create(workload=workload, name="Before launch", user=alice)
    tick(answered, alice, "p1_q1", "p1_q1_c3")  # pillar 1: 4 of 5; the lens (80 + 0) / 2
    client.force_login(alice)

    html = page(client, "milestones", workload)

    svg = ElementTree.fromstring(re.search(r"<svg.*?</svg>", html, re.S).group(0))
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "Score (right axis, %)" in texts
    assert {"0%", "50%", "100%"} <= set(texts)  # its own axis
    assert texts.count("30%") == 1 and texts.count("40%") == 1  # M1, then now


def test_the_comparison_shows_the_scores_before_and_after_and_the_change(
    client, answered, workload, alice
):
    milestone_create(workload=workload, name="Before launch", user=alice)
    tick(answered, alice, "p1_q1", "p1_q1_c3")
    client.force_login(alice)

    response = client.get(reverse("reviews:compare", args=[workload.public_id]) + "?from=1")

    html = response.content.decode()
    section = html[html.index('id="compare-score-lens"') :]
    section = section[: section.index("</section>")]
    cells = [
        " ".join(re.sub(r"<[^>]+>", " ", c).split())
        for c in re.findall(
            r'<td class="num score">(.*?)</td>\s*<td class="num">(.*?)</td>', section, re.S
        )
        for c in c
    ]
    assert cells == [
        "60% → 80%",
        "+20 points, better",
        "0% → 0%",
        "±0",
        "30% → 40%",
        "+10 points, better",
    ]


def test_the_answers_csv_gives_each_questions_practices_and_the_scores(
    client, answered, workload, carol
):
    client.force_login(carol)
    response = client.get(reverse("reviews:answers_csv", args=[workload.public_id, ALIAS]))

    header, *rows = list(csv.reader(io.StringIO(response.content.decode(), newline="")))

    by_id = {row[1]: dict(zip(header, row, strict=True)) for row in rows}
    columns = (
        "Best practices followed",
        "Best practices applicable",
        "Pillar score (%)",
        "Lens score (%)",
    )
    assert [[by_id[q][c] for c in columns] for q in ("p1_q1", "p1_q2", "p2_q1", "p2_q2")] == [
        ["2", "3", "60.0", "30.0"],
        ["1", "2", "60.0", "30.0"],
        ["0", "3", "0.0", "30.0"],
        ["0", "0", "0.0", "30.0"],
    ]


def test_the_answers_csv_of_an_unanswered_review_leaves_the_scores_empty(
    client, review, workload, carol
):
    client.force_login(carol)
    response = client.get(reverse("reviews:answers_csv", args=[workload.public_id, ALIAS]))

    header, *rows = list(csv.reader(io.StringIO(response.content.decode(), newline="")))

    assert {(row[-4], row[-3], row[-2], row[-1]) for row in rows} == {("0", "3", "", "")}
