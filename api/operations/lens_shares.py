"""CreateLensShare, DeleteLensShare, ListLensShares.

Archlens has no lens shares: a published lens is visible to every Archlens user (and a draft to
staff), so there is nothing to share and no share to list or delete. Listing answers an empty
list, so scripts that look at shares run on; creating one is refused with a message saying
why; deleting one finds no such share.
"""

from __future__ import annotations

from typing import Any

from api.calls import Call
from api.errors import not_found, validation_error
from api.operations.common import lenses_named
from api.operations.lenses import ALIAS_MAX
from api.pagination import page_size, page_start
from api.routing import operation

SHARE_ID = r"[0-9a-f]{32}"
SHARE_STATUSES = (
    "ACCEPTED",
    "REJECTED",
    "PENDING",
    "REVOKED",
    "EXPIRED",
    "ASSOCIATING",
    "ASSOCIATED",
    "FAILED",
)
VISIBLE_TO_ALL = (
    "Archlens has no lens shares: a published lens is visible to every Archlens user, and a "
    "draft to staff."
)


def _lens_alias(call: Call) -> str:
    """LensAlias, checked to name a lens the caller sees."""
    value = call.input.string("LensAlias", required=True, min_length=1, max_length=ALIAS_MAX)
    call.input.check()
    lenses_named(call, [value])
    return value


@operation("ListLensShares", "GET", "/lenses/{LensAlias}/shares")
def list_lens_shares(call: Call) -> dict[str, Any]:
    prefix = call.input.string("SharedWithPrefix", max_length=100)
    status = call.input.string("Status", choices=SHARE_STATUSES)
    alias = _lens_alias(call)
    page_size(call, maximum=50)
    page_start(call, {"lens": alias, "prefix": prefix, "status": status})
    return {"LensShareSummaries": []}


@operation("CreateLensShare", "POST", "/lenses/{LensAlias}/shares", idempotent=True)
def create_lens_share(call: Call) -> dict[str, Any]:
    call.input.string("SharedWith", required=True, min_length=12, max_length=2048)
    _lens_alias(call)
    raise validation_error(f"SharedWith: {VISIBLE_TO_ALL}", field="SharedWith")


@operation("DeleteLensShare", "DELETE", "/lenses/{LensAlias}/shares/{ShareId}", idempotent=True)
def delete_lens_share(call: Call) -> dict[str, Any]:
    share_id = call.input.string("ShareId", required=True, pattern=SHARE_ID)
    _lens_alias(call)
    raise not_found(
        f"No such lens share. {VISIBLE_TO_ALL}",
        resource_id=share_id or "",
        resource_type="LENS_SHARE",
    )
