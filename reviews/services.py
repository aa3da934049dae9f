"""Review workflows: workloads and their lenses, sharing, and answering questions.

Every change to an answer locks that answer's row first, so two people changing the same
question at the same moment are applied one after the other and both changes survive.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from lenses.models import Choice, Lens, LensVersion, Pillar, Question
from lenses.services import BUILTIN_ALIAS
from lenses.version_cache import LensVersionData, version_data
from people.models import Team
from review_templates.fingerprints import state_fingerprint
from reviews.activity import Action, activity_record
from reviews.answer_writes import AnswerChange, answer_change_write
from reviews.counts import Tally, counts_rebuild, tally_of
from reviews.errors import CONFLICT, NOT_FOUND, QUOTA, DomainError
from reviews.improvements import improvements_sync, item_sync
from reviews.models import (
    CHOICE_NOTES_MAX,
    MAX_EXTRA_LENSES,
    NOTES_MAX,
    SHARE_ROLES,
    Answer,
    AnswerEvent,
    AnswerRisk,
    ChoiceAnswer,
    ImprovementItem,
    LensReview,
    PillarNote,
    Reason,
    Role,
    Workload,
    WorkloadMember,
    WorkloadTeamShare,
    name_key,
)
from reviews.rows import columns_of, instance_from, locked, planned_cursor


class ReviewError(DomainError):
    """A change that cannot be made, with a message for the person who asked."""


@dataclass
class NotesConflict(Exception):
    """Someone else saved the notes since the editor loaded them."""

    theirs: str
    version: int
    by: str


def check_notes(
    notes: str, *, label: str = "Notes", limit: int = NOTES_MAX, field: str | None = None
) -> None:
    """Notes that can be stored, or a ReviewError saying why not.

    Notes come straight from a request, not through a Django form, so the NUL character that
    a form would refuse is refused here: PostgreSQL cannot store one in text.
    """
    if len(notes) > limit:
        raise ReviewError(
            f"{label} are at most {limit:,} characters ({len(notes):,} given).", field=field
        )
    if "\x00" in notes:
        raise ReviewError(
            f"{label} contain a NUL character, which cannot be stored. Remove it and save again.",
            field=field,
        )


# -- workloads and lenses ----------------------------------------------------------------------


def latest_published_version(lens: Lens) -> LensVersion | None:
    return (
        lens.versions.filter(status=LensVersion.Status.PUBLISHED).order_by("-published_at").first()
    )


# The properties of a workload that its owner and contributors change (the owner changes only
# by a hand-over, workload_transfer).
WORKLOAD_FIELDS = (
    "name",
    "description",
    "environment",
    "regions",
    "review_owner",
    "architectural_design_url",
    "industry_type",
    "industry",
    "notes",
    "tags",
    "pillar_priorities",
)
NAME_TAKEN = "A workload with this name exists already (case and spaces do not count)."
PILLAR_ORDER = "The pillar order must name each pillar once. Reload the page and order them again."


def _check_name(workload: Workload) -> None:
    """A name of three characters or more besides spaces, not used by another workload."""
    key = name_key(workload.name)
    if len(key) < 3:
        raise ReviewError("A name has at least 3 characters besides spaces.", field="name")
    if Workload.objects.filter(name_key=key).exclude(pk=workload.pk).exists():
        raise ReviewError(NAME_TAKEN, CONFLICT, field="name")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False


def _check_fields(workload: Workload) -> None:
    """The model's own validation, as a ReviewError naming the first field at fault.

    Only the values: the owner and the public id do not change here, and the name's
    uniqueness is _check_name's (the same rule as name_key, and no query per unique field).
    """
    try:
        workload.full_clean(
            exclude=["owner", "public_id", "name_key"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        field, problems = next(iter(exc.message_dict.items()))
        if field == NON_FIELD_ERRORS:
            raise ReviewError(problems[0]) from None
        label = Workload._meta.get_field(field).verbose_name
        raise ReviewError(f"{label.capitalize()}: {problems[0]}", field=field) from None
    # What a form field refuses and the model does not: a TextField's length, and NUL, which
    # PostgreSQL cannot store in text or JSON.
    check_notes(workload.notes, field="notes")
    for name in WORKLOAD_FIELDS:
        if _has_nul(getattr(workload, name)):
            raise ReviewError(
                f"The {name.replace('_', ' ')} contains a NUL character, which cannot be stored.",
                field=name,
            )


def builtin_pillars() -> QuerySet[Pillar]:
    """The pillars of the newest published built-in lens, in lens order (one query)."""
    newest = (
        LensVersion.objects.filter(lens__alias=BUILTIN_ALIAS, status=LensVersion.Status.PUBLISHED)
        .order_by("-published_at")
        .values("pk")[:1]
    )
    return Pillar.objects.filter(lens_version=Subquery(newest)).order_by("order")


def builtin_pillar_ids() -> list[str]:
    return list(builtin_pillars().values_list("pillar_id", flat=True))


def _check_pillar_priorities(priorities: Any) -> None:
    """None set (the lens order), or every pillar of the built-in lens once, in any order."""
    if priorities in (None, []):
        return
    if not isinstance(priorities, list) or not all(isinstance(p, str) for p in priorities):
        raise ReviewError(PILLAR_ORDER, field="pillar_priorities")
    if sorted(priorities) != sorted(builtin_pillar_ids()):
        raise ReviewError(PILLAR_ORDER, field="pillar_priorities")


@transaction.atomic
def workload_create(*, owner: AbstractBaseUser, lenses: list[Lens] = (), **fields: Any) -> Workload:
    """Create a workload owned by `owner`, reviewing the built-in lens plus `lenses`."""
    workload = Workload(owner=owner, **fields)
    _check_fields(workload)
    _check_name(workload)
    _check_pillar_priorities(workload.pillar_priorities)
    workload.save()
    WorkloadMember.objects.create(workload=workload, user=owner, role=Role.OWNER)
    builtin = Lens.objects.filter(alias=BUILTIN_ALIAS).first()
    if builtin is None:
        raise ReviewError("The built-in lens is not loaded (run manage.py load_builtin_lens).")
    for lens in [builtin, *[lens for lens in lenses if lens.pk != builtin.pk]]:
        workload_add_lens(workload=workload, lens=lens)
    if not workload.pillar_priorities:
        builtin_review = workload.lens_reviews.get(lens=builtin)
        workload.pillar_priorities = list(
            builtin_review.lens_version.pillars.values_list("pillar_id", flat=True)
        )
        workload.save(update_fields=["pillar_priorities"])
    return workload


@transaction.atomic
def workload_update(*, workload: Workload, user: AbstractBaseUser, **fields: Any) -> Workload:
    """Change the properties named in `fields` (WORKLOAD_FIELDS): all of them, or none.

    The caller has checked that `user` may change the workload. Every value is checked as the
    edit form checks it (the model's validation, the name's uniqueness, the pillar order), so
    a command or an API call cannot store what the browser could not. Returns the workload as
    saved; the one passed in is left as it was.
    """
    unknown = sorted(set(fields) - set(WORKLOAD_FIELDS))
    if unknown:
        raise ReviewError(f"A workload has no property “{unknown[0]}”.", field=unknown[0])
    edited = copy.copy(workload)
    for name, value in fields.items():
        setattr(edited, name, value)
    _check_fields(edited)
    _check_name(edited)
    # Saved priorities were checked when they were saved; only a new order costs the query.
    if edited.pillar_priorities != workload.pillar_priorities:
        _check_pillar_priorities(edited.pillar_priorities)
    try:
        with transaction.atomic():
            # Only these properties: a hand-over of ownership at the same moment must survive.
            edited.save(update_fields=[*fields, "name_key", "updated_at"])
    except IntegrityError:
        # Someone took the name between the check and the update.
        raise ReviewError(NAME_TAKEN, CONFLICT, field="name") from None
    return edited


@transaction.atomic
def workload_delete(*, workload: Workload, user: AbstractBaseUser) -> None:
    """Delete the workload with its lens reviews, answers, milestones and reports.

    The caller has checked that `user` owns it.
    """
    deleted, _ = workload.delete()
    if not deleted:
        raise ReviewError("No such workload.", NOT_FOUND)


@transaction.atomic
def workload_add_lens(*, workload: Workload, lens: Lens) -> LensReview:
    """Review `lens` in `workload`; a lens removed earlier comes back with its answers."""
    existing = LensReview.objects.filter(workload=workload, lens=lens).first()
    if existing is not None:
        if not existing.is_active:
            _check_lens_limit(workload)
            existing.is_active = True
            existing.version = F("version") + 1
            existing.save(update_fields=["is_active", "version", "updated_at"])
            existing.refresh_from_db()
        return existing
    version = latest_published_version(lens)
    if version is None:
        raise ReviewError(f"“{lens.name}” has no published version to review.")
    if not lens.is_builtin:
        _check_lens_limit(workload)
    review = LensReview.objects.create(workload=workload, lens=lens, lens_version=version)
    questions = Question.objects.filter(lens_version=version).values_list("pk", flat=True)
    Answer.objects.bulk_create(Answer(lens_review=review, question_id=pk) for pk in questions)
    counts_rebuild([review.pk])
    return review


def _check_lens_limit(workload: Workload) -> None:
    extra = workload.lens_reviews.filter(is_active=True, lens__is_builtin=False).count()
    if extra >= MAX_EXTRA_LENSES:
        raise ReviewError(
            f"A workload reviews at most {MAX_EXTRA_LENSES} lenses besides the built-in one.",
            QUOTA,
        )


@transaction.atomic
def workload_remove_lens(*, workload: Workload, lens: Lens) -> None:
    if lens.is_builtin:
        raise ReviewError("The built-in lens cannot be removed from a workload.")
    updated = LensReview.objects.filter(workload=workload, lens=lens, is_active=True).update(
        is_active=False, version=F("version") + 1, updated_at=timezone.now()
    )
    if not updated:
        raise ReviewError(f"“{lens.name}” is not reviewed in this workload.", NOT_FOUND)


# -- sharing -------------------------------------------------------------------------------------


def _check_share_role(role: str) -> None:
    if role not in SHARE_ROLES:
        raise ReviewError("A workload is shared as contributor or read-only.", field="role")


@transaction.atomic
def workload_share(
    *, workload: Workload, user: AbstractBaseUser, role: str, by: AbstractBaseUser | None = None
) -> WorkloadMember:
    """Share with `user` as CONTRIBUTOR or READONLY, or change the role of an existing share.

    `by`: who did it, for the activity log (None for a command on the server).
    """
    _check_share_role(role)
    if user.pk == workload.owner_id:
        raise ReviewError(f"{user.get_username()} owns this workload already.", CONFLICT)
    name = user.get_username()
    member = WorkloadMember.objects.select_for_update().filter(workload=workload, user=user).first()
    if member is None:
        member = WorkloadMember.objects.create(workload=workload, user=user, role=role)
        activity_record(workload=workload, user=by, action=Action.SHARED, person=name, role=role)
    elif member.role != role:
        before, member.role = member.role, role
        member.save(update_fields=["role"])
        activity_record(
            workload=workload,
            user=by,
            action=Action.SHARE_CHANGED,
            person=name,
            role=role,
            before=before,
        )
    return member


@transaction.atomic
def workload_share_add(
    *, workload: Workload, user: AbstractBaseUser, role: str, by: AbstractBaseUser | None = None
) -> WorkloadMember:
    """A new share only: sharing again with a member is a conflict, not a change of role.

    For callers that create shares and change roles with separate requests (the API's
    CreateWorkloadShare and UpdateWorkloadShare), so a retried or mistaken create cannot
    quietly lower someone's access.
    """
    shared = WorkloadMember.objects.filter(workload=workload, user=user).exclude(role=Role.OWNER)
    if shared.exists():
        raise ReviewError(
            f"The workload is shared with {user.get_username()} already; change the role instead.",
            CONFLICT,
        )
    return workload_share(workload=workload, user=user, role=role, by=by)


@transaction.atomic
def workload_unshare(
    *, workload: Workload, user: AbstractBaseUser, by: AbstractBaseUser | None = None
) -> None:
    if user.pk == workload.owner_id:
        raise ReviewError("The owner cannot be removed; hand over ownership first.")
    member = WorkloadMember.objects.select_for_update().filter(workload=workload, user=user).first()
    if member is None:
        return
    member.delete()
    activity_record(
        workload=workload,
        user=by,
        action=Action.UNSHARED,
        person=user.get_username(),
        before=member.role,
    )


@transaction.atomic
def workload_share_team(
    *, workload: Workload, team: Team, role: str, by: AbstractBaseUser | None = None
) -> WorkloadTeamShare:
    """Share with every member of `team` as CONTRIBUTOR or READONLY, or change the team's role.

    A member's own share or another team's may give them more; the strongest counts.
    """
    _check_share_role(role)
    share = (
        WorkloadTeamShare.objects.select_for_update().filter(workload=workload, team=team).first()
    )
    if share is None:
        share = WorkloadTeamShare.objects.create(workload=workload, team=team, role=role)
        activity_record(
            workload=workload, user=by, action=Action.TEAM_SHARED, team=team.name, role=role
        )
    elif share.role != role:
        before, share.role = share.role, role
        share.save(update_fields=["role"])
        activity_record(
            workload=workload,
            user=by,
            action=Action.TEAM_SHARE_CHANGED,
            team=team.name,
            role=role,
            before=before,
        )
    return share


@transaction.atomic
def workload_unshare_team(
    *, workload: Workload, team: Team, by: AbstractBaseUser | None = None
) -> None:
    share = (
        WorkloadTeamShare.objects.select_for_update().filter(workload=workload, team=team).first()
    )
    if share is None:
        raise ReviewError(f"This workload is not shared with the team {team.name}.", NOT_FOUND)
    share.delete()
    activity_record(
        workload=workload, user=by, action=Action.TEAM_UNSHARED, team=team.name, before=share.role
    )


@transaction.atomic
def workload_transfer(
    *, workload: Workload, new_owner: AbstractBaseUser, by: AbstractBaseUser | None = None
) -> Workload:
    """Hand the workload to another user; the previous owner stays on as contributor."""
    workload = Workload.objects.select_for_update().get(pk=workload.pk)
    if new_owner.pk == workload.owner_id:
        raise ReviewError(f"{new_owner.get_username()} owns this workload already.", CONFLICT)
    previous = workload.owner.get_username()
    WorkloadMember.objects.filter(workload=workload, role=Role.OWNER).update(role=Role.CONTRIBUTOR)
    WorkloadMember.objects.update_or_create(
        workload=workload, user=new_owner, defaults={"role": Role.OWNER}
    )
    workload.owner = new_owner
    workload.save(update_fields=["owner", "updated_at"])
    activity_record(
        workload=workload,
        user=by,
        action=Action.TRANSFERRED,
        **{"from": previous, "to": new_owner.get_username()},
    )
    return workload


# -- answering -----------------------------------------------------------------------------------


STALE_VERSION = (
    "This review has just moved to another version of its lens, so this change was not saved. "
    "Reload the page to answer the new version."
)


def _lock(answer: Answer) -> Answer:
    """Re-read the answer under a row lock, keeping the related objects already loaded.

    The page that sent the change may show a version of the lens that an upgrade has since
    replaced (reviews.upgrades): then the answer is gone or asks another question, and the
    change must not land on the old version.
    """
    fresh = locked(Answer, answer.pk)
    if fresh is None or fresh.question_id != answer.question_id:
        raise ReviewError(STALE_VERSION, CONFLICT)
    fresh.question = answer.question
    fresh.lens_review = answer.lens_review
    return fresh


# reviews_choiceanswer: in hand-written SQL, as the other statements of a tick (reviews.rows).
CHOICE_ROWS_SQL = (
    "SELECT choice_id, status, reason, notes FROM reviews_choiceanswer WHERE answer_id = %s"
)


@functools.cache
def _locked_rows_sql(vendor: str) -> str:
    """CHOICE_ROWS_SQL with the answer's improvement item (a change of risk may open or close
    it): one statement, at least one row."""
    return (
        f"SELECT c.choice_id, c.status, c.reason, c.notes, {columns_of('i', ImprovementItem)} "
        "FROM reviews_answer a LEFT JOIN reviews_choiceanswer c ON c.answer_id = a.id "
        "LEFT JOIN reviews_improvementitem i ON i.answer_id = a.id WHERE a.id = %s"
    )


def _cached_data(answer: Answer) -> LensVersionData | None:
    """The answer's published lens version from the version cache, when it is loaded."""
    review = answer.lens_review if Answer.lens_review.is_cached(answer) else None
    loaded = review is not None and LensReview.lens_version.is_cached(review)
    version = review.lens_version if loaded else None
    if version is None or version.status == LensVersion.Status.DRAFT:
        return None
    return version_data(version)


def _with_status(data: LensVersionData, answer: Answer, stored: dict) -> list[Choice]:
    choices = data.choices_of(answer.question_id)
    for choice in choices:
        choice.status, choice.reason, choice.choice_notes = stored.get(choice.pk, (None,) * 3)
    return choices


def choices_with_status(answer: Answer) -> list[Choice]:
    """The question's choices, each with `status`, `reason` and `notes` of this answer.

    When the answer's lens version is loaded (every page and tick), the choices come from the
    version cache (lenses.version_cache) and only this answer's rows from the database, in
    hand-written SQL. For a locked answer it is a separate statement after the lock, not a
    join in the locking one (see _locked_choices).
    """
    if (data := _cached_data(answer)) is not None:
        with planned_cursor() as cursor:
            cursor.execute(CHOICE_ROWS_SQL, [answer.pk])
            stored = {choice_id: rest for choice_id, *rest in cursor}
        return _with_status(data, answer, stored)
    rows = ChoiceAnswer.objects.filter(answer=answer, choice=OuterRef("pk"))
    return list(
        Choice.objects.filter(question_id=answer.question_id)
        .order_by("order")
        .annotate(
            status=Subquery(rows.values("status")[:1]),
            reason=Subquery(rows.values("reason")[:1]),
            choice_notes=Subquery(rows.values("notes")[:1]),
        )
    )


def _locked_choices(answer: Answer) -> tuple[list[Choice], ImprovementItem | None]:
    """choices_with_status of an answer locked by _lock, and its improvement item (None: it has
    none), in one statement when the lens version is loaded.

    Read after the lock, not joined in the locking statement: PostgreSQL re-reads only the
    locked row once a waiting lock is granted, so joined rows would be those from before the
    change that held the lock, and a tick made at the same moment would be lost.
    """
    if (data := _cached_data(answer)) is None:
        return choices_with_status(answer), ImprovementItem.objects.filter(answer=answer).first()
    with planned_cursor() as cursor:
        cursor.execute(_locked_rows_sql(connection.vendor), [answer.pk])
        rows = cursor.fetchall()
    stored = {row[0]: row[1:4] for row in rows if row[0] is not None}
    item = rows[0][4:]
    item = None if item[0] is None else instance_from(ImprovementItem, item)
    return _with_status(data, answer, stored), item


def _risk(answer: Answer, selected: set[str]) -> str:
    if not answer.is_applicable:
        return AnswerRisk.NOT_APPLICABLE
    if not selected:
        return AnswerRisk.UNANSWERED
    review = answer.lens_review
    if LensReview.lens_version.is_cached(review):  # the rules without a query
        return version_data(review.lens_version).risk_for(answer.question_id, selected)
    return answer.question.risk_for(selected)


def _record(
    answer: Answer,
    user: AbstractBaseUser,
    changes: list[dict[str, Any]],
    risk_before: str,
    *,
    rows: list[ChoiceAnswer] = (),
    counts_before: Tally | None = None,
    choices: list[Choice] = (),
    item: ImprovementItem | None = None,
) -> None:
    """Save the answer's new state and its choices' `rows`, add it to the audit trail and tell
    pollers of the review (reviews.answer_writes).

    Called with the answer's row locked, so `risk_before` is the risk this change replaces. The
    review's counters move in the same transaction: a poller that sees them move also sees the
    change. `counts_before`: the answer's tally before the change, when its risk or choices may
    have changed; the pillar's kept counts then move to the tally of `choices` (their new
    status). `item`: the answer's improvement item as read after the lock (_locked_choices),
    which a change of risk opens or closes; a change that cannot move the risk need not read it.
    """
    if answer.risk != risk_before:
        changes.append({"field": "risk", "before": risk_before, "after": answer.risk})
    answer.version += 1
    answer.updated_by = user
    answer.risk_before = risk_before
    delta = {}
    if counts_before is not None:
        after = tally_of(answer, choices)
        delta = {name: after[name] - counts_before[name] for name in after}
        delta = {name: move for name, move in delta.items() if move}
    synced = item_sync(answer, risk_before, item, timezone.localdate())
    answer_change_write(AnswerChange(answer, user, changes, list(rows), delta, synced))


# What a choice's row holds: status, reason and notes.
ChoiceState = tuple[str, str, str]
UNSELECTED_STATE: ChoiceState = (ChoiceAnswer.Status.UNSELECTED, Reason.NONE, "")


def _state(choice: Choice) -> ChoiceState:
    """The choice's current state, as choices_with_status annotates it."""
    return (
        choice.status or ChoiceAnswer.Status.UNSELECTED,
        choice.reason or Reason.NONE,
        choice.choice_notes or "",
    )


NOT_APPLYING = (
    "This question is marked as not applying to the workload, so its choices cannot be changed. "
    "Untick “This question does not apply” first."
)


def _new_choice_rows(
    answer: Answer, choices: list[Choice], new_state: Callable[[Choice], ChoiceState]
) -> tuple[list[ChoiceAnswer], list[dict[str, Any]]]:
    """The rows of the choices whose state changes and their history lines; each choice object
    takes its new state."""
    rows, changes = [], []
    for choice in choices:
        before, after = _state(choice), new_state(choice)
        if after != before:
            rows.append(
                ChoiceAnswer(
                    answer=answer, choice=choice, status=after[0], reason=after[1], notes=after[2]
                )
            )
            changes.append(_choice_change(choice, before[0], after[0]))
            choice.status, choice.reason, choice.choice_notes = after
    return rows, changes


def _save_choice_rows(rows: list[ChoiceAnswer]) -> None:
    ChoiceAnswer.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["answer", "choice"],
        update_fields=["status", "reason", "notes"],
    )


@transaction.atomic
def answer_choice_update(
    *,
    answer: Answer,
    choice_id: str,
    status: str,
    user: AbstractBaseUser,
    reason: str = Reason.NONE,
    notes: str = "",
) -> tuple[Answer, list[Choice]]:
    """Set one choice of an answer to SELECTED, UNSELECTED or NOT_APPLICABLE.

    "None of these" is exclusive: selecting it unselects the others and the other way round.
    The choices of a question marked as not applying cannot be changed. Returns the answer and
    its choices with their new status.
    """
    if status not in ChoiceAnswer.Status.values:
        raise ReviewError(f"Unknown choice status {status!r}.")
    if reason not in Reason.values:
        raise ReviewError(f"Unknown reason {reason!r}.")
    check_notes(notes, label="Choice notes", limit=CHOICE_NOTES_MAX)
    if status != ChoiceAnswer.Status.NOT_APPLICABLE:
        reason, notes = Reason.NONE, ""
    answer = _lock(answer)
    choices, item = _locked_choices(answer)
    if not answer.is_applicable:
        # A page opened before someone marked the question as not applying still shows boxes.
        raise ReviewError(NOT_APPLYING)
    target = next((c for c in choices if c.choice_id == choice_id), None)
    if target is None:
        raise ReviewError(f"“{choice_id}” is not a choice of this question.")

    def new_state(choice: Choice) -> ChoiceState:
        current = _state(choice)
        if choice is target:
            return (status, reason, notes)
        selecting = status == ChoiceAnswer.Status.SELECTED
        if (
            selecting
            and current[0] == ChoiceAnswer.Status.SELECTED
            and (choice.is_none or target.is_none)
        ):
            return UNSELECTED_STATE
        return current

    counts_before = tally_of(answer, choices)
    rows, changes = _new_choice_rows(answer, choices, new_state)
    if not rows:
        return answer, choices
    risk_before = answer.risk
    selected = {c.choice_id for c in choices if c.status == ChoiceAnswer.Status.SELECTED}
    answer.risk = _risk(answer, selected)
    _record(
        answer,
        user,
        changes,
        risk_before,
        rows=rows,
        counts_before=counts_before,
        choices=choices,
        item=item,
    )
    return answer, choices


def _requested_state(choice_id: str, update: Any) -> ChoiceState:
    """One entry of `choice_updates` checked: {"status": ..., "reason": ..., "notes": ...}."""
    if not isinstance(update, dict) or not isinstance(update.get("status"), str):
        raise ReviewError(f"The update of “{choice_id}” needs a status.", field="choice_updates")
    status = update["status"]
    if status not in ChoiceAnswer.Status.values:
        raise ReviewError(f"Unknown choice status {status!r}.", field="choice_updates")
    if status != ChoiceAnswer.Status.NOT_APPLICABLE:
        return (status, Reason.NONE, "")
    reason = update.get("reason") or Reason.NONE
    notes = update.get("notes") or ""
    if reason not in Reason.values:
        raise ReviewError(f"Unknown reason {reason!r}.", field="choice_updates")
    if not isinstance(notes, str):
        raise ReviewError("Choice notes are text.", field="choice_updates")
    check_notes(notes, label="Choice notes", limit=CHOICE_NOTES_MAX, field="choice_updates")
    return (status, reason, notes)


@transaction.atomic
def answer_update(
    *,
    answer: Answer,
    user: AbstractBaseUser,
    selected_choices: list[str] | None = None,
    choice_updates: dict[str, dict[str, str]] | None = None,
    notes: str | None = None,
    is_applicable: bool | None = None,
    reason: str | None = None,
) -> tuple[Answer, list[Choice]]:
    """Set a whole answer at once, as the AWS tool's UpdateAnswer does; None leaves a part alone.

    `selected_choices` is the complete set of ticked choices; `choice_updates` sets single
    choices ({choice id: {"status", "reason", "notes"}}) and may not contradict it. The rules
    are answer_choice_update's: "None of these" is exclusive (asking for it together with
    another choice is refused; asking for one of them unticks the other), and the choices of a
    question that does not apply cannot change. Notes carry no version here: the last writer
    wins, and the notes version moves so that an editor holding older notes sees a conflict.
    One row lock, one history event for everything, and a fixed number of queries however many
    choices the question has. Any problem refuses the whole change.
    """
    wanted: dict[str, ChoiceState] = {}
    if choice_updates is not None:
        if not isinstance(choice_updates, dict):
            raise ReviewError("Choice updates map choice ids to updates.", field="choice_updates")
        for choice_id, update in choice_updates.items():
            wanted[str(choice_id)] = _requested_state(str(choice_id), update)
    if selected_choices is not None:
        if not isinstance(selected_choices, list | tuple | set) or not all(
            isinstance(choice_id, str) for choice_id in selected_choices
        ):
            raise ReviewError(
                "Selected choices are a list of choice ids.", field="selected_choices"
            )
        for choice_id in selected_choices:
            if wanted.get(choice_id, (ChoiceAnswer.Status.SELECTED,))[0] != (
                ChoiceAnswer.Status.SELECTED
            ):
                raise ReviewError(
                    f"“{choice_id}” is selected and updated to {wanted[choice_id][0]} at once.",
                    field="choice_updates",
                )
            wanted[choice_id] = (ChoiceAnswer.Status.SELECTED, Reason.NONE, "")
    if notes is not None:
        if not isinstance(notes, str):
            raise ReviewError("Notes are text.", field="notes")
        check_notes(notes, field="notes")
    if reason is not None and reason not in Reason.values:
        raise ReviewError(f"Unknown reason {reason!r}.", field="reason")

    answer = _lock(answer)
    choices, item = _locked_choices(answer)
    by_id = {choice.choice_id: choice for choice in choices}
    for choice_id in wanted:
        if choice_id not in by_id:
            field = "choice_updates" if choice_id in (choice_updates or {}) else "selected_choices"
            raise ReviewError(f"“{choice_id}” is not a choice of this question.", field=field)
    ticked = {c for c, state in wanted.items() if state[0] == ChoiceAnswer.Status.SELECTED}
    none_ids = {choice.choice_id for choice in choices if choice.is_none}
    if ticked & none_ids and ticked - none_ids:
        raise ReviewError(
            "“None of these” cannot be selected together with another choice.",
            field="selected_choices" if selected_choices is not None else "choice_updates",
        )

    def new_state(choice: Choice) -> ChoiceState:
        if choice.choice_id in wanted:
            return wanted[choice.choice_id]
        current = _state(choice)
        if current[0] != ChoiceAnswer.Status.SELECTED:
            return current
        if selected_choices is not None:  # the complete set: what it leaves out is unticked
            return UNSELECTED_STATE
        if ticked and (choice.is_none or ticked & none_ids):
            return UNSELECTED_STATE  # "None of these" and a practice exclude each other
        return current

    counts_before = tally_of(answer, choices)
    applicable = answer.is_applicable if is_applicable is None else bool(is_applicable)
    answer_reason = answer.reason if reason is None else reason
    if applicable:
        answer_reason = Reason.NONE
    changes: list[dict[str, Any]] = []
    if (applicable, answer_reason) != (answer.is_applicable, answer.reason):
        changes += [
            {"field": "applicable", "before": answer.is_applicable, "after": applicable},
            {"field": "reason", "before": answer.reason, "after": answer_reason},
        ]
    rows, choice_changes = _new_choice_rows(answer, choices, new_state)
    changes += choice_changes
    if rows and not applicable:
        raise ReviewError(
            NOT_APPLYING,
            field="selected_choices" if selected_choices is not None else "choice_updates",
        )
    if notes is not None and notes != answer.notes:
        changes.append({"field": "notes", "before": answer.notes, "after": notes})
        answer.notes = notes
        answer.notes_version += 1
        answer.notes_updated_by = user
    if not changes:
        return answer, choices
    risk_before = answer.risk
    answer.is_applicable, answer.reason = applicable, answer_reason
    selected = {c.choice_id for c in choices if c.status == ChoiceAnswer.Status.SELECTED}
    answer.risk = _risk(answer, selected)
    _record(
        answer,
        user,
        changes,
        risk_before,
        rows=rows,
        counts_before=counts_before,
        choices=choices,
        item=item,
    )
    return answer, choices


def answer_fingerprint(answer: Answer, choices: list[Choice]) -> str:
    """The answer's state as review_templates.fingerprints sees it (`choices` as
    choices_with_status gives them)."""
    return state_fingerprint(
        is_applicable=answer.is_applicable,
        reason=answer.reason,
        notes=answer.notes,
        choices=[(c.choice_id, *_state(c)) for c in choices],
    )


@dataclass
class TemplateState:
    """A whole answer as a review template gives it: choices not named are unselected; the
    choices of a question that does not apply are left as they are."""

    is_applicable: bool
    reason: str
    notes: str
    choices: dict[str, ChoiceState]


def answers_from_template(
    *,
    changes: list[tuple[Answer, dict[str, ChoiceState], TemplateState]],
    template: Any,
    user: AbstractBaseUser | None,
) -> None:
    """Give many answers a review template's state at once (review_templates.services).

    Each entry: an answer whose row the caller has locked in this transaction (with its
    question, the question's `choice_list` and risk rules loaded), its current choice states,
    and the state to give it (the answers' other fields may be deferred). Writes what a
    person's change writes, in a number of queries that does not grow with the answers: choice
    rows, the answers (risk recomputed, version bumped, the template and a fingerprint of the
    state it left), one history event each, marked "from template", improvement items, and the
    review counters pollers watch.
    """
    rows: list[ChoiceAnswer] = []
    events: list[AnswerEvent] = []
    risks: list[tuple[Answer, str]] = []
    # Answers that end in the same state are written by one UPDATE (version moves by F()), so
    # the writes cost a query per distinct outcome, not per answer.
    outcomes: dict[tuple, list[int]] = {}
    touched, risky = set(), set()
    now = timezone.now()
    for answer, current, state in changes:
        history: list[dict[str, Any]] = [
            {"field": "template", "before": None, "after": template.name}
        ]
        applicable = bool(state.is_applicable)
        reason = Reason.NONE if applicable else state.reason
        if (applicable, reason) != (answer.is_applicable, answer.reason):
            history += [
                {"field": "applicable", "before": answer.is_applicable, "after": applicable},
                {"field": "reason", "before": answer.reason, "after": reason},
            ]
        final: dict[str, ChoiceState] = {}
        for choice in answer.question.choice_list:
            before = current.get(choice.choice_id, UNSELECTED_STATE)
            after = state.choices.get(choice.choice_id, UNSELECTED_STATE) if applicable else before
            final[choice.choice_id] = after
            if after != before:
                rows.append(
                    ChoiceAnswer(
                        answer_id=answer.pk,
                        choice=choice,
                        status=after[0],
                        reason=after[1],
                        notes=after[2],
                    )
                )
                history.append(_choice_change(choice, before[0], after[0]))
        notes_changed = state.notes != answer.notes
        if notes_changed:
            history.append({"field": "notes", "before": answer.notes, "after": state.notes})
        risk_before = answer.risk
        answer.is_applicable, answer.reason, answer.notes = applicable, reason, state.notes
        selected = {c for c, st in final.items() if st[0] == ChoiceAnswer.Status.SELECTED}
        answer.risk = _risk(answer, selected)
        if answer.risk != risk_before:
            history.append({"field": "risk", "before": risk_before, "after": answer.risk})
            risky.add(answer.lens_review_id)
        fingerprint = state_fingerprint(
            is_applicable=applicable,
            reason=reason,
            notes=state.notes,
            choices=[(c, *st) for c, st in final.items()],
        )
        outcome = (applicable, reason, state.notes, answer.risk, fingerprint, notes_changed)
        outcomes.setdefault(outcome, []).append(answer.pk)
        events.append(AnswerEvent(answer_id=answer.pk, user=user, changes=history))
        risks.append((answer, risk_before))
        touched.add(answer.lens_review_id)
    if not changes:
        return
    _save_choice_rows(rows)
    for (applicable, reason, notes, risk, fingerprint, notes_changed), pks in outcomes.items():
        values: dict[str, Any] = {
            "is_applicable": applicable,
            "reason": reason,
            "notes": notes,
            "risk": risk,
            "template": template,
            "template_state": fingerprint,
            "version": F("version") + 1,
            "updated_by": user,
            "updated_at": now,
        }
        if notes_changed:
            values |= {"notes_version": F("notes_version") + 1, "notes_updated_by": user}
        Answer.objects.filter(pk__in=pks).update(**values)
    AnswerEvent.objects.bulk_create(events)
    improvements_sync(changes=risks, user=user)
    # The kept counts of the reviews touched, counted again: a statement per review and pillar
    # would grow with the workloads; a recount costs the same few queries per batch.
    counts_rebuild(touched)
    # Locked in order first, so two propagations over the same reviews cannot deadlock.
    list(LensReview.objects.select_for_update().filter(pk__in=touched).order_by("pk").values("pk"))
    LensReview.objects.filter(pk__in=touched).update(version=F("version") + 1, updated_at=now)
    if risky:
        LensReview.objects.filter(pk__in=risky).update(risk_version=F("risk_version") + 1)


def _choice_change(choice: Choice, before: str, after: str) -> dict[str, Any]:
    """A choice's line in the history, as answer_choice_update writes it."""
    return {
        "field": "choice",
        "choice": choice.choice_id,
        "title": choice.title,
        "before": before,
        "after": after,
    }


@transaction.atomic
def answer_applicability_update(
    *, answer: Answer, is_applicable: bool, reason: str, user: AbstractBaseUser
) -> Answer:
    reason = Reason.NONE if is_applicable else reason
    if reason not in Reason.values:
        raise ReviewError(f"Unknown reason {reason!r}.")
    answer = _lock(answer)
    if (answer.is_applicable, answer.reason) == (is_applicable, reason):
        return answer
    changes = [
        {"field": "applicable", "before": answer.is_applicable, "after": is_applicable},
        {"field": "reason", "before": answer.reason, "after": reason},
    ]
    risk_before = answer.risk
    choices, item = _locked_choices(answer)
    counts_before = tally_of(answer, choices)
    answer.is_applicable, answer.reason = is_applicable, reason
    selected = {c.choice_id for c in choices if c.status == ChoiceAnswer.Status.SELECTED}
    answer.risk = _risk(answer, selected)
    _record(
        answer,
        user,
        changes,
        risk_before,
        counts_before=counts_before,
        choices=choices,
        item=item,
    )
    return answer


@transaction.atomic
def answer_notes_update(
    *, answer: Answer, notes: str, base_version: int, user: AbstractBaseUser
) -> Answer:
    """Save question notes unless someone else saved different notes since `base_version`."""
    check_notes(notes)
    answer = _lock(answer)
    if answer.notes == notes:
        return answer
    if answer.notes_version != base_version:
        by = answer.notes_updated_by.get_username() if answer.notes_updated_by else "someone"
        raise NotesConflict(theirs=answer.notes, version=answer.notes_version, by=by)
    changes = [{"field": "notes", "before": answer.notes, "after": notes}]
    answer.notes = notes
    answer.notes_version += 1
    answer.notes_updated_by = user
    _record(answer, user, changes, answer.risk)
    return answer


@transaction.atomic
def lens_review_notes_update(
    *, lens_review: LensReview, notes: str, base_version: int, user: AbstractBaseUser
) -> LensReview:
    check_notes(notes)
    review = LensReview.objects.select_for_update().get(pk=lens_review.pk)
    if review.notes == notes:
        return review
    if review.notes_version != base_version:
        raise NotesConflict(theirs=review.notes, version=review.notes_version, by="someone")
    review.notes = notes
    review.notes_version += 1
    review.version += 1
    review.save(update_fields=["notes", "notes_version", "version", "updated_at"])
    return review


@transaction.atomic
def pillar_notes_update(
    *,
    lens_review: LensReview,
    pillar_pk: int,
    notes: str,
    base_version: int,
    user: AbstractBaseUser,
) -> PillarNote:
    check_notes(notes)
    note, _ = PillarNote.objects.select_for_update().get_or_create(
        lens_review=lens_review, pillar_id=pillar_pk
    )
    if note.notes == notes:
        return note
    if note.notes_version != base_version:
        raise NotesConflict(theirs=note.notes, version=note.notes_version, by="someone")
    note.notes = notes
    note.notes_version += 1
    note.save(update_fields=["notes", "notes_version"])
    LensReview.objects.filter(pk=lens_review.pk).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    return note


# -- reading -------------------------------------------------------------------------------------


def risk_counts_by_pillar(lens_review: LensReview) -> dict[int, dict[str, int]]:
    """Per pillar pk: how many questions have each risk, plus `answered` and `total`."""
    rows = (
        Answer.objects.filter(lens_review=lens_review)
        .values("question__pillar_id", "risk")
        .annotate(n=Count("pk"))
    )
    counts: dict[int, dict[str, int]] = {}
    for row in rows:
        pillar = counts.setdefault(
            row["question__pillar_id"], {risk.lower(): 0 for risk in AnswerRisk.values}
        )
        pillar[row["risk"].lower()] = row["n"]
    for pillar in counts.values():
        pillar["total"] = sum(pillar.values())
        pillar["answered"] = pillar["total"] - pillar["unanswered"]
    return counts
