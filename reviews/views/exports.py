"""CSV downloads of a lens review: its improvement plan and all its answers with the scores.

Plain UTF-8 with a header row. Cells that a spreadsheet would run as a formula (starting with
= + - @, or a tab or carriage return) get a leading apostrophe: answers, notes and comments are
typed by people, and lens files come from anywhere.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from lenses.templatetags.links import http_url
from reviews import snapshots
from reviews.activity import Action, activity_record
from reviews.improvements import person_label
from reviews.models import AnswerRisk, ChoiceAnswer, ImprovementStatus, LensReview, Reason
from reviews.score_selectors import lens_score, snapshot_practices, snapshot_question_practices
from reviews.selectors import plan_of
from reviews.views.access import get_lens_review_for_user
from reviews.views.improvements import filter_entries, plan_filters
from reviews.workbooks import safe_cell

JOIN = "; "

PLAN_HEADER = [
    "Pillar",
    "Question ID",
    "Question",
    "Risk",
    "Status",
    "Assignee",
    "Due date",
    "Overdue",
    "Missing best practices",
    "Improvement plan links",
    "Comment",
]
ANSWERS_HEADER = [
    "Pillar",
    "Question ID",
    "Question",
    "Risk",
    "Applicable",
    "Reason",
    "Selected choices",
    "Not applicable choices",
    "Notes",
    # Last, so the columns before it keep their places for whoever reads them by position.
    "Selected choices count",
    # The score's parts per question, and the pillar's and lens's scores (README "Scores").
    "Best practices followed",
    "Best practices applicable",
    "Pillar score (%)",
    "Lens score (%)",
]
# A question marked not applicable keeps its ticks (they count again if it applies again), but
# they give it no risk: the CSV says so beside them, so nobody reads them as the answer.
NOT_COUNTED = "No: the question does not apply"


def score_cell(score: float | None) -> str:
    """A score for a spreadsheet: a number with one decimal, empty when there is none."""
    return "" if score is None else f"{score:.1f}"


def csv_response(filename: str, header: list[str], rows: Iterable[list[Any]]) -> HttpResponse:
    response = HttpResponse(
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": content_disposition_header(True, filename)},
    )
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return response


def _filename(review: LensReview, what: str) -> str:
    return f"{slugify(review.workload.name) or 'workload'}-{review.lens.alias}-{what}.csv"


def _label(choices: type, value: str) -> str:
    return choices(value).label if value in choices.values else value


@require_GET
@login_required
def improvement_csv(request: HttpRequest, public_id: str, alias: str) -> HttpResponse:
    """One row per risky question, in plan order, with the same filters as the plan page."""
    review = get_lens_review_for_user(request, public_id, alias)
    pillars, entries = plan_of(review)
    entries = filter_entries(entries, plan_filters(request, pillars))
    rows = []
    for entry in entries:
        question, item = entry["question"], entry["item"]
        links = [http_url(c["improvement_plan"]["url"]) for c in entry["missing"]]
        rows.append(
            [
                entry["pillar"]["name"],
                question["id"],
                question["title"],
                _label(AnswerRisk, question["risk"]),
                _label(ImprovementStatus, item.status) if item else "",
                person_label(item.assignee) if item and item.assignee else "",
                item.due_date.isoformat() if item and item.due_date else "",
                "Yes" if entry["overdue"] else "No",
                JOIN.join(choice["title"] for choice in entry["missing"]),
                # Choices of one question often share a link: list each once.
                JOIN.join(dict.fromkeys(link for link in links if link)),
                item.comment if item else "",
            ]
        )
    _record(request, review, "improvement plan")
    return csv_response(_filename(review, "improvement-plan"), PLAN_HEADER, rows)


@require_GET
@login_required
def answers_csv(request: HttpRequest, public_id: str, alias: str) -> HttpResponse:
    """One row per question of the lens review, in lens order."""
    review = get_lens_review_for_user(request, public_id, alias)
    [snapshot] = snapshots.snapshots_of([review])
    pillar_practices = snapshot_practices(snapshot)
    whole_lens = score_cell(lens_score(pillar_practices))
    rows = []
    for pillar in snapshot["pillars"]:
        pillar_cell = score_cell(pillar_practices[pillar["id"]].score)
        for question in pillar["questions"]:
            practices = snapshot_question_practices(question)
            by_status: dict[str, list[str]] = {}
            for choice in question["choices"]:
                by_status.setdefault(choice["status"], []).append(choice["title"])
            selected = by_status.get(ChoiceAnswer.Status.SELECTED, [])
            counted = "" if not selected else "Yes" if question["is_applicable"] else NOT_COUNTED
            rows.append(
                [
                    pillar["name"],
                    question["id"],
                    question["title"],
                    _label(AnswerRisk, question["risk"]),
                    "Yes" if question["is_applicable"] else "No",
                    "" if question["reason"] == Reason.NONE else _label(Reason, question["reason"]),
                    JOIN.join(selected),
                    JOIN.join(by_status.get(ChoiceAnswer.Status.NOT_APPLICABLE, [])),
                    question["notes"],
                    counted,
                    practices.followed,
                    practices.applicable,
                    pillar_cell,
                    whole_lens,
                ]
            )
    _record(request, review, "answers")
    return csv_response(_filename(review, "answers"), ANSWERS_HEADER, rows)


def _record(request: HttpRequest, review: LensReview, what: str) -> None:
    """Data that leaves the application goes into the workload's activity log."""
    activity_record(
        workload=review.workload,
        user=request.user,
        action=Action.EXPORTED,
        what=f"the {what} of {review.lens.name} as CSV",
    )
