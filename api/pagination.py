"""NextToken and MaxResults.

Scripts loop on NextToken (botocore has no paginators for this service), so a token must never
skip or repeat an item, even while others add and delete: it holds the key of the last item
sent (keyset pagination), never an offset. Tokens are signed, so a client cannot forge one to
reach past its filters, and a token only works for the same operation, user and filters.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from django.core import signing

from api.errors import validation_error

SALT = "archlens.api.next-token"
TOKEN_AGE = 24 * 3600  # seconds: long enough for any script, short enough to retire old ones


def _scope(operation: str, user_id: int, filters: dict[str, Any]) -> str:
    text = json.dumps([operation, user_id, filters], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def page_start(call: Any, filters: dict[str, Any]) -> Any:
    """The key after which this page starts, or None for the first page."""
    token = call.input.string("NextToken", max_length=4096)
    call.input.check()
    if not token:
        return None
    try:
        signed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        data = signing.loads(signed, salt=SALT, max_age=TOKEN_AGE)
    except (binascii.Error, UnicodeDecodeError):
        raise validation_error("NextToken is not valid.", field="NextToken") from None
    except signing.SignatureExpired:
        raise validation_error("NextToken has expired; start again.", field="NextToken") from None
    except signing.BadSignature:
        raise validation_error("NextToken is not valid.", field="NextToken") from None
    if data.get("s") != _scope(call.operation, call.user.pk, filters):
        raise validation_error(
            "NextToken belongs to another request: send the same filters as the first page.",
            field="NextToken",
        )
    return data["k"]


def next_token(call: Any, filters: dict[str, Any], key: Any) -> str:
    signed = signing.dumps(
        {"s": _scope(call.operation, call.user.pk, filters), "k": key}, salt=SALT, compress=True
    )
    # In the alphabet the service model gives NextToken ([A-Za-z0-9+/=_-]).
    return base64.urlsafe_b64encode(signed.encode()).decode().rstrip("=")


def page_size(call: Any, *, maximum: int = 50, default: int | None = None) -> int:
    size = call.input.integer("MaxResults", minimum=1, maximum=maximum, default=default or maximum)
    call.input.check()
    return size
