"""ListNotifications: the lens reviews that a newer published version of their lens could
upgrade, as the workload pages tell their members."""

from __future__ import annotations

from typing import Any

from api.calls import Call
from api.errors import validation_error
from api.operations.common import WORKLOAD_ID, arn_of_lens, workload_of
from api.operations.lenses import lens_name
from api.pagination import next_token, page_size, page_start
from api.routing import operation
from lenses.models import LensVersion
from reviews.upgrades import lens_reviews_behind, upgrade_notices


@operation("ListNotifications", "POST", "/notifications")
def list_notifications(call: Call) -> dict[str, Any]:
    """LENS_VERSION_DEPRECATED where the review's version is deprecated, LENS_VERSION_UPGRADED
    where it is only older; each names the newest published version."""
    public_id = call.input.string("WorkloadId", pattern=WORKLOAD_ID)
    if call.input.string("ResourceArn", max_length=250) is not None:
        raise validation_error(
            "ResourceArn: Archlens has no review templates; leave it out.", field="ResourceArn"
        )
    size = page_size(call, maximum=50)
    after = page_start(call, {"workload": public_id})
    reviews = lens_reviews_behind(call.user)
    if public_id is not None:
        reviews = reviews.filter(workload=workload_of(call))
    if after is not None:
        reviews = reviews.filter(pk__gt=after)
    page = list(
        reviews.select_related("workload", "lens", "lens_version")
        .defer("lens_version__source", "lens_version__warnings")
        .order_by("pk")[: size + 1]
    )
    more = len(page) > size
    page = page[:size]
    notices = upgrade_notices(page)
    summaries = []
    for review in page:
        notice = notices.get(review.pk)
        if notice is None:  # published and withdrawn between the two reads
            continue
        deprecated = review.lens_version.status == LensVersion.Status.DEPRECATED
        summaries.append(
            {
                "Type": "LENS_VERSION_DEPRECATED" if deprecated else "LENS_VERSION_UPGRADED",
                "LensUpgradeSummary": {
                    "WorkloadId": review.workload.public_id,
                    "WorkloadName": review.workload.name,
                    "LensAlias": lens_name(review.lens),
                    "LensArn": arn_of_lens(review.lens),
                    "CurrentLensVersion": review.lens_version.label,
                    "LatestLensVersion": notice.target.label,
                },
            }
        )
    result: dict[str, Any] = {"NotificationSummaries": summaries}
    if more:
        result["NextToken"] = next_token(call, {"workload": public_id}, page[-1].pk)
    return result
