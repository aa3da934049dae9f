"""ListProfiles, GetProfile, UpdateProfile, DeleteProfile, AssociateProfiles,
DisassociateProfiles, ListProfileNotifications, UpgradeProfileVersion, CreateProfile,
GetProfileTemplate.

The AWS tool and Archlens split a profile differently. There, the questions and choices are
one fixed template of AWS's, and a profile is a set of answers to it that workloads share. Here
each profile writes its own questions and choices (which lens questions each choice
prioritises), and each workload answers them (profiles.models). So:
- GetProfile shows the profile's questions and choices with no SelectedChoiceIds: the answers
  belong to each workload, on the browser's profile page of the workload;
- AssociateProfiles attaches one profile to a workload (keeping its answers when it is the
  profile the workload already uses), DisassociateProfiles detaches it;
- a profile edited since a workload answered it is a PROFILE_ANSWERS_UPDATED notification,
  and UpgradeProfileVersion takes the workload to the new version (answers to choices that no
  longer exist are dropped), after a milestone when MilestoneName is given;
- CreateProfile, GetProfileTemplate and UpdateProfile's ProfileQuestions would carry answers to
  the AWS template, which Archlens has not: they are a ValidationException that says where
  profiles are written (the browser's editor, or a profile file).
As in the browser, staff write profiles and everyone signed in reads them.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from api.calls import Call, domain_errors
from api.errors import access_denied, not_found, validation_error
from api.identifiers import account_id, arn, parse_arn
from api.operations.common import epoch, workload_of
from api.pagination import next_token, page_size, page_start
from api.routing import operation
from profiles.models import Profile, WorkloadProfile
from profiles.selectors import profile_use_of
from profiles.services import (
    profile_delete,
    profile_save,
    workload_profile_remove,
    workload_profile_set,
)
from reviews.milestones import milestone_create
from reviews.models import Workload

WRITTEN_HERE = (
    "Archlens profiles write their own questions and choices: create and edit them in the "
    "browser (Profiles) or import a profile file; a workload answers its profile on its "
    "profile page."
)
OWNER_TYPES = ("SELF", "SHARED")


def profile_arn(profile: Profile) -> str:
    return arn("profile", str(profile.pk), profile.owner_id)


def _profile_named(value: str | None) -> Profile:
    parsed = parse_arn(value or "")
    profile = None
    if parsed is not None and parsed.resource == "profile" and parsed.resource_id.isdigit():
        profile = Profile.objects.filter(pk=int(parsed.resource_id)).first()
    if profile is None:
        raise not_found(f"No profile {value!r}.", resource_id=value or "", resource_type="PROFILE")
    return profile


def profile_of(call: Call, member: str = "ProfileArn") -> Profile:
    value = call.input.string(member, required=True, min_length=1, max_length=2084)
    call.input.check()
    return _profile_named(value)


def _require_staff(call: Call) -> None:
    if not call.user.is_staff:
        raise access_denied("Only staff manage profiles.")


def _owner(profile: Profile) -> str:
    return account_id(profile.owner_id) if profile.owner_id else "aws"


def summary_shape(profile: Profile) -> dict[str, Any]:
    return {
        "ProfileArn": profile_arn(profile),
        "ProfileVersion": str(profile.version),
        "ProfileName": profile.name,
        "ProfileDescription": profile.description,
        "Owner": _owner(profile),
        "CreatedAt": epoch(profile.created_at),
        "UpdatedAt": epoch(profile.updated_at),
    }


def profile_shape(profile: Profile) -> dict[str, Any]:
    return {
        **summary_shape(profile),
        "ProfileQuestions": [
            {
                "QuestionId": question["id"],
                "QuestionTitle": question["title"],
                "QuestionDescription": question["description"],
                "QuestionChoices": [
                    {
                        "ChoiceId": choice["id"],
                        "ChoiceTitle": choice["title"],
                        "ChoiceDescription": choice["description"],
                    }
                    for choice in question["choices"]
                ],
                "SelectedChoiceIds": [],
                "MinSelectedChoices": 0,
                "MaxSelectedChoices": 1
                if question["selectionType"] == "SINGLE"
                else len(question["choices"]),
            }
            for question in profile.questions
        ],
        "Tags": {},
    }


@operation("ListProfiles", "GET", "/profileSummaries")
def list_profiles(call: Call) -> dict[str, Any]:
    prefix = call.input.string("ProfileNamePrefix", max_length=100) or ""
    owner_type = call.input.string("ProfileOwnerType", choices=OWNER_TYPES)
    size = page_size(call, maximum=50)
    filters = {"prefix": prefix, "owner": owner_type}
    after = page_start(call, filters)
    profiles = Profile.objects.filter(name__istartswith=prefix)
    if owner_type == "SELF":
        profiles = profiles.filter(owner=call.user)
    elif owner_type == "SHARED":
        profiles = profiles.exclude(owner=call.user)
    if after is not None:
        profiles = profiles.filter(pk__gt=after)
    page = list(profiles.order_by("pk")[: size + 1])
    result: dict[str, Any] = {"ProfileSummaries": [summary_shape(p) for p in page[:size]]}
    if len(page) > size:
        result["NextToken"] = next_token(call, filters, page[size - 1].pk)
    return result


@operation("GetProfile", "GET", "/profiles/{ProfileArn}")
def get_profile(call: Call) -> dict[str, Any]:
    version = call.input.string("ProfileVersion", min_length=1, max_length=32)
    profile = profile_of(call)
    if version is not None and version != str(profile.version):
        raise not_found(
            f"Archlens keeps only the current version of a profile ({profile.version}).",
            resource_id=profile_arn(profile),
            resource_type="PROFILE",
        )
    return {"Profile": profile_shape(profile)}


@operation("UpdateProfile", "PATCH", "/profiles/{ProfileArn}")
def update_profile(call: Call) -> dict[str, Any]:
    description = call.input.string("ProfileDescription", min_length=3, max_length=100)
    questions = call.input.has("ProfileQuestions")
    _require_staff(call)
    profile = profile_of(call)
    if questions:
        raise validation_error(f"ProfileQuestions: {WRITTEN_HERE}", field="ProfileQuestions")
    if description is not None:
        document = {
            "name": profile.name,
            "description": description,
            "questions": profile.questions,
        }
        with domain_errors(resource_type="PROFILE", resource_id=profile_arn(profile)):
            profile = profile_save(document=document, user=call.user, profile=profile)
    return {"Profile": profile_shape(profile)}


@operation("DeleteProfile", "DELETE", "/profiles/{ProfileArn}", idempotent=True)
def delete_profile(call: Call) -> dict[str, Any]:
    call.input.string("ClientRequestToken", required=True, min_length=1, max_length=2048)
    _require_staff(call)
    profile = profile_of(call)
    with domain_errors(resource_type="PROFILE", resource_id=profile_arn(profile)):
        profile_delete(profile=profile)
    return {}


@operation("CreateProfile", "POST", "/profiles", idempotent=True)
def create_profile(call: Call) -> dict[str, Any]:
    call.input.string("ProfileName", required=True, min_length=3, max_length=100)
    call.input.check()
    _require_staff(call)
    raise validation_error(f"ProfileQuestions: {WRITTEN_HERE}", field="ProfileQuestions")


@operation("GetProfileTemplate", "GET", "/profileTemplate")
def get_profile_template(call: Call) -> dict[str, Any]:
    raise validation_error(
        f"Archlens has no profile template: {WRITTEN_HERE} GetProfile shows each profile's "
        "questions.",
        reason="OTHER",
    )


def _arns(call: Call) -> list[Profile]:
    values = call.input.strings(
        "ProfileArns", required=True, max_items=1, min_length=1, max_length=2084
    )
    call.input.check()
    if not values:
        raise validation_error(
            "ProfileArns: name the one profile (a workload uses one at a time).",
            field="ProfileArns",
        )
    return [_profile_named(value) for value in values]


@operation("AssociateProfiles", "PATCH", "/workloads/{WorkloadId}/associateProfiles")
def associate_profiles(call: Call) -> dict[str, Any]:
    workload = workload_of(call, write=True)
    [profile] = _arns(call)
    use = profile_use_of(workload)
    if use is not None and use.profile_id == profile.pk:
        return {}
    with domain_errors(resource_type="PROFILE", resource_id=profile_arn(profile)):
        workload_profile_set(workload=workload, profile=profile, answers={}, user=call.user)
    return {}


@operation("DisassociateProfiles", "PATCH", "/workloads/{WorkloadId}/disassociateProfiles")
def disassociate_profiles(call: Call) -> dict[str, Any]:
    workload = workload_of(call, write=True)
    [profile] = _arns(call)
    if WorkloadProfile.objects.filter(workload=workload, profile=profile).exists():
        workload_profile_remove(workload=workload, profile=profile)
    return {}


@operation("ListProfileNotifications", "GET", "/profileNotifications")
def list_profile_notifications(call: Call) -> dict[str, Any]:
    """A workload whose profile was edited since its answers were given: PROFILE_ANSWERS_UPDATED
    (a deleted profile leaves its workloads at once, so PROFILE_DELETED never comes)."""
    size = page_size(call, maximum=50)
    workload_id = call.input.string("WorkloadId", pattern=r"[0-9a-f]{32}")
    call.input.check()
    if workload_id is not None:
        workloads = Workload.objects.filter(pk=workload_of(call).pk)
    else:
        workloads = Workload.objects.for_user(call.user)
    filters = {"workload": workload_id}
    after = page_start(call, filters)
    uses = WorkloadProfile.objects.filter(workload__in=workloads).select_related(
        "profile", "workload"
    )
    if after is not None:
        uses = uses.filter(pk__gt=after)
    stale = [use for use in uses.order_by("pk") if use.profile_version < use.profile.version]
    page = stale[:size]
    result: dict[str, Any] = {
        "NotificationSummaries": [
            {
                "CurrentProfileVersion": str(use.profile_version),
                "LatestProfileVersion": str(use.profile.version),
                "Type": "PROFILE_ANSWERS_UPDATED",
                "ProfileArn": profile_arn(use.profile),
                "ProfileName": use.profile.name,
                "WorkloadId": use.workload.public_id,
                "WorkloadName": use.workload.name,
            }
            for use in page
        ]
    }
    if len(stale) > size:
        result["NextToken"] = next_token(call, filters, page[-1].pk)
    return result


@operation(
    "UpgradeProfileVersion",
    "PUT",
    "/workloads/{WorkloadId}/profiles/{ProfileArn}/upgrade",
    idempotent=True,
)
def upgrade_profile_version(call: Call) -> dict[str, Any]:
    milestone = call.input.string("MilestoneName", min_length=3, max_length=100)
    workload = workload_of(call, write=True)
    profile = profile_of(call)
    use = profile_use_of(workload)
    if use is None or use.profile_id != profile.pk:
        raise validation_error(
            "The workload does not use this profile: AssociateProfiles first.", field="ProfileArn"
        )
    with transaction.atomic(), domain_errors(resource_type="WORKLOAD"):
        if milestone:
            milestone_create(workload=workload, name=milestone, user=call.user)
        known = {q["id"]: {c["id"] for c in q["choices"]} for q in profile.questions}
        answers = {
            question_id: [c for c in choice_ids if c in known.get(question_id, ())]
            for question_id, choice_ids in use.answers.items()
            if question_id in known
        }
        workload_profile_set(
            workload=workload,
            profile=profile,
            answers=answers,
            follows_pillar_order=use.follows_pillar_order,
            user=call.user,
        )
    return {}
