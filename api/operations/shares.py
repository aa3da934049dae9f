"""Workload shares with users, and share invitations (which Archlens does not have).

A share is a WorkloadMember other than the owner. Its ShareId is a keyed hash of the member's
row id: 32 hex characters as the service model asks, stable for as long as the share lasts,
and unguessable, so ids reveal nothing about other shares. A ShareId is only ever looked up
among the members of the workload in the same request, so even a ShareId taken from another
workload names nothing here.

Archlens shares take effect at once: there is no invitation to accept, so every share is
ACCEPTED, ListShareInvitations is always empty and UpdateShareInvitation has nothing to act on.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import CharField, F, Q, QuerySet
from django.db.models.functions import Cast

from api.calls import Call, domain_errors
from api.errors import not_found, validation_error
from api.identifiers import ACCOUNT_ID_OFFSET, account_id, user_id_of
from api.operations.common import workload_of
from api.pagination import next_token, page_size, page_start
from api.routing import operation
from reviews.forms import find_user
from reviews.models import Role, Workload, WorkloadMember
from reviews.services import workload_share, workload_share_add, workload_unshare

SHARE_ID = r"[0-9a-f]{32}"
PERMISSIONS = (Role.READONLY.value, Role.CONTRIBUTOR.value)
STATUSES = (
    "ACCEPTED",
    "REJECTED",
    "PENDING",
    "REVOKED",
    "EXPIRED",
    "ASSOCIATING",
    "ASSOCIATED",
    "FAILED",
)


def share_id(member_pk: int) -> str:
    message = f"archlens-workload-share|{member_pk}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:32]


def _shares(workload: Workload) -> QuerySet[WorkloadMember]:
    return WorkloadMember.objects.filter(workload=workload).exclude(role=Role.OWNER)


def _share_of(call: Call, workload: Workload) -> WorkloadMember:
    """The share named by the ShareId member, among this workload's shares only."""
    wanted = call.input.string("ShareId", required=True, pattern=SHARE_ID)
    call.input.check()
    for member in _shares(workload).select_related("user"):
        if hmac.compare_digest(share_id(member.pk), wanted):
            return member
    raise not_found(
        "This workload has no share with that ShareId.",
        resource_id=wanted,
        resource_type="WORKLOAD_SHARE",
    )


def _user_named(shared_with: str) -> AbstractBaseUser:
    """The active user a SharedWith member names: a 12-digit account id, or an email address
    or username as the sharing page takes them."""
    user_id = user_id_of(shared_with)
    if user_id is not None:
        user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    else:
        user = find_user(shared_with)
    if user is None:
        raise validation_error(
            "SharedWith names no Archlens user: give a user's 12-digit account id or email "
            "address (a shared email address needs the account id).",
            field="SharedWith",
        )
    return user


def _summary(member: WorkloadMember) -> dict[str, Any]:
    return {
        "ShareId": share_id(member.pk),
        "SharedWith": account_id(member.user_id),
        "PermissionType": member.role,
        "Status": "ACCEPTED",
    }


@operation("CreateWorkloadShare", "POST", "/workloads/{WorkloadId}/shares", idempotent=True)
def create_workload_share(call: Call) -> dict[str, Any]:
    workload = workload_of(call, owner=True)
    shared_with = call.input.string("SharedWith", required=True, min_length=12, max_length=2048)
    permission = call.input.string("PermissionType", required=True, choices=PERMISSIONS)
    call.input.string("ClientRequestToken", max_length=2048)
    call.input.check()
    user = _user_named(shared_with)
    with domain_errors(resource_type="WORKLOAD_SHARE", resource_id=workload.public_id):
        member = workload_share_add(workload=workload, user=user, role=permission, by=call.user)
    return {"WorkloadId": workload.public_id, "ShareId": share_id(member.pk)}


@operation("ListWorkloadShares", "GET", "/workloads/{WorkloadId}/shares")
def list_workload_shares(call: Call) -> dict[str, Any]:
    """Every member may see who has access, as on the sharing page."""
    workload = workload_of(call)
    prefix = call.input.string("SharedWithPrefix", max_length=100) or ""
    status = call.input.string("Status", choices=STATUSES)
    size = page_size(call, maximum=50)
    filters = {"prefix": prefix, "status": status}
    after = page_start(call, filters)
    shares = _shares(workload)
    if status not in (None, "ACCEPTED"):
        shares = shares.none()
    if prefix:
        # SharedWith is shown as the account id; a script may also look for an email address.
        account = Cast(F("user_id") + ACCOUNT_ID_OFFSET, CharField())
        shares = shares.alias(account=account).filter(
            Q(account__startswith=prefix) | Q(user__email__istartswith=prefix)
        )
    if after is not None:
        shares = shares.filter(pk__gt=after)
    page = list(shares.order_by("pk")[: size + 1])
    result: dict[str, Any] = {
        "WorkloadId": workload.public_id,
        "WorkloadShareSummaries": [_summary(member) for member in page[:size]],
    }
    if len(page) > size:
        result["NextToken"] = next_token(call, filters, page[size - 1].pk)
    return result


@operation("UpdateWorkloadShare", "PATCH", "/workloads/{WorkloadId}/shares/{ShareId}")
def update_workload_share(call: Call) -> dict[str, Any]:
    workload = workload_of(call, owner=True)
    permission = call.input.string("PermissionType", required=True, choices=PERMISSIONS)
    member = _share_of(call, workload)
    with domain_errors(resource_type="WORKLOAD_SHARE", resource_id=share_id(member.pk)):
        member = workload_share(workload=workload, user=member.user, role=permission, by=call.user)
    return {
        "WorkloadId": workload.public_id,
        "WorkloadShare": {
            **_summary(member),
            "SharedBy": account_id(workload.owner_id),
            "WorkloadName": workload.name,
            "WorkloadId": workload.public_id,
        },
    }


@operation(
    "DeleteWorkloadShare", "DELETE", "/workloads/{WorkloadId}/shares/{ShareId}", idempotent=True
)
def delete_workload_share(call: Call) -> dict[str, Any]:
    workload = workload_of(call, owner=True)
    call.input.string("ClientRequestToken", max_length=2048)
    member = _share_of(call, workload)
    with domain_errors(resource_type="WORKLOAD_SHARE", resource_id=share_id(member.pk)):
        workload_unshare(workload=workload, user=member.user, by=call.user)
    return {}


@operation("ListShareInvitations", "GET", "/shareInvitations")
def list_share_invitations(call: Call) -> dict[str, Any]:
    """Always empty: an Archlens share takes effect at once, with nothing to accept."""
    for member in ("WorkloadNamePrefix", "LensNamePrefix", "ProfileNamePrefix"):
        call.input.string(member, max_length=100)
    call.input.string("TemplateNamePrefix", max_length=100)
    call.input.string("ShareResourceType", choices=("WORKLOAD", "LENS", "PROFILE", "TEMPLATE"))
    page_size(call, maximum=50)
    page_start(call, {})
    return {"ShareInvitationSummaries": []}


@operation("UpdateShareInvitation", "PATCH", "/shareInvitations/{ShareInvitationId}")
def update_share_invitation(call: Call) -> dict[str, Any]:
    call.input.string("ShareInvitationId", required=True, pattern=SHARE_ID)
    call.input.string("ShareInvitationAction", required=True, choices=("ACCEPT", "REJECT"))
    call.input.check()
    raise validation_error(
        "Archlens has no share invitations: a workload shared with you is yours to open at "
        "once, and ListShareInvitations is always empty.",
        field="ShareInvitationId",
    )
