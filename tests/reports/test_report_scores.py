"""Scores in the reports: the lens review PDF, the consolidated PDF and the JSON report, read
back (pypdf, json) from files built by the report service."""

import json
import re

from reviews.milestones import milestone_create
from reviews.models import Report
from reviews.reports.services import report_build, report_request
from reviews.services import workload_create
from tests.reports.conftest import pdf_text
from tests.reviews import test_score_pages as scored
from tests.reviews.test_score_pages import ALIAS, tick

# The lens, the review and its answers of the page tests, as fixtures here too.
score_lens, review, answered = scored.score_lens, scored.review, scored.answered


def build(report: Report) -> bytes:
    done = report_build(report_id=report.pk)
    assert done.status == Report.Status.DONE, done.error
    with done.file.open("rb") as file:
        return file.read()


def folded(text: str) -> str:
    return " ".join(text.split())


def test_the_lens_review_report_shows_the_lens_and_pillar_scores(
    answered, workload, score_lens, alice
):
    data = build(
        report_request(user=alice, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=score_lens)
    )

    text = folded(pdf_text(data))
    assert text.count("30%lens score") == 2  # cover and summary (the number is a block)
    assert "Its score is 30%: the mean of the pillars’ scores" in text
    # The summary table: pillar, answered, high, medium, no risk, not applicable, unanswered,
    # score; then the lens's line.
    assert re.search(r"Pillar 1 2 / 2 \d \d \d 0 0 60%", text), text
    assert re.search(r"Pillar 2 2 / 2 \d \d \d 1 0 0%", text), text
    assert re.search(r"All pillars 4 / 4 \d \d \d 1 0 30%", text), text
    assert "1 not applicable · score 60%" not in text  # pillar 1 rules out a choice, no question
    assert "0 not applicable · score 60%" in text
    assert "1 not applicable · score 0%" in text


def test_a_milestone_report_scores_the_frozen_state_and_its_trend_each_milestone(
    answered, workload, score_lens, alice
):
    milestone_create(workload=workload, name="Before launch", user=alice)
    tick(answered, alice, "p1_q1", "p1_q1_c3")  # now 80% and 0%: the lens 40%
    milestone = milestone_create(workload=workload, name="After the fixes", user=alice)
    tick(answered, alice, "p1_q2", "p1_q2_c2")  # after the milestone: not in its report

    data = build(
        report_request(
            user=alice,
            kind=Report.Kind.LENS_REVIEW,
            workload=workload,
            lens=score_lens,
            milestone=milestone,
        )
    )

    text = folded(pdf_text(data))
    assert "40%lens score" in text
    # The trend: M1 at 30%, M2 at 40%, and no "now" in a milestone's report.
    trend = text[text.index("Risks and score over the milestones") :]
    assert "Score (right axis, %)" in trend
    assert re.search(r"30%.*40%.*M1 M2", trend), trend[:400]
    assert "Now" not in trend[: trend.index("M2") + 3]


def test_an_unanswered_review_reports_no_score(review, workload, score_lens, alice):
    data = build(
        report_request(user=alice, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=score_lens)
    )

    text = folded(pdf_text(data))
    assert "–lens score" in text
    assert "It has no score yet" in text


def test_the_consolidated_pdf_shows_the_portfolio_and_workload_scores(answered, workload, alice):
    workload_create(
        owner=alice,
        name="Quiet Shop",
        description="Nobody reviewed it yet.",
        environment="PREPRODUCTION",
        review_owner="Alice Archer",
    )

    text = folded(pdf_text(build(report_request(user=alice, kind=Report.Kind.CONSOLIDATED))))

    # Payments API scores 30 (its Score Lens); Quiet Shop has none, so the portfolio is 30 too.
    assert "30%portfolio score" in text
    assert "The portfolio score is 30%" in text
    assert re.search(r"Payments API .*?Production alice 4 / \d+ \d+ \d+ 30%", text), text
    assert re.search(r"Quiet Shop .*?Pre-production alice 0 / \d+ 0 0 –", text), text


def test_the_json_report_gives_the_scores_per_workload_lens_and_pillar(answered, workload, alice):
    report = report_request(
        user=alice, kind=Report.Kind.CONSOLIDATED, format=Report.Format.JSON, filters={}
    )

    document = json.loads(build(report))

    [payments] = document["workloads"]
    assert payments["score"] == 30
    lenses = {lens["alias"]: lens for lens in payments["lenses"]}
    assert lenses[ALIAS]["score"] == 30
    assert [(p["id"], p["score"]) for p in lenses[ALIAS]["pillars"]] == [
        ("pillar1", 60),
        ("pillar2", 0),
    ]
    assert lenses["wellarchitected"]["score"] is None
    assert {p["score"] for p in lenses["wellarchitected"]["pillars"]} == {None}
    assert document["totals"]["score"] == 30
    portfolio = {lens["alias"]: lens for lens in document["lenses"]}
    assert portfolio[ALIAS]["score"] == 30
    assert [p["score"] for p in portfolio[ALIAS]["pillars"]] == [60, 0]
