"""CreateMilestone, ListMilestones, GetMilestone.

A milestone is the workload frozen at one moment (reviews.milestones): its lenses, risk counts
and improvement status are read from the frozen copy, never from the workload as it is now.
The workload's own properties (name, description...) are not frozen in Archlens, so they are
today's.
"""

from __future__ import annotations

import copy
from typing import Any

from api.calls import Call, domain_errors
from api.errors import not_found
from api.operations.common import workload_of
from api.operations.workloads import summary_shape, workload_shape
from api.pagination import next_token, page_size, page_start
from api.routing import operation
from lenses.models import Lens
from reviews.improvements import improvement_status
from reviews.milestones import milestone_create
from reviews.models import AnswerRisk, ImprovementStatus, Milestone, Workload
from reviews.snapshots import RISK_KEYS, total_counts

MILESTONE_NUMBER = {"minimum": 1, "maximum": 100}


def milestone_of(call: Call, workload: Workload, *, required: bool = False) -> Milestone | None:
    """The workload's milestone named by MilestoneNumber; None when the member is absent."""
    number = call.input.integer("MilestoneNumber", required=required, **MILESTONE_NUMBER)
    call.input.check()
    if number is None:
        return None
    milestone = workload.milestones.filter(number=number).first()
    if milestone is None:
        raise not_found(
            f"This workload has no milestone {number}.",
            resource_id=str(number),
            resource_type="MILESTONE",
        )
    return milestone


def frozen_counts(snapshots: list[dict[str, Any]]) -> dict[str, int]:
    """A RiskCounts map of frozen lens reviews."""
    totals = total_counts(snapshot["counts"] for snapshot in snapshots)
    return {risk: totals[key] for risk, key in zip(AnswerRisk.values, RISK_KEYS, strict=True)}


def _frozen_improvement(snapshots: list[dict[str, Any]]) -> str:
    """The improvement status of frozen lens reviews, from the items open when it was saved
    (a milestone keeps no closed items: those count as done)."""
    statuses = [
        question["improvement"]["status"]
        for snapshot in snapshots
        for pillar in snapshot["pillars"]
        for question in pillar["questions"]
        if question["improvement"]
    ]
    return improvement_status(
        items=len(statuses),
        not_started=statuses.count(ImprovementStatus.NOT_STARTED),
        in_progress=statuses.count(ImprovementStatus.IN_PROGRESS),
        complete=statuses.count(ImprovementStatus.COMPLETE),
        acknowledged=statuses.count(ImprovementStatus.RISK_ACKNOWLEDGED),
    )


def _as_frozen(workload: Workload, milestone: Milestone, lenses: dict[str, Lens]) -> Workload:
    """A copy of the workload carrying what with_summaries sets, from the milestone."""
    snapshots = milestone.data.get("lens_reviews", [])
    frozen = copy.copy(workload)
    frozen.lenses = [
        lenses[snapshot["lens"]["alias"]]
        for snapshot in snapshots
        if snapshot["lens"]["alias"] in lenses
    ]
    frozen.risk_counts = frozen_counts(snapshots)
    frozen.improvement = _frozen_improvement(snapshots)
    frozen.last_updated = milestone.recorded_at
    return frozen


def _lenses_of(milestones: list[Milestone]) -> dict[str, Lens]:
    """The lenses the milestones froze, by alias (one query; a lens deleted since is left out)."""
    aliases = {
        snapshot["lens"]["alias"]
        for milestone in milestones
        for snapshot in milestone.data.get("lens_reviews", [])
    }
    return {lens.alias: lens for lens in Lens.objects.filter(alias__in=aliases)}


@operation("CreateMilestone", "POST", "/workloads/{WorkloadId}/milestones", idempotent=True)
def create_milestone(call: Call) -> dict[str, Any]:
    # As on the milestones page: saving one is the owner's.
    workload = workload_of(call, owner=True)
    name = call.input.string("MilestoneName", required=True, min_length=3, max_length=100)
    call.input.string("ClientRequestToken", max_length=2048)
    call.input.check()
    with domain_errors(
        fields={"name": "MilestoneName"}, resource_type="MILESTONE", resource_id=name
    ):
        milestone = milestone_create(workload=workload, name=name, user=call.user)
    return {"WorkloadId": workload.public_id, "MilestoneNumber": milestone.number}


@operation("ListMilestones", "POST", "/workloads/{WorkloadId}/milestonesSummaries")
def list_milestones(call: Call) -> dict[str, Any]:
    workload = workload_of(call)
    size = page_size(call, maximum=50)
    filters = {"workload": workload.public_id}
    after = page_start(call, filters)
    milestones = workload.milestones.order_by("number")
    if after is not None:
        milestones = milestones.filter(number__gt=after)
    page = list(milestones[: size + 1])
    more = len(page) > size
    page = page[:size]
    lenses = _lenses_of(page)
    result: dict[str, Any] = {
        "WorkloadId": workload.public_id,
        "MilestoneSummaries": [
            {
                "MilestoneNumber": milestone.number,
                "MilestoneName": milestone.name,
                "RecordedAt": milestone.recorded_at,
                "WorkloadSummary": summary_shape(_as_frozen(workload, milestone, lenses)),
            }
            for milestone in page
        ],
    }
    if more:
        result["NextToken"] = next_token(call, filters, page[-1].number)
    return result


@operation("GetMilestone", "GET", "/workloads/{WorkloadId}/milestones/{MilestoneNumber}")
def get_milestone(call: Call) -> dict[str, Any]:
    workload = workload_of(call)
    milestone = milestone_of(call, workload, required=True)
    frozen = _as_frozen(workload, milestone, _lenses_of([milestone]))
    return {
        "WorkloadId": workload.public_id,
        "Milestone": {
            "MilestoneNumber": milestone.number,
            "MilestoneName": milestone.name,
            "RecordedAt": milestone.recorded_at,
            "Workload": workload_shape(frozen),
        },
    }
