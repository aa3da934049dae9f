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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from lenses.models import Choice, Pillar, Question
from reviews.models import (
    Answer,
    AnswerRisk,
    ChoiceAnswer,
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


@contextmanager
def one_state() -> Iterator[None]:
    """A transaction whose reads all see the database as it was at one moment.

    For reads spread over many queries, such as a workload export. PostgreSQL's default
    isolation (READ COMMITTED) gives each statement a snapshot of its own, so a tick committed
    between the answers query and the choices query would mix in; REPEATABLE READ gives the
    whole transaction the snapshot of its first query. That level can only be set by the first
    statement of a transaction, so this sets it only when it opens the transaction itself: with
    no atomic block active, `atomic()` opens a real transaction (psycopg sends BEGIN lazily,
    with the first query, so ours comes first), whereas inside a caller's block it would be a
    savepoint in a transaction that may have read already, and SET TRANSACTION would fail
    there. A caller that holds a transaction keeps its own level and is responsible for it.
    READ ONLY makes a stray write inside fail rather than risk a serialisation error.
    SQLite needs nothing more: its transactions read one state of the file until they end.
    """
    opens_transaction = not connection.in_atomic_block
    with transaction.atomic():
        if opens_transaction and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


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
    answers = _answers_with_choices(review_ids)
    notes = {
        (note.lens_review_id, note.pillar_id): note.notes
        for note in PillarNote.objects.filter(lens_review__in=review_ids)
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
                question_data.append(_question(question, answer, choices[question.pk]))
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


@dataclass
class AnswerState:
    """An answer as read by `_answers_with_choices`, with its choice rows and open item."""

    risk: str
    is_applicable: bool
    reason: str
    notes: str
    choices: dict[int, tuple[str, str, str]] = field(default_factory=dict)
    improvement: dict[str, str] | None = None


def answer_states(review: LensReview, question_pks: list[int]) -> dict[int, AnswerState]:
    """Per question pk: the answers to some questions of a live lens review (one SELECT)."""
    answers = _answers_with_choices([review.pk], question_pks)
    return {question_pk: answer for (_, question_pk), answer in answers.items()}


def _answers_with_choices(
    review_ids: list[int], question_pks: list[int] | None = None
) -> dict[tuple[int, int], AnswerState]:
    """Per (lens review pk, question pk): the answer, its choice rows and its improvement item.

    One SELECT on purpose. Each change of an answer writes the answer's risk, its choice rows
    and its improvement item in one transaction, so only a read that sees all three at the same
    moment can be trusted to agree with itself. Under PostgreSQL's default isolation (READ
    COMMITTED) every statement sees the database as of its own start: with the answers read by
    one query and the choices by the next, a tick committed in between mixed in, and milestones
    froze a risk that contradicted their own ticks. One statement is one snapshot on every
    database and at every isolation level, inside the caller's transaction or not, so the
    answers, choices and items below always belong together.
    """
    username = f"improvement__assignee__{get_user_model().USERNAME_FIELD}"
    answers_of = Answer.objects.filter(lens_review__in=review_ids)
    if question_pks is not None:
        answers_of = answers_of.filter(question__in=question_pks)
    rows = answers_of.values_list(
        "lens_review_id",
        "question_id",
        "risk",
        "is_applicable",
        "reason",
        "notes",
        "choice_answers__choice_id",
        "choice_answers__status",
        "choice_answers__reason",
        "choice_answers__notes",
        "improvement__is_open",
        "improvement__status",
        username,
        "improvement__due_date",
        "improvement__comment",
    )
    answers: dict[tuple[int, int], AnswerState] = {}
    for (
        review_id,
        question_id,
        risk,
        is_applicable,
        reason,
        notes,
        choice_id,
        status,
        choice_reason,
        choice_notes,
        item_open,
        item_status,
        assignee,
        due_date,
        comment,
    ) in rows:
        answer = answers.get((review_id, question_id))
        if answer is None:
            answer = answers[review_id, question_id] = AnswerState(
                risk, is_applicable, reason, notes
            )
            if item_open:
                answer.improvement = {
                    "status": item_status,
                    "assignee": assignee or "",
                    "due_date": due_date.isoformat() if due_date else "",
                    "comment": comment,
                }
        if choice_id is not None:
            answer.choices[choice_id] = (status, choice_reason, choice_notes)
    return answers


def _question(question: Question, answer: AnswerState, choices: list[Choice]) -> dict[str, Any]:
    choice_data = []
    for choice in choices:
        status, reason, notes = answer.choices.get(
            choice.pk, (ChoiceAnswer.Status.UNSELECTED, "NONE", "")
        )
        choice_data.append(
            {
                "id": choice.choice_id,
                "title": choice.title,
                "is_none": choice.is_none,
                "status": status,
                "reason": reason,
                "notes": notes,
                "improvement_plan": {
                    "text": choice.improvement_plan_text,
                    "url": choice.improvement_plan_url,
                },
            }
        )
    return {
        "id": question.question_id,
        "title": question.title,
        "description": question.description,
        "risk": answer.risk,
        "is_applicable": answer.is_applicable,
        "reason": answer.reason,
        "notes": answer.notes,
        "choices": choice_data,
        "improvement": answer.improvement,
    }


def missing_practices(question: dict[str, Any]) -> list[dict[str, Any]]:
    """The best practices of a snapshot question that are neither followed nor ruled out."""
    return [
        choice
        for choice in question["choices"]
        if not choice["is_none"] and choice["status"] == ChoiceAnswer.Status.UNSELECTED
    ]


def improvement_plan(
    snapshot: dict[str, Any], pillar_priorities: list[str], prioritised: set[str] = frozenset()
) -> list[dict]:
    """Risky questions of a snapshot: those the workload's profile prioritises (question ids
    in `prioritised`) first, then high before medium, then by pillar priority, then lens
    order. Each entry says whether it is `prioritised`."""
    rank = {pillar_id: index for index, pillar_id in enumerate(pillar_priorities)}
    entries = []
    for pillar_order, pillar in enumerate(snapshot["pillars"]):
        for question_order, question in enumerate(pillar["questions"]):
            if question["risk"] not in (AnswerRisk.HIGH, AnswerRisk.MEDIUM):
                continue
            entries.append(
                (
                    (
                        0 if question["id"] in prioritised else 1,
                        0 if question["risk"] == AnswerRisk.HIGH else 1,
                        rank.get(pillar["id"], len(rank) + pillar_order),
                        pillar_order,
                        question_order,
                    ),
                    {
                        "pillar": pillar,
                        "question": question,
                        "missing": missing_practices(question),
                        "prioritised": question["id"] in prioritised,
                    },
                )
            )
    return [entry for _, entry in sorted(entries, key=lambda pair: pair[0])]
