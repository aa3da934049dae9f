"""Snapshots: a lens review as plain data, complete enough to stand on its own.

Milestones store snapshots, comparisons diff them, and reports render them, so a milestone
keeps showing exactly what was recorded even after answers, lenses or users change.

    {"lens": {"alias", "name", "version"}, "notes", "counts": {...},
     "pillars": [{"id", "name", "notes", "counts": {...},
                  "questions": [{"id", "title", "description", "risk", "is_applicable",
                                 "reason", "notes", "choices": [...], "improvement": {...}|None}]}]}

Counts hold `unanswered`, `high`, `medium`, `none`, `not_applicable`, `answered` and `total`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from lenses.models import Choice, Pillar, Question
from reviews.models import (
    Answer,
    AnswerRisk,
    ChoiceAnswer,
    ImprovementItem,
    LensReview,
    PillarNote,
    Workload,
)

RISK_KEYS = [risk.lower() for risk in AnswerRisk.values]


def empty_counts() -> dict[str, int]:
    return dict.fromkeys([*RISK_KEYS, "answered", "total"], 0)


def add_counts(total: dict[str, int], more: dict[str, int]) -> None:
    for key, value in more.items():
        total[key] = total.get(key, 0) + value


def total_counts(many: Iterable[dict[str, int]]) -> dict[str, int]:
    total = empty_counts()
    for counts in many:
        add_counts(total, counts)
    return total


def workload_snapshots(workload: Workload) -> list[dict[str, Any]]:
    """Every active lens review of the workload, in a fixed number of queries."""
    reviews = list(
        LensReview.objects.filter(workload=workload, is_active=True).select_related(
            "lens", "lens_version"
        )
    )
    return snapshots_of(reviews)


def snapshots_of(reviews: list[LensReview]) -> list[dict[str, Any]]:
    version_ids = {review.lens_version_id for review in reviews}
    review_ids = [review.pk for review in reviews]
    pillars = defaultdict(list)
    for pillar in Pillar.objects.filter(lens_version__in=version_ids).order_by("order"):
        pillars[pillar.lens_version_id].append(pillar)
    questions = defaultdict(list)
    for question in Question.objects.filter(lens_version__in=version_ids).order_by("order"):
        questions[question.pillar_id].append(question)
    choices = defaultdict(list)
    for choice in Choice.objects.filter(question__lens_version__in=version_ids).order_by("order"):
        choices[choice.question_id].append(choice)
    answers = {
        (answer.lens_review_id, answer.question_id): answer
        for answer in Answer.objects.filter(lens_review__in=review_ids)
    }
    answer_ids = {answer.pk for answer in answers.values()}
    rows = {
        (row.answer_id, row.choice_id): row
        for row in ChoiceAnswer.objects.filter(answer__in=answer_ids)
    }
    notes = {
        (note.lens_review_id, note.pillar_id): note.notes
        for note in PillarNote.objects.filter(lens_review__in=review_ids)
    }
    items = {
        item.answer_id: item
        for item in ImprovementItem.objects.filter(answer__in=answer_ids).select_related("assignee")
    }
    snapshots = []
    for review in reviews:
        total = empty_counts()
        pillar_data = []
        for pillar in pillars[review.lens_version_id]:
            counts = empty_counts()
            question_data = []
            for question in questions[pillar.pk]:
                answer = answers.get((review.pk, question.pk))
                if answer is None:  # a question added to the lens after the review began
                    continue
                counts[answer.risk.lower()] += 1
                question_data.append(
                    _question(question, answer, choices[question.pk], rows, items.get(answer.pk))
                )
            counts["total"] = len(question_data)
            counts["answered"] = counts["total"] - counts["unanswered"]
            add_counts(total, counts)
            pillar_data.append(
                {
                    "id": pillar.pillar_id,
                    "name": pillar.name,
                    "notes": notes.get((review.pk, pillar.pk), ""),
                    "counts": counts,
                    "questions": question_data,
                }
            )
        snapshots.append(
            {
                "lens": {
                    "alias": review.lens.alias,
                    "name": review.lens_version.name,
                    "version": review.lens_version.version,
                },
                "notes": review.notes,
                "counts": total,
                "pillars": pillar_data,
            }
        )
    return snapshots


def _question(
    question: Question,
    answer: Answer,
    choices: list[Choice],
    rows: dict[tuple[int, int], ChoiceAnswer],
    item: ImprovementItem | None,
) -> dict[str, Any]:
    choice_data = []
    for choice in choices:
        row = rows.get((answer.pk, choice.pk))
        choice_data.append(
            {
                "id": choice.choice_id,
                "title": choice.title,
                "is_none": choice.is_none,
                "status": row.status if row else ChoiceAnswer.Status.UNSELECTED,
                "reason": row.reason if row else "NONE",
                "notes": row.notes if row else "",
                "improvement_plan": {
                    "text": choice.improvement_plan_text,
                    "url": choice.improvement_plan_url,
                },
            }
        )
    improvement = None
    if item is not None and item.is_open:
        improvement = {
            "status": item.status,
            "assignee": item.assignee.get_username() if item.assignee else "",
            "due_date": item.due_date.isoformat() if item.due_date else "",
            "comment": item.comment,
        }
    return {
        "id": question.question_id,
        "title": question.title,
        "description": question.description,
        "risk": answer.risk,
        "is_applicable": answer.is_applicable,
        "reason": answer.reason,
        "notes": answer.notes,
        "choices": choice_data,
        "improvement": improvement,
    }


def missing_practices(question: dict[str, Any]) -> list[dict[str, Any]]:
    """The best practices of a snapshot question that are neither followed nor ruled out."""
    return [
        choice
        for choice in question["choices"]
        if not choice["is_none"] and choice["status"] == ChoiceAnswer.Status.UNSELECTED
    ]


def improvement_plan(snapshot: dict[str, Any], pillar_priorities: list[str]) -> list[dict]:
    """Risky questions of a snapshot: high first, then by pillar priority, then lens order."""
    rank = {pillar_id: index for index, pillar_id in enumerate(pillar_priorities)}
    entries = []
    for pillar_order, pillar in enumerate(snapshot["pillars"]):
        for question_order, question in enumerate(pillar["questions"]):
            if question["risk"] not in (AnswerRisk.HIGH, AnswerRisk.MEDIUM):
                continue
            entries.append(
                (
                    (
                        0 if question["risk"] == AnswerRisk.HIGH else 1,
                        rank.get(pillar["id"], len(rank) + pillar_order),
                        pillar_order,
                        question_order,
                    ),
                    {
                        "pillar": pillar,
                        "question": question,
                        "missing": missing_practices(question),
                    },
                )
            )
    return [entry for _, entry in sorted(entries, key=lambda pair: pair[0])]
