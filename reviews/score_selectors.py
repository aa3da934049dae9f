"""Where the counts behind a score come from: live answers in the database, or frozen snapshots.

The arithmetic lives in reviews.scores; this module only gathers, per lens review, the
`Practices` of each pillar, keyed by the pillar id of the lens file ("security"). Live answers
and a milestone's frozen copy give the same keys and the same numbers, so a milestone saved now
scores what the overview shows now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import QuerySet

from lenses.models import Choice
from reviews.models import Answer, LensReview
from reviews.scores import Practices, mean_score, question_practices

# Per pillar id: the pillar's counts.
PillarPractices = dict[str, Practices]


def review_practices(
    reviews: list[LensReview] | QuerySet[LensReview],
) -> dict[int, PillarPractices]:
    """Per lens review pk: its pillars' Practices (two queries, however many reviews).

    `reviews` is a list of lens reviews or a QuerySet of them (used as a subquery, so the
    reviews themselves are not read). Every question of a review has an answer row from the
    start (lens_review_add and upgrades create them), so unanswered questions count too. The
    answers and their choice rows come in one SELECT, so they belong to one moment; the choices
    of a lens version never change once it is reviewed.
    """
    if isinstance(reviews, QuerySet):
        review_ids: Any = reviews.values("pk")
        versions: Any = reviews.values("lens_version")
    else:
        if not reviews:
            return {}
        review_ids = [review.pk for review in reviews]
        versions = {review.lens_version_id for review in reviews}
    choices_of: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    for pk, question_id, is_none in Choice.objects.filter(
        question__lens_version__in=versions
    ).values_list("pk", "question_id", "is_none"):
        choices_of[question_id].append((pk, is_none))
    answers: dict[tuple[int, int], tuple[str, bool, dict[int, str]]] = {}
    for review_id, question_id, pillar_id, is_applicable, choice_id, status in (
        Answer.objects.filter(lens_review__in=review_ids)
        .order_by()
        .values_list(
            "lens_review_id",
            "question_id",
            "question__pillar__pillar_id",
            "is_applicable",
            "choice_answers__choice_id",
            "choice_answers__status",
        )
    ):
        _, _, statuses = answers.setdefault(
            (review_id, question_id), (pillar_id, is_applicable, {})
        )
        if choice_id is not None:
            statuses[choice_id] = status
    result: dict[int, PillarPractices] = defaultdict(dict)
    for (review_id, question_id), (pillar_id, is_applicable, statuses) in answers.items():
        practices = question_practices(
            ((is_none, statuses.get(pk)) for pk, is_none in choices_of[question_id]),
            is_applicable=is_applicable,
        )
        pillars = result[review_id]
        pillars[pillar_id] = pillars.get(pillar_id, Practices()) + practices
    return dict(result)


def snapshot_practices(snapshot: Mapping[str, Any]) -> PillarPractices:
    """A frozen lens review's pillars' Practices, from the choices it froze (no query)."""
    pillars: PillarPractices = {}
    for pillar in snapshot.get("pillars", []):
        total = Practices()
        for question in pillar.get("questions", []):
            total += snapshot_question_practices(question)
        pillars[pillar.get("id", "")] = total
    return pillars


def snapshot_question_practices(question: Mapping[str, Any]) -> Practices:
    """One frozen question's Practices."""
    return question_practices(
        ((bool(c.get("is_none")), c.get("status")) for c in question.get("choices", [])),
        is_applicable=bool(question.get("is_applicable", True)),
    )


def lens_score(pillars: PillarPractices) -> float | None:
    """A lens review's score: the mean of its pillars' scores."""
    return mean_score(practices.score for practices in pillars.values())


def snapshots_score(snapshots: Iterable[Mapping[str, Any]]) -> float | None:
    """A workload's score from the snapshots of its lens reviews (now or at a milestone)."""
    return mean_score(lens_score(snapshot_practices(snapshot)) for snapshot in snapshots)


def pillar_score(pillars: PillarPractices, pillar_id: str) -> float | None:
    """One pillar's score; None for a pillar the review does not have."""
    practices = pillars.get(pillar_id)
    return practices.score if practices is not None else None
