"""GetLensReviewReport, GetConsolidatedReport.

The AWS tool returns its reports in the response, so these do too: the PDF is rendered in the
request, by the renderer the report worker uses (reviews.reports.rendering), from an unsaved
Report that nothing stores or queues. Waiting on the worker instead would add the queue's delay
to the render and hold the request (and its web worker) open just as long, and when the workers
are busy a bound on the wait would fail requests that rendering here would have answered.
`make bench-api` times the built-in lens fully answered: 5.5 s at the median on the shared
two-core development machine at a load average of 9 (the render is one CPU-bound WeasyPrint
call, so an idle core takes a fraction of that). Each user renders one report at a time: a
second request meanwhile gets ThrottlingException, which the AWS SDKs retry by themselves, so
a script in a loop holds one web worker, not all of them. A report asked for through the API
leaves no Report row; the browser's report list shows what people asked for there.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache import cache

from api.calls import Call, domain_errors
from api.errors import ApiError, validation_error
from api.identifiers import workload_arn
from api.operations.common import arn_of_lens
from api.operations.lens_reviews import lens_names, reviewed
from api.pagination import next_token, page_size, page_start
from api.routing import operation
from lenses.models import Lens
from reviews.models import AnswerRisk, Report, Workload
from reviews.reports import rendering
from reviews.reports.consolidated import consolidated_data

# Longer than any render: a process that died while rendering frees its user after this.
RENDER_LOCK_SECONDS = 300
# consolidated_data's count for each risk.
COUNT_OF_RISK = {
    AnswerRisk.UNANSWERED: "unanswered",
    AnswerRisk.HIGH: "high",
    AnswerRisk.MEDIUM: "medium",
    AnswerRisk.NONE: "none",
    AnswerRisk.NOT_APPLICABLE: "not_applicable",
}


@contextmanager
def one_render_at_a_time(call: Call) -> Iterator[None]:
    key = f"archlens-api-render:{call.user.pk}"
    if not cache.add(key, call.operation, timeout=RENDER_LOCK_SECONDS):
        raise ApiError(
            "ThrottlingException",
            429,
            "A report of yours is being built already; ask again once it is done.",
            ServiceCode="wellarchitected",
        )
    try:
        yield
    finally:
        cache.delete(key)


@operation("GetLensReviewReport", "GET", "/workloads/{WorkloadId}/lensReviews/{LensAlias}/report")
def get_lens_review_report(call: Call) -> dict[str, Any]:
    subject = reviewed(call)
    if subject.lens is None:
        raise validation_error(
            "The lens of this milestone has been deleted, so its report cannot be made.",
            field="LensAlias",
        )
    report = Report(
        kind=Report.Kind.LENS_REVIEW,
        workload=subject.workload,
        lens=subject.lens,
        milestone=subject.milestone,
        requested_by=call.user,
    )
    with one_render_at_a_time(call), domain_errors(resource_type="LENS", resource_id=subject.alias):
        pdf = rendering.lens_review_pdf(report)
    result: dict[str, Any] = {"WorkloadId": subject.workload.public_id}
    if subject.milestone is not None:
        result["MilestoneNumber"] = subject.milestone.number
    result["LensReviewReport"] = {
        **lens_names(subject.lens, subject.alias),
        "Base64String": base64.b64encode(pdf).decode(),
    }
    return result


def _risk_counts(counts: dict[str, int]) -> dict[str, int]:
    return {risk: counts.get(key, 0) for risk, key in COUNT_OF_RISK.items()}


@operation("GetConsolidatedReport", "GET", "/consolidatedReport")
def get_consolidated_report(call: Call) -> dict[str, Any]:
    report_format = call.input.string("Format", required=True, choices=["PDF", "JSON"])
    shared = call.input.boolean("IncludeSharedResources", default=False)
    call.input.check()
    size = page_size(call, maximum=15)
    # Without shared resources: the workloads the caller owns, as the AWS tool's own account.
    filters = {} if shared else {"owner": call.user.get_username()}
    if report_format == "PDF":
        report = Report(
            kind=Report.Kind.CONSOLIDATED,
            format=Report.Format.PDF,
            requested_by=call.user,
            filters=filters,
        )
        with one_render_at_a_time(call), domain_errors():
            pdf = rendering.consolidated_pdf(report)
        return {"Base64String": base64.b64encode(pdf).decode()}

    scope = {"shared": shared}
    after = page_start(call, scope)
    data = consolidated_data(user=call.user, filters=filters)
    # By public id, which never changes: a rename between pages cannot move a workload.
    workloads = sorted(data["workloads"], key=lambda workload: workload["id"])
    if after is not None:
        workloads = [workload for workload in workloads if workload["id"] > after]
    page = workloads[:size]
    owners = dict(
        Workload.objects.filter(public_id__in=[w["id"] for w in page]).values_list(
            "public_id", "owner_id"
        )
    )
    lenses = {
        lens.alias: lens
        for lens in Lens.objects.filter(
            alias__in={group["alias"] for w in page for group in w["lenses"]}
        )
    }
    metrics = [
        {
            "MetricType": "WORKLOAD",
            "RiskCounts": _risk_counts(workload),
            "WorkloadId": workload["id"],
            "WorkloadName": workload["name"],
            "WorkloadArn": workload_arn(workload["id"], owners[workload["id"]]),
            "UpdatedAt": workload["updated_at"],
            "Lenses": [
                {
                    "LensArn": arn_of_lens(lenses[group["alias"]]),
                    "Pillars": [
                        {"PillarId": pillar["id"], "RiskCounts": _risk_counts(pillar)}
                        for pillar in group["pillars"]
                    ],
                    "RiskCounts": _risk_counts(group),
                }
                for group in workload["lenses"]
                if group["alias"] in lenses
            ],
            "LensesAppliedCount": len(workload["lenses"]),
        }
        for workload in page
        if workload["id"] in owners
    ]
    result: dict[str, Any] = {"Metrics": metrics}
    if len(workloads) > size:
        result["NextToken"] = next_token(call, scope, page[-1]["id"])
    return result
