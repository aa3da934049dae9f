"""The API's errors, as the AWS tool sends them: status code, x-amzn-ErrorType, JSON body."""

from __future__ import annotations

from typing import Any

from reviews.errors import Kind


class ApiError(Exception):
    def __init__(self, error_type: str, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.status = status
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"Message": self.message, **self.extra}


def validation_error(
    message: str, *, field: str | None = None, reason: str = "FIELD_VALIDATION_FAILED"
) -> ApiError:
    extra: dict[str, Any] = {"Reason": reason}
    if field:
        extra["Fields"] = [{"Name": field, "Message": message}]
    return ApiError("ValidationException", 400, message, **extra)


def not_found(message: str, *, resource_id: str = "", resource_type: str = "") -> ApiError:
    return ApiError(
        "ResourceNotFoundException",
        404,
        message,
        ResourceId=resource_id,
        ResourceType=resource_type,
    )


def access_denied(message: str) -> ApiError:
    return ApiError("AccessDeniedException", 403, message)


def conflict(message: str, *, resource_id: str = "", resource_type: str = "") -> ApiError:
    return ApiError(
        "ConflictException", 409, message, ResourceId=resource_id, ResourceType=resource_type
    )


def quota_exceeded(message: str, *, resource_type: str = "") -> ApiError:
    return ApiError(
        "ServiceQuotaExceededException", 402, message, ResourceType=resource_type, QuotaCode=""
    )


def from_domain(
    kind: Kind,
    message: str,
    *,
    field: str | None = None,
    resource_id: str = "",
    resource_type: str = "",
) -> ApiError:
    """The AWS error for a domain error of `kind`; `field` is already the API's member name."""
    if kind is Kind.NOT_FOUND:
        return not_found(message, resource_id=resource_id, resource_type=resource_type)
    if kind is Kind.FORBIDDEN:
        return access_denied(message)
    if kind is Kind.CONFLICT:
        return conflict(message, resource_id=resource_id, resource_type=resource_type)
    if kind is Kind.QUOTA:
        return quota_exceeded(message, resource_type=resource_type)
    return validation_error(message, field=field)
