"""Moving a lens review to a newer version of its lens, as the AWS tool upgrades a review.

Answers carry over by id: a question that keeps its id keeps its answer (applicability, reason,
notes) and the status, reason and notes of every choice that still exists; ticks on choices that
are gone are dropped and written into the question's history. New questions start unanswered;
questions that are gone leave the live review, their answers staying in the milestone that every
upgrade saves first. Risk follows the new version's rules, improvement items follow the risk.

`lens_review_upgrade_plan` says what an upgrade would do without changing anything (the
confirmation page and the command's dry run show it); `lens_review_upgrade` does it in one
transaction. Both read in a number of queries that does not grow with the answers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from lenses.models import LensVersion, Pillar, Question
from lenses.services import lens_version_content
from reviews.activity import Action, activity_record
from reviews.counts import counts_rebuild
from reviews.errors import CONFLICT, DomainError
from reviews.improvements import improvements_sync
from reviews.milestones import MilestoneError, milestone_create
from reviews.models import (
    Answer,
    AnswerEvent,
    AnswerRisk,
    ChoiceAnswer,
    LensReview,
    Milestone,
    PillarNote,
    Workload,
)

SELECTED = ChoiceAnswer.Status.SELECTED
KEPT = (SELECTED, ChoiceAnswer.Status.NOT_APPLICABLE)


class UpgradeError(DomainError):
    """An upgrade that cannot be made, with a message for the person who asked."""


@dataclass
class LostChoice:
    choice_id: str
    title: str
    status: str  # SELECTED or NOT_APPLICABLE


@dataclass
class QuestionOutcome:
    """What the upgrade does to one question of this review."""

    question_id: str
    title: str
    pillar: str
    risk_before: str
    risk_after: str
    lost: list[LostChoice] = field(default_factory=list)

    @property
    def risk_changes(self) -> bool:
        return self.risk_before != self.risk_after


@dataclass
class UpgradePlan:
    lens_review: LensReview
    target: LensVersion
    kept: list[QuestionOutcome]  # in both versions, in the new version's order
    added: list[QuestionOutcome]  # new questions: they start unanswered
    removed: list[QuestionOutcome]  # gone from the new version

    @property
    def losing_choices(self) -> list[QuestionOutcome]:
        return [outcome for outcome in self.kept if outcome.lost]

    @property
    def risk_changes(self) -> list[QuestionOutcome]:
        return [outcome for outcome in self.kept if outcome.risk_changes]

    @property
    def removed_answered(self) -> list[QuestionOutcome]:
        return [o for o in self.removed if o.risk_before != AnswerRisk.UNANSWERED]


@dataclass
class UpgradeResult:
    plan: UpgradePlan
    milestone: Milestone


def newer_versions(lens_review: LensReview) -> list[LensVersion]:
    """Published versions of the review's lens newer than the one it reviews, newest first."""
    current = lens_review.lens_version
    return list(
        LensVersion.objects.filter(
            lens_id=lens_review.lens_id,
            status=LensVersion.Status.PUBLISHED,
            published_at__gt=current.published_at or current.created_at,
        ).order_by("-published_at", "-pk")
    )


def default_milestone_name(lens_review: LensReview, target: LensVersion) -> str:
    return f"Before upgrade to {lens_review.lens.name} {target.label}"[:100]


def _risk(question: Question, is_applicable: bool, selected: set[str]) -> str:
    if not is_applicable:
        return AnswerRisk.NOT_APPLICABLE
    if not selected:
        return AnswerRisk.UNANSWERED
    return question.risk_for(selected)


def _check_target(lens_review: LensReview, target: LensVersion) -> None:
    if target.lens_id != lens_review.lens_id:
        raise UpgradeError("That version belongs to another lens.")
    if target.pk == lens_review.lens_version_id:
        raise UpgradeError(f"This review is on version {target.label} already.", CONFLICT)
    if target.status != LensVersion.Status.PUBLISHED:
        raise UpgradeError(
            f"Version {target.label} is not published; only published versions are reviewed."
        )
    if target not in newer_versions(lens_review):
        raise UpgradeError(
            f"Version {target.label} is older than {lens_review.lens_version.label}, the version "
            "this review is on; a review only moves forward."
        )


@dataclass
class _State:
    """The review's answers and the target version's content, read once."""

    answers: list[Answer]
    rows: dict[int, list[ChoiceAnswer]]
    targets: dict[str, Question]  # question_id -> question of the target version
    target_order: list[Question]


def _read(lens_review: LensReview, target: LensVersion) -> _State:
    answers = list(
        Answer.objects.filter(lens_review=lens_review)
        .select_related("question__pillar")
        .order_by("question__pillar__order", "question__order")
    )
    rows: dict[int, list[ChoiceAnswer]] = defaultdict(list)
    for row in ChoiceAnswer.objects.filter(answer__lens_review=lens_review).select_related(
        "choice"
    ):
        rows[row.answer_id].append(row)
    order = [question for pillar in lens_version_content(target) for question in _questions(pillar)]
    return _State(answers, rows, {q.question_id: q for q in order}, order)


def _questions(pillar: Pillar) -> list[Question]:
    questions = list(pillar.questions.all())
    for question in questions:
        question.pillar = pillar  # spare a query per question for its pillar's name
    return questions


def _plan(lens_review: LensReview, target: LensVersion, state: _State) -> UpgradePlan:
    by_question = {answer.question.question_id: answer for answer in state.answers}
    kept, removed = {}, []
    for answer in state.answers:
        rows = state.rows.get(answer.pk, [])
        selected = {
            row.choice.choice_id for row in rows if row.status == ChoiceAnswer.Status.SELECTED
        }
        new_question = state.targets.get(answer.question.question_id)
        if new_question is None:
            removed.append(
                QuestionOutcome(
                    answer.question.question_id,
                    answer.question.title,
                    answer.question.pillar.name,
                    answer.risk,
                    "",
                )
            )
            continue
        existing = {choice.choice_id for choice in new_question.choices.all()}
        lost = [
            LostChoice(row.choice.choice_id, row.choice.title, row.status)
            for row in rows
            if row.status in KEPT and row.choice.choice_id not in existing
        ]
        kept[answer.question.question_id] = QuestionOutcome(
            new_question.question_id,
            new_question.title,
            new_question.pillar.name,
            answer.risk,
            _risk(new_question, answer.is_applicable, selected & existing),
            lost,
        )
    added = [
        QuestionOutcome(
            q.question_id, q.title, q.pillar.name, AnswerRisk.UNANSWERED, AnswerRisk.UNANSWERED
        )
        for q in state.target_order
        if q.question_id not in by_question
    ]
    ordered = [kept[q.question_id] for q in state.target_order if q.question_id in kept]
    return UpgradePlan(lens_review, target, ordered, added, removed)


def lens_review_upgrade_plan(*, lens_review: LensReview, target: LensVersion) -> UpgradePlan:
    """What upgrading `lens_review` to `target` would do, computed from the stored answers."""
    _check_target(lens_review, target)
    return _plan(lens_review, target, _read(lens_review, target))


@transaction.atomic
def lens_review_upgrade(
    *,
    lens_review: LensReview,
    target: LensVersion,
    milestone_name: str,
    user: AbstractBaseUser | None,
) -> UpgradeResult:
    """Save a milestone, then move the review and all its answers to `target`.

    Every answer row of the review is locked first: a tick already in flight is applied before
    the upgrade reads anything, and a tick sent meanwhile waits and then finds its answer moved
    on (reviews.services refuses it with a message instead of writing to the old version).
    """
    _check_target(lens_review, target)
    # Answers before the review row, in the order ticks take them: a tick locks its answer and
    # then updates the review, so taking the review first could deadlock with it.
    locked = Answer.objects.select_for_update().filter(lens_review=lens_review).order_by("pk")
    list(locked.values_list("pk", flat=True))
    review = (
        LensReview.objects.select_for_update()
        .select_related("lens", "lens_version", "workload")
        .get(pk=lens_review.pk)
    )
    _check_target(review, target)  # another upgrade may have been first
    milestone = milestone_create(workload=review.workload, name=milestone_name, user=user)
    state = _read(review, target)
    plan = _plan(review, target, state)
    outcomes = {o.question_id: o for o in plan.kept}
    new_choices = {
        (choice.question_id, choice.choice_id): choice
        for question in state.target_order
        for choice in question.choices.all()
    }
    moved, dropped, events, synced = [], [], [], []
    for answer in state.answers:
        question_id = answer.question.question_id
        new_question = state.targets.get(question_id)
        if new_question is None:
            continue
        outcome = outcomes[question_id]
        for row in state.rows.get(answer.pk, []):
            choice = new_choices.get((new_question.pk, row.choice.choice_id))
            if choice is None:
                dropped.append(row.pk)
            else:
                row.choice = choice
                moved.append(row)
        changes = [
            {
                "field": "lens_version",
                "before": review.lens_version.label,
                "after": target.label,
            }
        ]
        changes += [
            {
                "field": "choice",
                "choice": lost.choice_id,
                "title": lost.title,
                "before": lost.status,
                "after": "REMOVED_FROM_LENS",
            }
            for lost in outcome.lost
        ]
        if outcome.risk_changes:
            changes.append(
                {"field": "risk", "before": outcome.risk_before, "after": outcome.risk_after}
            )
        answer.question = new_question
        answer.risk = outcome.risk_after
        answer.version += 1
        answer.updated_by = user
        events.append(AnswerEvent(answer=answer, user=user, changes=changes))
        if outcome.risk_changes:
            synced.append((answer, outcome.risk_before))
    gone = [a.pk for a in state.answers if a.question.question_id not in state.targets]
    # Choice rows first: the old choices they point to stay (a published version never changes).
    ChoiceAnswer.objects.filter(pk__in=dropped).delete()
    ChoiceAnswer.objects.bulk_update(moved, ["choice"])
    Answer.objects.filter(pk__in=gone).delete()
    carried = [a for a in state.answers if a.pk not in set(gone)]
    now = timezone.now()
    for answer in carried:
        answer.updated_at = now
    Answer.objects.bulk_update(carried, ["question", "risk", "version", "updated_by", "updated_at"])
    AnswerEvent.objects.bulk_create(events)
    kept_ids = {q.question_id for q in state.target_order} & {
        a.question.question_id for a in carried
    }
    Answer.objects.bulk_create(
        Answer(lens_review=review, question=q)
        for q in state.target_order
        if q.question_id not in kept_ids
    )
    _move_pillar_notes(review, target)
    # Every answer of the review is locked: counting it again cannot miss a tick.
    counts_rebuild([review.pk])
    improvements_sync(changes=synced, user=user)
    LensReview.objects.filter(pk=review.pk).update(
        lens_version=target,
        version=F("version") + 1,
        risk_version=F("risk_version") + 1,
        updated_at=now,
    )
    activity_record(
        workload=review.workload,
        user=user,
        action=Action.LENS_UPGRADED,
        lens=review.lens.name,
        **{"from": review.lens_version.label, "to": target.label},
    )
    review.lens_version = target
    plan.lens_review = review
    return UpgradeResult(plan=plan, milestone=milestone)


def _move_pillar_notes(review: LensReview, target: LensVersion) -> None:
    """Pillar notes follow their pillar id; notes of a pillar that is gone stay in the milestone."""
    new_pillars = dict(target.pillars.values_list("pillar_id", "pk"))
    notes = list(PillarNote.objects.filter(lens_review=review).select_related("pillar"))
    keep = [note for note in notes if note.pillar.pillar_id in new_pillars]
    PillarNote.objects.filter(pk__in=[n.pk for n in notes if n not in keep]).delete()
    for note in keep:
        note.pillar_id = new_pillars[note.pillar.pillar_id]
    PillarNote.objects.bulk_update(keep, ["pillar"])


@dataclass
class UpgradeSummary:
    """What upgrading one workload's review did, or why it did not happen."""

    lens_review: LensReview
    before: str
    plan: UpgradePlan | None = None
    problem: str = ""


def lens_reviews_upgrade_every(
    *,
    target: LensVersion,
    user: AbstractBaseUser | None,
    milestone_name: str | None = None,
    dry_run: bool = False,
    workload: Workload | None = None,
) -> list[UpgradeSummary]:
    """Upgrade every active review of `target`'s lens (in `workload` only, if given) that is on
    another version, each in a transaction of its own: one that cannot move (a taken milestone
    name) stops no other."""
    reviews = LensReview.objects.filter(lens_id=target.lens_id, is_active=True)
    if workload is not None:
        reviews = reviews.filter(workload=workload)
    reviews = (
        reviews.exclude(lens_version=target)
        .select_related("workload", "lens", "lens_version")
        .order_by("workload__name")
    )
    summaries = []
    for review in reviews:
        summary = UpgradeSummary(review, review.lens_version.label)
        if target not in newer_versions(review):
            summary.problem = f"on {summary.before}, which is not older than {target.label}"
        else:
            try:
                if dry_run:
                    summary.plan = lens_review_upgrade_plan(lens_review=review, target=target)
                else:
                    summary.plan = lens_review_upgrade(
                        lens_review=review,
                        target=target,
                        milestone_name=milestone_name or default_milestone_name(review, target),
                        user=user,
                    ).plan
            except (UpgradeError, MilestoneError) as exc:
                summary.problem = str(exc)
        summaries.append(summary)
    return summaries


@dataclass
class UpgradeNotice:
    """A newer version of a review's lens, for the pages that tell members about it."""

    lens_review: LensReview
    target: LensVersion

    @property
    def changed_questions(self) -> int:
        """Questions new, removed or changed since the review's version (cached: a version's
        content never changes)."""
        # Keyed by content, not by row: a row id can come back with other content (a test
        # database rolled back, a lens deleted and imported again).
        key = f"lens-difference-count:{self.lens_review.lens_version.digest}:{self.target.digest}"
        count = cache.get(key)
        if count is None:
            from lenses.differences import UNCHANGED, lens_version_difference

            difference = lens_version_difference(
                base=self.lens_review.lens_version, target=self.target
            )
            count = sum(
                n for status, n in difference.question_counts().items() if status != UNCHANGED
            )
            cache.set(key, count, timeout=None)
        return count


def lens_reviews_behind(user: AbstractBaseUser) -> QuerySet[LensReview]:
    """The active lens reviews of the user's workloads that a newer published version of their
    lens could upgrade: the reviews upgrade_notices has a notice for."""
    newer = LensVersion.objects.filter(
        lens_id=OuterRef("lens_id"),
        status=LensVersion.Status.PUBLISHED,
        published_at__gt=Coalesce(
            OuterRef("lens_version__published_at"), OuterRef("lens_version__created_at")
        ),
    )
    return LensReview.objects.filter(
        is_active=True, workload__in=Workload.objects.for_user(user)
    ).filter(Exists(newer))


def upgrade_notices(lens_reviews: list[LensReview]) -> dict[int, UpgradeNotice]:
    """Per lens review pk: the newest published version it could move to (one query)."""
    if not lens_reviews:
        return {}
    newest: dict[int, LensVersion] = {}
    published = LensVersion.objects.filter(
        lens_id__in={review.lens_id for review in lens_reviews},
        status=LensVersion.Status.PUBLISHED,
    ).order_by("lens_id", "-published_at", "-pk")
    for version in published:
        newest.setdefault(version.lens_id, version)
    notices = {}
    for review in lens_reviews:
        target = newest.get(review.lens_id)
        current = review.lens_version
        if target is None or target.pk == current.pk:
            continue
        if target.published_at and target.published_at > (
            current.published_at or current.created_at
        ):
            notices[review.pk] = UpgradeNotice(review, target)
    return notices
