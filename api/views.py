"""The one entry point of the API: authenticate, route, run the operation, answer in JSON.

Whatever goes wrong inside is answered as an AWS error (x-amzn-ErrorType and a JSON body),
never as the site's HTML error page, and every answer carries x-amzn-RequestId.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
from datetime import UTC
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from api import operations  # noqa: F401  (registers the operations)
from api.calls import Call, domain_errors
from api.errors import ApiError, conflict
from api.inputs import Input
from api.keys import key_secret
from api.models import ApiKey, IdempotentCall
from api.routing import Operation, resolve, target_of
from api.signing import parse_authorization, verify
from api.throttling import throttle

logger = logging.getLogger("archlens.api")
LAST_USED_EVERY = datetime.timedelta(minutes=1)  # no write per request just for this


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _json(status: int, body: dict[str, Any]) -> HttpResponse:
    return HttpResponse(
        json.dumps(body, default=_json_default, separators=(",", ":")),
        status=status,
        content_type="application/json",
    )


def _error(error: ApiError) -> HttpResponse:
    response = _json(error.status, error.body())
    response["x-amzn-ErrorType"] = error.error_type
    return response


@csrf_exempt
def dispatch(request: HttpRequest, rest: str = "") -> HttpResponse:
    try:
        response = _handle(request)
    except ApiError as error:
        response = _error(error)
    except Exception:
        logger.exception("API request failed: %s %s", request.method, request.path)
        response = _error(
            ApiError("InternalServerException", 500, "Something went wrong on the server.")
        )
    response["x-amzn-RequestId"] = getattr(request, "request_id", "")
    return response


def _authenticate(request: HttpRequest, raw_path: str) -> ApiKey:
    credential, headers, given = parse_authorization(request)
    key = (
        ApiKey.objects.active()
        .select_related("user")
        .filter(access_key_id=credential.access_key_id)
        .first()
    )
    if key is None or not key.user.is_active:
        raise ApiError(
            "UnrecognizedClientException",
            403,
            "The security token included in the request is invalid.",
        )
    now = timezone.now()
    verify(
        request,
        raw_path=raw_path,
        credential=credential,
        headers=headers,
        given=given,
        secret=key_secret(key),
        now=now,
    )
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_EVERY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def _body(request: HttpRequest) -> dict[str, Any]:
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError("SerializationException", 400, "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError("SerializationException", 400, "The body must be a JSON object.")
    return body


def _handle(request: HttpRequest) -> HttpResponse:
    target = target_of(request)
    try:
        request.body  # noqa: B018  (read once here, where its size is checked)
    except RequestDataTooBig:
        raise ApiError(
            "ValidationException", 413, "The request body is too large.", Reason="OTHER"
        ) from None
    key = _authenticate(request, target.raw_path)
    request.user = key.user
    throttle(key.access_key_id)
    found = resolve(request.method or "", target.segments)
    if found is None:
        raise ApiError(
            "UnknownOperationException",
            404,
            f"No operation answers {request.method} {target.raw_path}.",
        )
    operation, labels = found
    values = {**_body(request), **request.GET.dict(), **labels}
    call = Call(request, key.user, key, operation.name, Input(values, request.GET))
    with domain_errors():
        if operation.idempotent and isinstance(values.get("ClientRequestToken"), str):
            return _json(200, _run_once(call, operation, values))
        return _json(200, operation.handler(call))


class _Replayed(Exception):
    """Another request with the same token finished first: undo this one, answer with that."""


def _run_once(call: Call, operation: Operation, values: dict[str, Any]) -> dict[str, Any]:
    """Run an operation that carries a ClientRequestToken at most once per token.

    A retry with the same token and the same input gets the first result; the same token with
    other input is a conflict. The result is stored in the operation's own transaction, so two
    retries racing each other cannot both do the work.
    """
    token = values["ClientRequestToken"]
    given = {name: value for name, value in values.items() if name != "ClientRequestToken"}
    digest = hashlib.sha256(json.dumps(given, sort_keys=True).encode()).hexdigest()
    previous = _previous(call, operation, token, digest)
    if previous is not None:
        return previous
    try:
        with transaction.atomic():
            result = operation.handler(call)
            try:
                with transaction.atomic():
                    IdempotentCall.objects.create(
                        user=call.user,
                        operation=operation.name,
                        token=token,
                        input_digest=digest,
                        status=200,
                        body=json.loads(json.dumps(result, default=_json_default)),
                    )
            except IntegrityError:
                raise _Replayed from None
    except _Replayed:
        previous = _previous(call, operation, token, digest)
        if previous is None:  # pragma: no cover - the row that clashed is committed
            raise
        return previous
    return result


def _previous(call: Call, operation: Operation, token: str, digest: str) -> dict[str, Any] | None:
    previous = IdempotentCall.objects.filter(
        user=call.user, operation=operation.name, token=token
    ).first()
    if previous is None:
        return None
    if previous.input_digest != digest:
        raise conflict(
            "This ClientRequestToken was used before with other input; use a new token for a "
            "new request.",
            resource_type="CLIENT_REQUEST_TOKEN",
        )
    return previous.body
