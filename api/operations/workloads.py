"""CreateWorkload, GetWorkload, UpdateWorkload, DeleteWorkload, ListWorkloads."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from api.calls import Call, domain_errors
from api.errors import validation_error
from api.identifiers import account_id
from api.operations.common import (
    arn_of_lens,
    arn_of_workload,
    check_tags,
    lenses_named,
    risk_counts,
    workload_of,
)
from api.operations.review_templates import templates_named
from api.pagination import next_token, page_size, page_start
from api.routing import operation
from review_templates.services import template_apply
from reviews import selectors
from reviews.forms import MAX_REGIONS, REGION_MAX
from reviews.models import NOTES_MAX, Workload
from reviews.services import builtin_pillar_ids, workload_create, workload_delete, workload_update

# The API's members for the services' fields, where a field at fault is named.
FIELDS = {
    "name": "WorkloadName",
    "description": "Description",
    "environment": "Environment",
    "regions": "AwsRegions",
    "review_owner": "ReviewOwner",
    "architectural_design_url": "ArchitecturalDesign",
    "industry_type": "IndustryType",
    "industry": "Industry",
    "notes": "Notes",
    "tags": "Tags",
    "pillar_priorities": "PillarPriorities",
}
IMPROVEMENT_STATUS = {"NONE": "NOT_APPLICABLE"}  # no item at all: the AWS tool's word for it


def _lens_name(lens: Any) -> str:
    return lens.alias if lens.is_builtin else arn_of_lens(lens)


def workload_shape(workload: Workload) -> dict[str, Any]:
    """The Workload structure; `workload` carries what with_summaries sets."""
    return {
        **summary_shape(workload),
        "Description": workload.description,
        "Environment": workload.environment,
        "AccountIds": [],
        "AwsRegions": workload.regions,
        "NonAwsRegions": [],
        "ArchitecturalDesign": workload.architectural_design_url,
        "ReviewOwner": workload.review_owner,
        "IsReviewOwnerUpdateAcknowledged": False,
        "IndustryType": workload.industry_type,
        "Industry": workload.industry,
        "Notes": workload.notes,
        "PillarPriorities": workload.pillar_priorities,
        "Tags": workload.tags,
    }


def summary_shape(workload: Workload) -> dict[str, Any]:
    return {
        "WorkloadId": workload.public_id,
        "WorkloadArn": arn_of_workload(workload),
        "WorkloadName": workload.name,
        "Owner": account_id(workload.owner_id),
        "UpdatedAt": workload.last_updated,
        "Lenses": [_lens_name(lens) for lens in workload.lenses],
        "RiskCounts": risk_counts(workload.risk_counts),
        "ImprovementStatus": IMPROVEMENT_STATUS.get(workload.improvement, workload.improvement),
        "Profiles": [],
        "PrioritizedRiskCounts": {},
    }


def with_summaries(workloads: list[Workload]) -> list[Workload]:
    """Set `lenses`, `risk_counts`, `improvement` and `last_updated` (three queries a page)."""
    ids = [workload.pk for workload in workloads]
    selectors.add_list_counts(workloads)
    counts = selectors.risk_counts_of(ids)
    lenses = selectors.active_lenses_of(ids)
    for workload in workloads:
        workload.risk_counts = counts.get(workload.pk, {})
        workload.lenses = lenses.get(workload.pk, [])
    return workloads


def _properties(call: Call, *, creating: bool) -> dict[str, Any]:
    """The workload properties the request sets, checked; absent members are left out."""
    given = call.input
    fields = {
        "name": given.string("WorkloadName", required=creating, min_length=3, max_length=100),
        "description": given.string("Description", required=creating, min_length=3, max_length=250),
        "environment": given.string(
            "Environment", required=creating, choices=[e.value for e in Workload.Environment]
        ),
        "review_owner": given.string("ReviewOwner", min_length=3, max_length=255),
        "architectural_design_url": given.string("ArchitecturalDesign", max_length=2048),
        "industry_type": given.string(
            "IndustryType", choices=["", *[i.value for i in Workload.IndustryType]]
        ),
        "industry": given.string("Industry", max_length=100),
        "notes": given.string("Notes", max_length=NOTES_MAX),
        "pillar_priorities": given.strings("PillarPriorities", min_length=1, max_length=64),
        "tags": given.mapping("Tags"),
    }
    aws = given.strings("AwsRegions", max_items=MAX_REGIONS, max_length=REGION_MAX)
    non_aws = given.strings("NonAwsRegions", max_items=5, min_length=3, max_length=25)
    if aws is not None or non_aws is not None:
        regions = [*(aws or []), *(non_aws or [])]
        fields["regions"] = list(dict.fromkeys(regions))[:MAX_REGIONS]
    given.strings("AccountIds", max_items=100, pattern=r"[0-9]{12}")  # accepted, not kept
    for member in ("ProfileArns", "Applications"):
        if given.strings(member, max_items=1):
            raise validation_error(
                f"{member}: Archlens has no profiles or AppRegistry applications yet; "
                "leave it out.",
                field=member,
            )
    _refuse_integrations(call)
    given.check()
    if fields["tags"] is not None:
        check_tags(fields["tags"])
    if fields["pillar_priorities"] is not None:
        fields["pillar_priorities"] = _complete_priorities(fields["pillar_priorities"])
    return {name: value for name, value in fields.items() if value is not None}


def _refuse_integrations(call: Call) -> None:
    jira = call.input.mapping("JiraConfiguration") or {}
    if jira.get("IssueManagementStatus") == "ENABLED":
        raise validation_error(
            "JiraConfiguration: Archlens has no Jira integration.", field="JiraConfiguration"
        )
    discovery = call.input.mapping("DiscoveryConfig") or {}
    if discovery.get("TrustedAdvisorIntegrationStatus") == "ENABLED":
        raise validation_error(
            "DiscoveryConfig: Archlens has no Trusted Advisor integration.",
            field="DiscoveryConfig",
        )
    if call.input.string("ImprovementStatus") is not None:
        raise validation_error(
            "ImprovementStatus: Archlens derives it from the improvement items; leave it out.",
            field="ImprovementStatus",
        )


def _complete_priorities(given: list[str]) -> list[str]:
    """The AWS tool takes the pillars to put first; Archlens keeps a whole order, so the
    pillars left out follow in lens order."""
    every = builtin_pillar_ids()
    unknown = [pillar for pillar in given if pillar not in every]
    if unknown or len(set(given)) != len(given):
        raise validation_error(
            f"PillarPriorities: name each pillar at most once, from {', '.join(every)}.",
            field="PillarPriorities",
        )
    return [*given, *[pillar for pillar in every if pillar not in given]]


def _summarised(call: Call, public_id: str) -> Workload:
    workload = Workload.objects.with_role(call.user).get(public_id=public_id)
    return with_summaries([workload])[0]


@operation("CreateWorkload", "POST", "/workloads", idempotent=True)
def create_workload(call: Call) -> dict[str, Any]:
    fields = _properties(call, creating=True)
    lens_names = call.input.strings("Lenses", required=True, min_length=1, max_length=2048)
    call.input.check()
    template_arns = call.input.strings("ReviewTemplateArns", min_length=1, max_length=250)
    call.input.check()
    lenses = lenses_named(call, lens_names)
    templates = templates_named(call, template_arns or [])
    fields.setdefault("review_owner", call.user.get_full_name() or call.user.get_username())
    with domain_errors(fields=FIELDS, resource_type="WORKLOAD"), transaction.atomic():
        workload = workload_create(owner=call.user, lenses=lenses, **fields)
        for template in templates:  # the new workload's owner may change it
            template_apply(template=template, workload=workload, user=call.user)
    return {"WorkloadId": workload.public_id, "WorkloadArn": arn_of_workload(workload)}


@operation("GetWorkload", "GET", "/workloads/{WorkloadId}")
def get_workload(call: Call) -> dict[str, Any]:
    workload = workload_of(call)
    return {"Workload": workload_shape(_summarised(call, workload.public_id))}


@operation("UpdateWorkload", "PATCH", "/workloads/{WorkloadId}")
def update_workload(call: Call) -> dict[str, Any]:
    workload = workload_of(call, write=True)
    fields = _properties(call, creating=False)
    call.input.boolean("IsReviewOwnerUpdateAcknowledged")
    call.input.check()
    if fields:
        with domain_errors(fields=FIELDS, resource_type="WORKLOAD"):
            workload_update(workload=workload, user=call.user, **fields)
    return {"Workload": workload_shape(_summarised(call, workload.public_id))}


@operation("DeleteWorkload", "DELETE", "/workloads/{WorkloadId}", idempotent=True)
def delete_workload(call: Call) -> dict[str, Any]:
    workload = workload_of(call, owner=True)
    with domain_errors(resource_type="WORKLOAD", resource_id=workload.public_id):
        workload_delete(workload=workload, user=call.user)
    return {}


@operation("ListWorkloads", "POST", "/workloadsSummaries")
def list_workloads(call: Call) -> dict[str, Any]:
    prefix = call.input.string("WorkloadNamePrefix", max_length=100) or ""
    size = page_size(call, maximum=50)
    after = page_start(call, {"prefix": prefix})
    workloads = selectors.workloads_for_list(call.user).filter(name__istartswith=prefix)
    if after is not None:
        workloads = workloads.filter(pk__gt=after)
    page = list(workloads.order_by("pk")[: size + 1])
    more = len(page) > size
    page = with_summaries(page[:size])
    result: dict[str, Any] = {"WorkloadSummaries": [summary_shape(w) for w in page]}
    if more:
        result["NextToken"] = next_token(call, {"prefix": prefix}, page[-1].pk)
    return result
