"""Checking AWS Signature Version 4 on API requests.

No maintained server-side verifier exists, so this is our own, on the standard library. It
recomputes the signature the client made (canonical request, string to sign, HMAC chain) from
the request as it arrived and compares in constant time. The path must be the one the client
signed, before any percent-decoding: api.routing gives it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote_plus

from django.http import HttpRequest

from api.errors import ApiError

SERVICE = "wellarchitected"
ALGORITHM = "AWS4-HMAC-SHA256"
CLOCK_SKEW = timedelta(minutes=15)
AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<headers>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class Credential:
    access_key_id: str
    date: str
    region: str
    service: str


def missing_token() -> ApiError:
    return ApiError("MissingAuthenticationTokenException", 403, "Missing Authentication Token")


def invalid_signature(message: str) -> ApiError:
    return ApiError("InvalidSignatureException", 403, message)


def parse_authorization(request: HttpRequest) -> tuple[Credential, list[str], str]:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        raise missing_token()
    match = AUTHORIZATION.match(header.strip())
    if match is None:
        raise ApiError(
            "IncompleteSignatureException",
            400,
            "The Authorization header is not an AWS Signature Version 4 header "
            "(Credential, SignedHeaders and Signature).",
        )
    parts = match["credential"].split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise ApiError(
            "IncompleteSignatureException",
            400,
            "The credential must be KEY_ID/DATE/REGION/SERVICE/aws4_request.",
        )
    credential = Credential(*parts[:4])
    if credential.service != SERVICE:
        raise invalid_signature(
            f"Credential should be scoped to the service '{SERVICE}', not '{credential.service}'."
        )
    headers = match["headers"].split(";")
    if "host" not in headers:
        raise invalid_signature("The host header must be signed.")
    return credential, headers, match["signature"]


def request_time(request: HttpRequest, credential: Credential, now: datetime) -> str:
    amz_date = request.META.get("HTTP_X_AMZ_DATE", "")
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise invalid_signature("X-Amz-Date must be a date like 20260101T120000Z.") from None
    if amz_date[:8] != credential.date:
        raise invalid_signature("The credential's date is not the date of X-Amz-Date.")
    if abs(now - signed_at) > CLOCK_SKEW:
        raise invalid_signature(
            f"Signature expired: {amz_date} is not within 15 minutes of the server's time "
            f"{now:%Y%m%dT%H%M%SZ}."
        )
    return amz_date


def _header_value(request: HttpRequest, name: str) -> str | None:
    if name == "host" and "HTTP_HOST" not in request.META:
        port = request.META.get("SERVER_PORT", "80")
        name_only = request.META.get("SERVER_NAME", "")
        return name_only if port in ("80", "443") else f"{name_only}:{port}"
    if name == "content-type":
        value = request.META.get("CONTENT_TYPE")
    elif name == "content-length":
        value = request.META.get("CONTENT_LENGTH")
    else:
        value = request.META.get("HTTP_" + name.upper().replace("-", "_"))
    return None if value is None else " ".join(value.split())


def _encode(value: str) -> str:
    return quote(value, safe="-_.~")


def canonical_query(query_string: str) -> str:
    pairs = []
    for part in query_string.split("&") if query_string else []:
        key, _, value = part.partition("=")
        pairs.append((_encode(unquote_plus(key)), _encode(unquote_plus(value))))
    return "&".join(f"{key}={value}" for key, value in sorted(pairs))


def canonical_request(
    request: HttpRequest, raw_path: str, headers: list[str], payload_hash: str
) -> str:
    lines = []
    for name in headers:
        value = _header_value(request, name)
        if value is None:
            raise invalid_signature(f"The signed header '{name}' is not in the request.")
        lines.append(f"{name}:{value}\n")
    return "\n".join(
        [
            request.method or "",
            quote(raw_path or "/", safe="/~"),  # each segment encoded again, as SigV4 wants
            canonical_query(request.META.get("QUERY_STRING", "")),
            "".join(lines),
            ";".join(headers),
            payload_hash,
        ]
    )


def signature(secret: str, credential: Credential, amz_date: str, canonical: str) -> str:
    scope = f"{credential.date}/{credential.region}/{credential.service}/aws4_request"
    to_sign = "\n".join(
        [ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + secret).encode()
    for part in (credential.date, credential.region, credential.service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def verify(
    request: HttpRequest,
    *,
    raw_path: str,
    credential: Credential,
    headers: list[str],
    given: str,
    secret: str,
    now: datetime,
) -> None:
    """Raise unless `given` is the signature of this request made with `secret`."""
    amz_date = request_time(request, credential, now)
    payload_hash = hashlib.sha256(request.body).hexdigest()
    claimed = request.META.get("HTTP_X_AMZ_CONTENT_SHA256")
    # An unsigned payload is for S3 uploads; here the body is always covered.
    if claimed is not None and claimed != payload_hash:
        raise invalid_signature("The body does not match its x-amz-content-sha256.")
    canonical = canonical_request(request, raw_path, headers, payload_hash)
    expected = signature(secret, credential, amz_date, canonical)
    if not hmac.compare_digest(expected, given):
        raise invalid_signature(
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method."
        )
