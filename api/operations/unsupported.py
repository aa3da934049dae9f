"""The AWS tool's operations for what Archlens does not have (yet), answered plainly.

Scripts written for the AWS tool often list profile shares, review templates or Trusted Advisor
checks on the way to what they want. A list answers with the empty result the service model
documents, since there is nothing of that kind in Archlens; anything else is a
ValidationException that says what Archlens lacks. Neither is ever an unknown operation or a
500. Operations on a workload first check the caller's access to it, as every operation does,
so they reveal no more than GetWorkload would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from api.calls import Call
from api.errors import validation_error
from api.operations.common import workload_of
from api.pagination import page_size, page_start
from api.routing import operation

# Every profile is visible to everyone signed in (api.operations.profiles).
PROFILE_SHARES = "profile shares: every profile is visible to everyone signed in"
JIRA = "a Jira integration"
TRUSTED_ADVISOR = "a Trusted Advisor integration"


class Missing(NamedTuple):
    name: str
    method: str
    uri: str
    lacks: str  # what Archlens does not have, for the message
    workload_access: str | None = None  # "read" or "write" when the URI names a workload
    empty: dict[str, Any] | None = None  # a list's empty result; None: ValidationException


TABLE = [
    Missing("CreateProfileShare", "POST", "/profiles/{ProfileArn}/shares", PROFILE_SHARES),
    Missing(
        "DeleteProfileShare", "DELETE", "/profiles/{ProfileArn}/shares/{ShareId}", PROFILE_SHARES
    ),
    Missing(
        "ListProfileShares",
        "GET",
        "/profiles/{ProfileArn}/shares",
        PROFILE_SHARES,
        empty={"ProfileShareSummaries": []},
    ),
    Missing(
        "UpdateIntegration",
        "POST",
        "/workloads/{WorkloadId}/updateIntegration",
        JIRA,
        workload_access="write",
    ),
    Missing(
        "ListCheckDetails",
        "POST",
        "/workloads/{WorkloadId}/checks",
        TRUSTED_ADVISOR,
        workload_access="read",
        empty={"CheckDetails": []},
    ),
    Missing(
        "ListCheckSummaries",
        "POST",
        "/workloads/{WorkloadId}/checkSummaries",
        TRUSTED_ADVISOR,
        workload_access="read",
        empty={"CheckSummaries": []},
    ),
]


def _handler(missing: Missing) -> Callable[[Call], dict[str, Any]]:
    name, lacks, empty = missing.name, missing.lacks, missing.empty

    def handle(call: Call) -> dict[str, Any]:
        if missing.workload_access is not None or call.input.has("WorkloadId"):
            workload_of(call, write=missing.workload_access == "write")
        if empty is None:
            raise validation_error(f"{name}: Archlens does not have {lacks} yet.", reason="OTHER")
        page_size(call, maximum=50)
        page_start(call, {})
        return {member: [] for member in empty}

    handle.__name__ = handle.__qualname__ = name
    handle.__doc__ = f"{name}: Archlens does not have {lacks}."
    return handle


for _missing in TABLE:
    operation(_missing.name, _missing.method, _missing.uri)(_handler(_missing))


@operation("GetGlobalSettings", "GET", "/global-settings")
def get_global_settings(call: Call) -> dict[str, Any]:
    """What is true of Archlens: no AWS Organizations sharing, discovery or Jira."""
    return {
        "OrganizationSharingStatus": "DISABLED",
        "DiscoveryIntegrationStatus": "DISABLED",
        "JiraConfiguration": {"IntegrationStatus": "NOT_CONFIGURED"},
    }


@operation("UpdateGlobalSettings", "PATCH", "/global-settings")
def update_global_settings(call: Call) -> dict[str, Any]:
    """Setting what is already so (DISABLED) is accepted; enabling anything is refused."""
    for member in ("OrganizationSharingStatus", "DiscoveryIntegrationStatus"):
        if call.input.string(member, choices=("ENABLED", "DISABLED")) == "ENABLED":
            raise validation_error(
                f"{member}: Archlens has no AWS Organizations or discovery integration.",
                field=member,
            )
    jira = call.input.mapping("JiraConfiguration")
    call.input.check()
    if jira:
        raise validation_error(
            "JiraConfiguration: Archlens does not have a Jira integration yet.",
            field="JiraConfiguration",
        )
    return {}
