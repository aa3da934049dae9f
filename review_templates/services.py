"""Review template workflows: create, share, answer, apply to workloads, propagate changes.

Applying and propagating lock the answers' rows as a person's change does, then write through
reviews.services.answers_from_template, which keeps the history, risk, improvement items and
review counters as answer_update does, for many answers in a fixed number of queries. A tick
that lands during a propagation is never lost: it waits for the row, or the propagation,
finding the answer changed, leaves it alone and lists it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F, Prefetch
from django.utils import timezone

from lenses.models import Choice, Lens, Question
from review_templates.fingerprints import blank_fingerprint, state_fingerprint
from review_templates.models import (
    Propagation,
    ReviewTemplate,
    TemplateAnswer,
    TemplateLens,
    TemplateMember,
    TemplateUse,
)
from reviews.errors import CONFLICT, NOT_FOUND, DomainError
from reviews.models import (
    CHOICE_NOTES_MAX,
    SHARE_ROLES,
    Answer,
    AnswerRisk,
    ChoiceAnswer,
    LensReview,
    Reason,
    Role,
    Workload,
    name_key,
)
from reviews.services import (
    TemplateState,
    answers_from_template,
    check_notes,
    latest_published_version,
    workload_add_lens,
    workload_create,
)

NAME_TAKEN = "A template with this name exists already (case and spaces do not count)."
NONE_EXCLUSIVE = "“None of these” cannot be selected together with another choice."


class TemplateError(DomainError):
    """A template change that cannot be made, with a message for the person who asked."""


# -- templates and their lenses ------------------------------------------------------------------


def _check_properties(name: str, description: str, *, exclude_pk: int | None = None) -> None:
    key = name_key(name)
    if len(key) < 3:
        raise TemplateError("A name has at least 3 characters besides spaces.", field="name")
    if len(name) > 100:
        raise TemplateError("A name is at most 100 characters.", field="name")
    if len(description) > 250:
        raise TemplateError("A description is at most 250 characters.", field="description")
    for label, value in (("name", name), ("description", description)):
        if "\x00" in value:
            raise TemplateError(f"The {label} contains a NUL character.", field=label)
    if ReviewTemplate.objects.filter(name_key=key).exclude(pk=exclude_pk).exists():
        raise TemplateError(NAME_TAKEN, CONFLICT, field="name")


@transaction.atomic
def template_create(
    *, owner: AbstractBaseUser, name: str, description: str = "", lenses: list[Lens]
) -> ReviewTemplate:
    """A template owned by `owner` answering `lenses` (one or more), with no answers yet."""
    _check_properties(name, description)
    if not lenses:
        raise TemplateError("A template answers at least one lens.", field="lenses")
    template = ReviewTemplate(owner=owner, name=name, description=description)
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:
        raise TemplateError(NAME_TAKEN, CONFLICT, field="name") from None
    TemplateMember.objects.create(template=template, user=owner, role=Role.OWNER)
    for lens in lenses:
        template_add_lens(template=template, lens=lens)
    return template


@transaction.atomic
def template_add_lens(*, template: ReviewTemplate, lens: Lens) -> TemplateLens:
    existing = template.lenses.filter(lens=lens).first()
    if existing is not None:
        return existing
    version = latest_published_version(lens)
    if version is None:
        raise TemplateError(f"“{lens.name}” has no published version.", field="lenses")
    return TemplateLens.objects.create(template=template, lens=lens, lens_version=version)


@transaction.atomic
def template_remove_lens(*, template: ReviewTemplate, lens: Lens) -> None:
    """Stop answering `lens` (its answers go; workloads keep what they were given)."""
    template_lens = template.lenses.filter(lens=lens).first()
    if template_lens is None:
        raise TemplateError(f"The template does not answer “{lens.name}”.", NOT_FOUND)
    if template.lenses.count() == 1:
        raise TemplateError("A template answers at least one lens.", field="lenses")
    template_lens.delete()
    _bump(template.pk)


@transaction.atomic
def template_notes_update(*, template: ReviewTemplate, notes: str) -> None:
    check_notes(notes, field="notes")
    ReviewTemplate.objects.filter(pk=template.pk).update(notes=notes, updated_at=timezone.now())
    template.notes = notes


@transaction.atomic
def template_lens_notes_update(*, template_lens: TemplateLens, notes: str) -> None:
    check_notes(notes, field="notes")
    TemplateLens.objects.filter(pk=template_lens.pk).update(notes=notes)
    template_lens.notes = notes


@transaction.atomic
def template_update(
    *, template: ReviewTemplate, name: str, description: str, user: AbstractBaseUser
) -> ReviewTemplate:
    _check_properties(name, description, exclude_pk=template.pk)
    template.name, template.description = name, description
    template.save(update_fields=["name", "name_key", "description", "updated_at"])
    return template


@transaction.atomic
def template_delete(*, template: ReviewTemplate) -> None:
    """Delete the template; the answers it gave stay in the workloads, without its name."""
    template.delete()


# -- sharing -------------------------------------------------------------------------------------


@transaction.atomic
def template_share(
    *, template: ReviewTemplate, user: AbstractBaseUser, role: str
) -> TemplateMember:
    """Share as CONTRIBUTOR or READONLY, or change the role of an existing share."""
    if role not in SHARE_ROLES:
        raise TemplateError("A template is shared as contributor or read-only.", field="role")
    if user.pk == template.owner_id:
        raise TemplateError(f"{user.get_username()} owns this template already.", CONFLICT)
    member, _ = TemplateMember.objects.update_or_create(
        template=template, user=user, defaults={"role": role}
    )
    return member


@transaction.atomic
def template_unshare(*, template: ReviewTemplate, user: AbstractBaseUser) -> None:
    if user.pk == template.owner_id:
        raise TemplateError("The owner of a template cannot be removed.")
    deleted, _ = TemplateMember.objects.filter(template=template, user=user).delete()
    if not deleted:
        raise TemplateError(f"The template is not shared with {user.get_username()}.", NOT_FOUND)


# -- answering -----------------------------------------------------------------------------------


@dataclass
class ChoiceSetting:
    status: str
    reason: str = Reason.NONE
    notes: str = ""


def _checked_choices(question: Question, choices: dict[str, ChoiceSetting]) -> dict[str, dict]:
    """The choices as stored, or a TemplateError naming the first problem."""
    known = {c.choice_id: c for c in question.choices.all()}
    stored: dict[str, dict] = {}
    for choice_id, setting in choices.items():
        if choice_id not in known:
            raise TemplateError(f"“{choice_id}” is not a choice of this question.", field="choices")
        if setting.status not in ChoiceAnswer.Status.values:
            raise TemplateError(f"Unknown choice status {setting.status!r}.", field="choices")
        if setting.status == ChoiceAnswer.Status.UNSELECTED:
            continue
        reason, notes = Reason.NONE, ""
        if setting.status == ChoiceAnswer.Status.NOT_APPLICABLE:
            if setting.reason not in Reason.values:
                raise TemplateError(f"Unknown reason {setting.reason!r}.", field="choices")
            check_notes(
                setting.notes, label="Choice notes", limit=CHOICE_NOTES_MAX, field="choices"
            )
            reason, notes = setting.reason, setting.notes
        stored[choice_id] = {"status": setting.status, "reason": reason, "notes": notes}
    ticked = {c for c, s in stored.items() if s["status"] == ChoiceAnswer.Status.SELECTED}
    nones = {c for c in ticked if known[c].is_none}
    if nones and ticked - nones:
        raise TemplateError(NONE_EXCLUSIVE, field="choices")
    return stored


@transaction.atomic
def template_answer_set(
    *,
    template_lens: TemplateLens,
    question: Question,
    user: AbstractBaseUser,
    choices: dict[str, ChoiceSetting],
    is_applicable: bool = True,
    reason: str = Reason.NONE,
    notes: str = "",
) -> TemplateAnswer:
    """Set the template's answer to `question` (all of it: choices not named are unselected)."""
    if question.pillar.lens_version_id != template_lens.lens_version_id:
        raise TemplateError("This question is not in the template's lens.", NOT_FOUND)
    if reason not in Reason.values:
        raise TemplateError(f"Unknown reason {reason!r}.", field="reason")
    check_notes(notes, field="notes")
    stored = _checked_choices(question, choices)
    if not is_applicable:
        stored = {}  # a question that does not apply has no choices to set
    else:
        reason = Reason.NONE
    answer, _ = TemplateAnswer.objects.update_or_create(
        template_lens=template_lens,
        question=question,
        defaults={
            "is_applicable": is_applicable,
            "reason": reason,
            "notes": notes,
            "choices": stored,
            "updated_by": user,
        },
    )
    _bump(template_lens.template_id)
    return answer


@transaction.atomic
def template_answer_clear(*, template_lens: TemplateLens, question: Question) -> None:
    """Leave the question to the workloads again (what they hold from before stays)."""
    deleted, _ = TemplateAnswer.objects.filter(
        template_lens=template_lens, question=question
    ).delete()
    if deleted:
        _bump(template_lens.template_id)


def _bump(template_id: int) -> None:
    ReviewTemplate.objects.filter(pk=template_id).update(
        version=F("version") + 1, updated_at=timezone.now()
    )


@transaction.atomic
def template_create_from_workload(
    *, workload: Workload, owner: AbstractBaseUser, name: str, description: str = ""
) -> ReviewTemplate:
    """A template with the workload's answers: every question it answered, marked as not
    applying or wrote notes on, in each lens it reviews."""
    reviews = list(
        LensReview.objects.filter(workload=workload, is_active=True).select_related("lens")
    )
    template = template_create(
        owner=owner, name=name, description=description, lenses=[r.lens for r in reviews]
    )
    by_lens = {tl.lens_id: tl for tl in template.lenses.all()}
    answers = (
        Answer.objects.filter(lens_review__in=reviews)
        .exclude(risk=AnswerRisk.UNANSWERED, notes="")
        .select_related("question", "lens_review")
        .prefetch_related(
            Prefetch(
                "choice_answers",
                queryset=ChoiceAnswer.objects.exclude(
                    status=ChoiceAnswer.Status.UNSELECTED
                ).select_related("choice"),
            )
        )
    )
    rows = []
    for answer in answers:
        template_lens = by_lens[answer.lens_review.lens_id]
        if answer.lens_review.lens_version_id != template_lens.lens_version_id:
            continue  # an older version than the template's: its questions are not the same
        rows.append(
            TemplateAnswer(
                template_lens=template_lens,
                question=answer.question,
                is_applicable=answer.is_applicable,
                reason=answer.reason,
                notes=answer.notes,
                choices={
                    row.choice.choice_id: {
                        "status": row.status,
                        "reason": row.reason,
                        "notes": row.notes,
                    }
                    for row in answer.choice_answers.all()
                }
                if answer.is_applicable
                else {},
                updated_by=owner,
            )
        )
    TemplateAnswer.objects.bulk_create(rows)
    return template


# -- applying and propagating --------------------------------------------------------------------


UNSELECTED_STATE = (ChoiceAnswer.Status.UNSELECTED, Reason.NONE, "")
# What a batch reads of each answer (a workload's other properties are not needed).
ANSWER_FIELDS = (
    "lens_review_id",
    "question_id",
    "is_applicable",
    "reason",
    "notes",
    "risk",
    "template_id",
    "template_state",
    "lens_review__lens_id",
    "lens_review__workload_id",
    "lens_review__workload__name",
    "lens_review__workload__public_id",
    "lens_review__lens__alias",
)


def _template_state(template_answer: TemplateAnswer, choice_ids: set[str]) -> TemplateState:
    """The state the template gives an answer whose question has `choice_ids` (a workload on
    another lens version may lack some of the template's choices)."""
    return TemplateState(
        is_applicable=template_answer.is_applicable,
        reason=template_answer.reason,
        notes=template_answer.notes,
        choices={
            choice_id: (s["status"], s["reason"], s["notes"])
            for choice_id, s in template_answer.choices.items()
            if choice_id in choice_ids
        },
    )


def _fingerprint(state: TemplateState) -> str:
    return state_fingerprint(
        is_applicable=state.is_applicable,
        reason=state.reason,
        notes=state.notes,
        choices=[(c, *st) for c, st in state.choices.items()],
    )


def _template_answers(template: ReviewTemplate) -> list[TemplateAnswer]:
    return list(
        TemplateAnswer.objects.filter(template_lens__template=template).select_related(
            "template_lens__lens", "question"
        )
    )


def templates_asked(user: AbstractBaseUser, public_ids: list[str]) -> list[ReviewTemplate]:
    """The templates named, each readable by `user`, or a TemplateError naming one that is not."""
    found = {
        t.public_id: t
        for t in ReviewTemplate.objects.for_user(user).filter(public_id__in=public_ids)
    }
    for public_id in public_ids:
        if public_id not in found:
            raise TemplateError("One of the templates asked for is not shared with you.", NOT_FOUND)
    return [found[public_id] for public_id in dict.fromkeys(public_ids)]


@transaction.atomic
def workload_create_with_templates(
    *, owner: AbstractBaseUser, templates: list[ReviewTemplate], **fields: Any
) -> Workload:
    """reviews.services.workload_create, then each template applied: all of it or nothing."""
    workload = workload_create(owner=owner, **fields)
    for template in templates:
        template_apply(template=template, workload=workload, user=owner)
    return workload


@dataclass
class ApplyResult:
    updated: int = 0
    changed_locally: list[dict[str, Any]] = field(default_factory=list)


def _apply_batch(
    *,
    template: ReviewTemplate,
    template_answers: list[TemplateAnswer],
    workload_ids: list[int],
    user: AbstractBaseUser | None,
    only_if_unchanged: bool,
    result: ApplyResult,
) -> None:
    """Give the workloads' answers the template's, inside the caller's transaction.

    The answers' rows are locked first (in id order, in one query), so what is compared is
    what is written over: a tick committed before the lock makes its answer "changed locally";
    a tick arriving later waits and lands on the template's answer. `only_if_unchanged`
    (propagation) leaves alone what a workload changed since the template left it, and what it
    answered itself before the template answered that question. A fixed number of queries
    however many workloads and questions.
    """
    wanted = {(ta.template_lens.lens_id, ta.question.question_id): ta for ta in template_answers}
    if not wanted or not workload_ids:
        return
    answers = list(
        Answer.objects.select_for_update(of=("self",))
        .filter(
            lens_review__workload_id__in=workload_ids,
            lens_review__lens_id__in={lens for lens, _ in wanted},
            lens_review__is_active=True,
            question__question_id__in={question for _, question in wanted},
        )
        .select_related("lens_review__workload", "lens_review__lens")
        .only(*ANSWER_FIELDS)
        .order_by("pk")
    )
    questions = {
        question.pk: question
        for question in Question.objects.filter(
            pk__in={answer.question_id for answer in answers}
        ).prefetch_related(
            "risk_rules",
            Prefetch("choices", queryset=Choice.objects.order_by("order"), to_attr="choice_list"),
        )
    }
    current: dict[int, dict[str, tuple[str, str, str]]] = {answer.pk: {} for answer in answers}
    for answer_id, choice_id, *state in ChoiceAnswer.objects.filter(
        answer__in=[answer.pk for answer in answers]
    ).values_list("answer_id", "choice__choice_id", "status", "reason", "notes"):
        current[answer_id][choice_id] = tuple(state)
    blank = blank_fingerprint()
    changes = []
    for answer in answers:
        answer.question = questions[answer.question_id]
        review = answer.lens_review
        template_answer = wanted.get((review.lens_id, answer.question.question_id))
        if template_answer is None:
            continue  # the same question id in another of the template's lenses
        states = current[answer.pk]
        now = state_fingerprint(
            is_applicable=answer.is_applicable,
            reason=answer.reason,
            notes=answer.notes,
            choices=[(c, *st) for c, st in states.items()],
        )
        state = _template_state(
            template_answer, {choice.choice_id for choice in answer.question.choice_list}
        )
        if only_if_unchanged and (
            now != answer.template_state
            if answer.template_id == template.pk
            else (answer.template_id is not None or now != blank)
        ):
            result.changed_locally.append(
                {
                    "workload": review.workload.name,
                    "public_id": review.workload.public_id,
                    "alias": review.lens.alias,
                    "question": answer.question.question_id,
                    "title": answer.question.title,
                }
            )
            continue
        if answer.template_id == template.pk and now == _fingerprint(state):
            continue  # it holds the template's answer already
        changes.append((answer, states, state))
    answers_from_template(changes=changes, template=template, user=user)
    result.updated += len(changes)


@transaction.atomic
def template_apply(
    *, template: ReviewTemplate, workload: Workload, user: AbstractBaseUser | None
) -> int:
    """Apply the template to the workload: its lenses are added to the workload, and every
    question the template answers takes its answer (the history keeps what was there before).
    The caller has checked read access to the template and write access to the workload.
    Returns how many questions changed."""
    for template_lens in template.lenses.select_related("lens"):
        workload_add_lens(workload=workload, lens=template_lens.lens)
    TemplateUse.objects.get_or_create(
        template=template, workload=workload, defaults={"applied_by": user}
    )
    result = ApplyResult()
    _apply_batch(
        template=template,
        template_answers=_template_answers(template),
        workload_ids=[workload.pk],
        user=user,
        only_if_unchanged=False,
        result=result,
    )
    return result.updated


PROGRESS_EVERY = 50  # workloads a transaction, and between two progress writes
# A propagation whose worker wrote no progress for this long has lost its worker (a batch takes
# well under a second); a new one may start, and redoes only what is still to do.
STALE_AFTER = timedelta(minutes=5)
STALE = "The worker stopped before the propagation finished."


@transaction.atomic
def propagation_request(*, template: ReviewTemplate, user: AbstractBaseUser) -> Propagation:
    """Queue a propagation of the template to the workloads using it (one at a time)."""
    locked = ReviewTemplate.objects.select_for_update().get(pk=template.pk)
    running = locked.propagations.filter(
        status__in=(Propagation.Status.QUEUED, Propagation.Status.RUNNING)
    ).first()
    if running is not None:
        if (running.heartbeat_at or running.created_at) > timezone.now() - STALE_AFTER:
            raise TemplateError("A propagation of this template is under way already.", CONFLICT)
        running.status, running.error = Propagation.Status.FAILED, STALE
        running.finished_at = timezone.now()
        running.save(update_fields=["status", "error", "finished_at"])
    propagation = Propagation.objects.create(
        template=locked,
        template_version=locked.version,
        workload_total=locked.uses.count(),
        requested_by=user,
    )

    def send() -> None:
        from django.conf import settings

        from review_templates.tasks import propagation_run_task

        propagation_run_task.apply_async(args=[propagation.pk], queue=settings.REPORT_QUEUE)

    transaction.on_commit(send)
    return propagation


def propagation_run(*, propagation_id: int) -> Propagation:
    """Propagate, one workload per transaction, writing progress as it goes."""
    propagation = Propagation.objects.select_related("template").filter(pk=propagation_id).first()
    if propagation is None or propagation.status not in (
        Propagation.Status.QUEUED,
        Propagation.Status.RUNNING,
    ):
        return propagation
    now = timezone.now()
    Propagation.objects.filter(pk=propagation.pk).update(
        status=Propagation.Status.RUNNING, started_at=now, heartbeat_at=now
    )
    template = propagation.template
    try:
        template_answers = _template_answers(template)
        workload_ids = list(
            TemplateUse.objects.filter(template=template)
            .order_by("workload_id")
            .values_list("workload_id", flat=True)
        )
        result = ApplyResult()
        for start in range(0, len(workload_ids), PROGRESS_EVERY):
            batch = workload_ids[start : start + PROGRESS_EVERY]
            # One transaction a batch: a tick on one of its answers waits at most that long.
            with transaction.atomic():
                _apply_batch(
                    template=template,
                    template_answers=template_answers,
                    workload_ids=batch,
                    user=propagation.requested_by,
                    only_if_unchanged=True,
                    result=result,
                )
            Propagation.objects.filter(pk=propagation.pk).update(
                workload_total=len(workload_ids),
                workload_done=start + len(batch),
                updated_count=result.updated,
                heartbeat_at=timezone.now(),
            )
    except Exception as exc:
        Propagation.objects.filter(pk=propagation.pk).update(
            status=Propagation.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    Propagation.objects.filter(pk=propagation.pk).update(
        status=Propagation.Status.DONE,
        workload_total=len(workload_ids),
        workload_done=len(workload_ids),
        updated_count=result.updated,
        changed_locally=result.changed_locally,
        finished_at=timezone.now(),
    )
    propagation.refresh_from_db()
    return propagation
