"""Changes to profiles and to the profile a workload uses, for every interface.

Each change that alters which questions of a workload are prioritised, or its pillar order,
bumps its lens reviews' `version` and `risk_version` in the same transaction: the overview and
the question page poll those (reviews.views.answers.poll_token), and would otherwise keep
showing the old badges until reloaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F

from profiles import profile_format
from profiles.models import Profile, WorkloadProfile
from profiles.selectors import suggested_pillar_order
from reviews.errors import CONFLICT, INVALID, NOT_FOUND, DomainError
from reviews.models import LensReview, Workload
from reviews.services import builtin_pillar_ids, workload_update

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
NAME_TAKEN = "A profile with this name exists already."


class ProfileError(DomainError):
    pass


def _touch_reviews(workloads) -> None:
    LensReview.objects.filter(workload__in=workloads).update(
        version=F("version") + 1, risk_version=F("risk_version") + 1
    )


@transaction.atomic
def profile_save(
    *,
    document: dict[str, Any],
    user: AbstractBaseUser | None,
    profile: Profile | None = None,
    builtin: bool = False,
) -> Profile:
    """Create a profile from a checked document (profile_format), or replace `profile`'s
    name, description and questions with it. Workloads using it show the change at once."""
    if profile is None:
        profile = Profile(owner=user, is_builtin=builtin)
    elif profile.questions != document["questions"]:
        profile.version += 1
    profile.name = document["name"]
    profile.description = document["description"]
    profile.questions = document["questions"]
    if Profile.objects.filter(name__iexact=profile.name).exclude(pk=profile.pk).exists():
        raise ProfileError(NAME_TAKEN, CONFLICT, field="name")
    try:
        with transaction.atomic():
            profile.save()
    except IntegrityError:
        raise ProfileError(NAME_TAKEN, CONFLICT, field="name") from None
    users = WorkloadProfile.objects.filter(profile=profile)
    _touch_reviews(users.values("workload_id"))
    for use in users.select_related("workload").filter(follows_pillar_order=True):
        _follow_pillar_order(use, user)
    return profile


def profile_import(*, raw: bytes, user: AbstractBaseUser) -> Profile:
    """A new profile from the bytes of a profile file; ProfileFileError lists its problems."""
    return profile_save(document=profile_format.read_profile_file(raw), user=user)


@transaction.atomic
def profile_delete(*, profile: Profile) -> None:
    """Delete a profile; the workloads that used it lose their prioritised questions."""
    if profile.is_builtin:
        raise ProfileError("A built-in profile cannot be deleted; edit it instead.", CONFLICT)
    _touch_reviews(WorkloadProfile.objects.filter(profile=profile).values("workload_id"))
    profile.delete()


def _check_answers(profile: Profile, answers: Any) -> dict[str, list[str]]:
    if not isinstance(answers, dict):
        raise ProfileError("The answers must map question ids to lists of choice ids.", INVALID)
    questions = {question["id"]: question for question in profile.questions}
    checked: dict[str, list[str]] = {}
    for question_id, choice_ids in answers.items():
        question = questions.get(question_id)
        if question is None:
            raise ProfileError(f"The profile has no question “{question_id}”.", INVALID)
        if not isinstance(choice_ids, list | tuple) or not all(
            isinstance(c, str) for c in choice_ids
        ):
            raise ProfileError(f"{question_id}: the choices must be a list of ids.", INVALID)
        known = {choice["id"] for choice in question["choices"]}
        for choice_id in choice_ids:
            if choice_id not in known:
                raise ProfileError(f"“{question['title']}” has no choice “{choice_id}”.", INVALID)
        if question["selectionType"] == "SINGLE" and len(set(choice_ids)) > 1:
            raise ProfileError(f"“{question['title']}” takes one choice only.", INVALID)
        if choice_ids:
            order = [c["id"] for c in question["choices"]]
            checked[question_id] = sorted(set(choice_ids), key=order.index)
    return checked


def _follow_pillar_order(use: WorkloadProfile, user: AbstractBaseUser | None) -> None:
    """Set the workload's pillar priorities from the profile's suggestion (the pillars it
    names first, the others after them in lens order); no suggestion leaves them alone."""
    suggested = suggested_pillar_order(use.profile.questions, use.answers)
    if not suggested:
        return
    every = builtin_pillar_ids()
    order = [p for p in suggested if p in every] + [p for p in every if p not in suggested]
    if order != use.workload.pillar_priorities:
        workload_update(workload=use.workload, user=user, pillar_priorities=order)


@transaction.atomic
def workload_profile_set(
    *,
    workload: Workload,
    profile: Profile,
    answers: Any,
    user: AbstractBaseUser | None,
    follows_pillar_order: bool = False,
) -> WorkloadProfile:
    """Attach `profile` to the workload (replacing the one it used) with `answers`, or change
    the answers. The caller has checked that `user` may change the workload."""
    checked = _check_answers(profile, answers)
    # The row lock keeps two people attaching at once from both creating a row.
    Workload.objects.select_for_update().filter(pk=workload.pk).first()
    use, _ = WorkloadProfile.objects.update_or_create(
        workload=workload,
        defaults={
            "profile": profile,
            "answers": checked,
            "follows_pillar_order": follows_pillar_order,
            "profile_version": profile.version,
            "updated_by": user,
        },
    )
    use.workload = workload
    if follows_pillar_order:
        _follow_pillar_order(use, user)
    _touch_reviews([workload.pk])
    return use


@transaction.atomic
def workload_profile_remove(*, workload: Workload, profile: Profile | None = None) -> None:
    """The workload uses no profile (or no longer `profile`, when named)."""
    uses = WorkloadProfile.objects.filter(workload=workload)
    if profile is not None:
        uses = uses.filter(profile=profile)
    deleted, _ = uses.delete()
    if not deleted:
        raise ProfileError("The workload does not use this profile.", NOT_FOUND)
    _touch_reviews([workload.pk])


@transaction.atomic
def builtin_profiles_load() -> list[tuple[Profile, bool]]:
    """Create the profiles shipped in profiles/builtin/ that are missing (needs the built-in
    lens), as (profile, created) pairs; those already here are left as staff may have edited
    them. A file whose name another profile has taken is refused, naming it."""
    loaded = []
    for path in sorted(BUILTIN_DIR.glob("*.json")):
        existing = Profile.objects.filter(builtin_key=path.stem).first()
        if existing is not None:
            loaded.append((existing, False))
            continue
        document = profile_format.read_profile_file(path.read_bytes())
        try:
            profile = profile_save(document=document, user=None, builtin=True)
        except ProfileError:
            raise ProfileError(
                f"{path.name}: a profile named “{document['name']}” exists already; rename it "
                "to load the built-in one.",
                CONFLICT,
            ) from None
        profile.builtin_key = path.stem
        profile.save(update_fields=["builtin_key"])
        loaded.append((profile, True))
    return loaded
