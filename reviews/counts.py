"""Kept counts: per lens review and pillar, its questions by risk and its best practices.

Every change of an answer moves the row of its pillar in the answer's own transaction, with
one UPDATE that adds the difference to what the row holds (`high = high + 1`). PostgreSQL
applies two such updates of one row one after the other, so two people ticking in the same
pillar at the same moment both count; reading the row, adding in Python and writing it back
would lose one of them. Changes that replace many answers at once (a new lens review, an
upgrade, a restore) count the review again from its answers instead, with every answer of the
review locked or not yet visible to anyone else.

`manage.py check_counts` recounts everything from the answers and compares (`--repair`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest

from lenses.models import Choice
from reviews.models import Answer, AnswerRisk, ChoiceAnswer, LensReview, PillarCounts
from reviews.scores import Practices, question_practices

RISK_FIELDS = {
    AnswerRisk.UNANSWERED: "unanswered",
    AnswerRisk.HIGH: "high",
    AnswerRisk.MEDIUM: "medium",
    AnswerRisk.NONE: "none",
    AnswerRisk.NOT_APPLICABLE: "not_applicable",
}
PRACTICE_FIELDS = ("followed", "applicable", "answered")
FIELDS = (*RISK_FIELDS.values(), *PRACTICE_FIELDS)
# Lens reviews recounted at a time by recount(): bounds the memory of a full check.
BATCH = 200

Tally = dict[str, int]


def empty_tally() -> Tally:
    return dict.fromkeys(FIELDS, 0)


def answer_tally(risk: str, practices: Practices) -> Tally:
    """What one answer adds to its pillar's row."""
    tally = empty_tally()
    tally[RISK_FIELDS[risk]] = 1
    tally.update(
        followed=practices.followed, applicable=practices.applicable, answered=practices.answered
    )
    return tally


def tally_of(answer: Answer, choices: Iterable[Choice]) -> Tally:
    """One answer's tally from its choices as choices_with_status gives them (with `status`)."""
    practices = question_practices(
        ((choice.is_none, choice.status) for choice in choices),
        is_applicable=answer.is_applicable,
    )
    return answer_tally(answer.risk, practices)


def counts_missing(*, answer: Answer, delta: Tally) -> None:
    """Count the pillar of an answer whose change found no row of kept counts to move by
    `delta` (reviews.answer_writes; data written around the services): from the answers, this
    change included, and insert the row. When another change inserted it first, `delta` goes
    onto that row. The answer's row is locked by the caller.
    """
    key = (answer.lens_review_id, answer.question.pillar_id)
    tally = recount([answer.lens_review_id]).get(key)
    if tally is None:  # no answer of the pillar left (it cannot happen to a changed answer)
        return
    try:
        with transaction.atomic():
            PillarCounts.objects.create(lens_review_id=key[0], pillar_id=key[1], **tally)
    except IntegrityError:
        # Counted by another change at the same moment, without this one: add it.
        PillarCounts.objects.filter(lens_review_id=key[0], pillar_id=key[1]).update(
            **{name: Greatest(F(name) + move, Value(0)) for name, move in delta.items()}
        )


@transaction.atomic
def counts_rebuild(review_ids: Iterable[int]) -> None:
    """Count the reviews again from their answers and replace their rows.

    For changes of many answers at once, made while nobody else can change these answers.
    """
    review_ids = list(review_ids)
    if not review_ids:
        return
    # Delete first: that waits for changes in flight on these rows, which the recount then sees.
    PillarCounts.objects.filter(lens_review_id__in=review_ids).delete()
    fresh = recount(review_ids)
    PillarCounts.objects.bulk_create(
        (
            PillarCounts(lens_review_id=review_id, pillar_id=pillar_id, **tally)
            for (review_id, pillar_id), tally in fresh.items()
        ),
        batch_size=1000,
    )


def recount(review_ids: Iterable[int] | None = None) -> dict[tuple[int, int], Tally]:
    """{(lens review id, pillar id): tally} counted from the answers; every review for None."""
    if review_ids is None:
        review_ids = LensReview.objects.order_by("pk").values_list("pk", flat=True)
    counted: dict[tuple[int, int], Tally] = {}
    for batch in _batches(list(review_ids), BATCH):
        counted.update(_recount_batch(batch))
    return counted


def _recount_batch(review_ids: list[int]) -> dict[tuple[int, int], Tally]:
    """Three queries: the answers, their questions' choices and their choice rows."""
    answers = list(
        Answer.objects.filter(lens_review_id__in=review_ids)
        .order_by()
        .values_list(
            "pk", "lens_review_id", "question_id", "question__pillar_id", "risk", "is_applicable"
        )
    )
    choices: dict[int, list[tuple[int, bool]]] = {}
    question_ids = {answer[2] for answer in answers}
    for pk, question_id, is_none in (
        Choice.objects.filter(question_id__in=question_ids)
        .order_by("order")
        .values_list("pk", "question_id", "is_none")
    ):
        choices.setdefault(question_id, []).append((pk, is_none))
    statuses = {
        (answer_id, choice_id): status
        for answer_id, choice_id, status in ChoiceAnswer.objects.filter(
            answer__lens_review_id__in=review_ids
        ).values_list("answer_id", "choice_id", "status")
    }
    counted: dict[tuple[int, int], Tally] = {}
    for pk, review_id, question_id, pillar_id, risk, is_applicable in answers:
        practices = question_practices(
            (
                (is_none, statuses.get((pk, choice_pk)))
                for choice_pk, is_none in choices.get(question_id, [])
            ),
            is_applicable=is_applicable,
        )
        tally = counted.setdefault((review_id, pillar_id), empty_tally())
        for name, value in answer_tally(risk, practices).items():
            tally[name] += value
    return counted


@dataclass(frozen=True)
class Difference:
    """A kept number that is not what the answers add up to."""

    review_id: int
    pillar_id: int
    field: str
    kept: int | None  # None: no kept row
    counted: int | None  # None: no answers in that pillar


def differences(review_ids: Iterable[int] | None = None) -> list[Difference]:
    """Every kept number that differs from a recount (all reviews for None)."""
    counted = recount(review_ids)
    rows = PillarCounts.objects.order_by("lens_review_id", "pillar_id")
    if review_ids is not None:
        rows = rows.filter(lens_review_id__in=list(review_ids))
    kept = {
        (review_id, pillar_id): dict(zip(FIELDS, numbers, strict=True))
        for review_id, pillar_id, *numbers in rows.values_list(
            "lens_review_id", "pillar_id", *FIELDS
        )
    }
    found = []
    for key in sorted(set(counted) | set(kept)):
        mine, theirs = kept.get(key), counted.get(key)
        for name in FIELDS:
            a = None if mine is None else mine[name]
            b = None if theirs is None else theirs[name]
            if a != b:
                found.append(Difference(key[0], key[1], name, a, b))
    return found


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def differences_consistent(review_ids: list[int]) -> list[Difference]:
    """differences() of these reviews read from one snapshot of the database.

    On PostgreSQL the recount and the kept rows are read in one REPEATABLE READ transaction, so
    a tick committed between the two reads cannot look like a difference.
    """
    # Only a transaction of its own can change its isolation level (not one inside another).
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return differences(review_ids)


@transaction.atomic
def counts_repair(review_id: int) -> None:
    """Count one review again with its answers locked, so no tick lands in between.

    The review's version moves, as with every change of what it shows: pages that poll it and
    the dashboard's cache (reviews.dashboard.slice_stamps) see the repaired counts.
    """
    list(
        Answer.objects.select_for_update()
        .filter(lens_review_id=review_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    counts_rebuild([review_id])
    LensReview.objects.filter(pk=review_id).update(version=F("version") + 1)
