"""TagResource, UntagResource and ListTagsForResource, on workload ARNs.

Tags are the workload's own `tags`, the same the edit form shows as key=value lines, so what
the API stores must survive that form: a key holds no "=", and neither part a line break.
Archlens keeps no tags on lenses.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from api.calls import Call, domain_errors
from api.errors import validation_error
from api.identifiers import parse_arn
from api.operations.common import access_error
from api.routing import operation
from reviews import access
from reviews.forms import MAX_TAGS, TAG_KEY_MAX, TAG_VALUE_MAX
from reviews.models import Workload
from reviews.services import workload_update

# The service model's key pattern, [\p{L}\p{N}\p{Z}_.:/=+@-]+, less "=" (see above).
_KEY_PUNCTUATION = set("_.:/+@-")


def _workload_named(call: Call, *, write: bool) -> Workload:
    arn = call.input.string("WorkloadArn", required=True, min_length=1, max_length=2048)
    call.input.check()
    parsed = parse_arn(arn)
    if parsed is None:
        raise validation_error("WorkloadArn is not an ARN.", field="WorkloadArn")
    if parsed.resource != "workload":
        raise validation_error(
            f"Archlens keeps tags on workloads only, not on a {parsed.resource}.",
            field="WorkloadArn",
        )
    # The workload id names it; the account part is not checked, so an ARN read before the
    # workload changed hands (which changes its account) still works.
    try:
        return access.workload_for(call.user, parsed.resource_id, write=write)
    except access.AccessError as error:
        raise access_error(error, {"WORKLOAD": arn}) from None


def _key_ok(key: str) -> bool:
    return all(
        char.isalnum() or char in _KEY_PUNCTUATION or unicodedata.category(char).startswith("Z")
        for char in key
    )


def _check_tags(tags: dict[str, Any]) -> dict[str, str]:
    if not 1 <= len(tags) <= MAX_TAGS:
        raise validation_error(f"Tags: give 1–{MAX_TAGS} tags.", field="Tags")
    for key, value in tags.items():
        if not 1 <= len(key) <= TAG_KEY_MAX or not _key_ok(key):
            raise validation_error(
                f"Tags: a key has 1–{TAG_KEY_MAX} letters, digits, spaces or _.:/+@- "
                f"(“{key[:40]}” has not).",
                field="Tags",
            )
        if not isinstance(value, str) or len(value) > TAG_VALUE_MAX:
            raise validation_error(
                f"Tags: the value of “{key[:40]}” is text of at most {TAG_VALUE_MAX} characters.",
                field="Tags",
            )
        if "\n" in value or "\r" in value or "\x00" in value:
            raise validation_error(
                f"Tags: the value of “{key[:40]}” must be one line.", field="Tags"
            )
    return tags


@operation("TagResource", "POST", "/tags/{WorkloadArn}")
def tag_resource(call: Call) -> dict[str, Any]:
    tags = call.input.mapping("Tags", required=True)
    workload = _workload_named(call, write=True)
    merged = {**workload.tags, **_check_tags(tags or {})}
    if len(merged) > MAX_TAGS:
        raise validation_error(
            f"Tags: a workload has at most {MAX_TAGS} tags ({len(merged)} with these).",
            field="Tags",
        )
    with domain_errors(fields={"tags": "Tags"}, resource_type="WORKLOAD"):
        workload_update(workload=workload, user=call.user, tags=merged)
    return {}


@operation("UntagResource", "DELETE", "/tags/{WorkloadArn}")
def untag_resource(call: Call) -> dict[str, Any]:
    keys = call.input.strings("tagKeys", required=True, max_items=50, min_length=1, max_length=128)
    workload = _workload_named(call, write=True)
    dropped = set(keys or [])
    kept = {key: value for key, value in workload.tags.items() if key not in dropped}
    if kept != workload.tags:
        with domain_errors(fields={"tags": "Tags"}, resource_type="WORKLOAD"):
            workload_update(workload=workload, user=call.user, tags=kept)
    return {}


@operation("ListTagsForResource", "GET", "/tags/{WorkloadArn}")
def list_tags_for_resource(call: Call) -> dict[str, Any]:
    return {"Tags": _workload_named(call, write=False).tags}
