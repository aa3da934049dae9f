"""What several operations share: finding workloads and lenses for the caller, and the
shapes the AWS tool uses for them."""

from __future__ import annotations

from typing import Any

from api.calls import Call
from api.errors import ApiError, access_denied, not_found, validation_error
from api.identifiers import lens_arn, parse_arn, workload_arn
from lenses.models import Lens
from reviews import access
from reviews.errors import Kind
from reviews.forms import MAX_TAGS, TAG_KEY_MAX, TAG_VALUE_MAX
from reviews.models import AnswerRisk, LensReview, Workload

WORKLOAD_ID = r"[0-9a-f]{32}"


def workload_of(call: Call, *, write: bool = False, owner: bool = False) -> Workload:
    """The workload named by the WorkloadId member, if the caller may do this to it."""
    public_id = call.input.string("WorkloadId", required=True, pattern=WORKLOAD_ID)
    call.input.check()
    try:
        return access.workload_for(call.user, public_id, write=write, owner=owner)
    except access.AccessError as error:
        raise access_error(error, {"WORKLOAD": public_id}) from None


def access_error(error: access.AccessError, ids: dict[str, str]) -> ApiError:
    """ResourceNotFoundException naming what could not be reached, or AccessDeniedException."""
    if error.kind is Kind.NOT_FOUND:
        return not_found(
            error.message, resource_id=ids.get(error.resource, ""), resource_type=error.resource
        )
    return access_denied(error.message)


def lens_alias_of(value: str) -> str:
    """The Archlens alias behind a LensAlias member: an alias itself, or a lens ARN."""
    parsed = parse_arn(value)
    if parsed is not None and parsed.resource == "lens":
        return parsed.resource_id
    return value


def lenses_named(call: Call, values: list[str]) -> list[Lens]:
    """The lenses named by aliases or ARNs, each visible to the caller, in the order given."""
    aliases = [lens_alias_of(value) for value in values]
    visible = Lens.objects.visible_to(call.user).filter(alias__in=aliases)
    found = {lens.alias: lens for lens in visible}
    for value, alias in zip(values, aliases, strict=True):
        if alias not in found:
            raise not_found(f"No lens {value!r}.", resource_id=value, resource_type="LENS")
    return [found[alias] for alias in aliases]


def arn_of_lens(lens: Lens) -> str:
    return lens_arn(lens.alias, None if lens.is_builtin else lens.owner_id)


def arn_of_workload(workload: Workload) -> str:
    return workload_arn(workload.public_id, workload.owner_id)


def risk_counts(counts: dict[str, int]) -> dict[str, int]:
    """A RiskCounts map: every risk, zero where there is none."""
    return {risk: counts.get(risk, 0) for risk in AnswerRisk.values}


def lens_review_for(call: Call, *, write: bool = False) -> LensReview:
    """The active lens review named by WorkloadId and LensAlias, if the caller may do this."""
    public_id = call.input.string("WorkloadId", required=True, pattern=WORKLOAD_ID)
    alias = call.input.string("LensAlias", required=True, min_length=1, max_length=2048)
    call.input.check()
    try:
        return access.lens_review_for(call.user, public_id, lens_alias_of(alias), write=write)
    except access.AccessError as error:
        raise access_error(error, {"WORKLOAD": public_id, "LENS": alias}) from None


def epoch(value: Any) -> float | None:
    return value.timestamp() if value is not None else None


def check_tags(tags: dict[str, Any]) -> None:
    """Refuse a Tags map the AWS tool would refuse."""
    if len(tags) > MAX_TAGS:
        raise validation_error(f"Tags: at most {MAX_TAGS} tags.", field="Tags")
    for key, value in tags.items():
        if not 1 <= len(key) <= TAG_KEY_MAX or not isinstance(value, str):
            raise validation_error(
                f"Tags: a key has 1–{TAG_KEY_MAX} characters and its value is a string.",
                field="Tags",
            )
        if len(value) > TAG_VALUE_MAX:
            raise validation_error(
                f"Tags: a value is at most {TAG_VALUE_MAX} characters.", field="Tags"
            )
