"""What an operation handler gets (a Call) and how domain errors become AWS errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from api.errors import from_domain
from api.inputs import Input
from api.models import ApiKey
from reviews.errors import DomainError


@dataclass
class Call:
    request: HttpRequest
    user: AbstractBaseUser
    key: ApiKey
    operation: str
    input: Input


def _member_name(field: str) -> str:
    return "".join(part.capitalize() for part in field.split("_"))


@contextmanager
def domain_errors(
    *, fields: dict[str, str] | None = None, resource_type: str = "", resource_id: str = ""
) -> Iterator[None]:
    """Turn a DomainError raised inside into the AWS error of its kind.

    `fields` names the API member for a service's field (`{"name": "WorkloadName"}`); others
    are camel-cased (`selected_choices` → `SelectedChoices`).
    """
    try:
        yield
    except DomainError as error:
        field = None
        if error.field:
            field = (fields or {}).get(error.field) or _member_name(error.field)
        raise from_domain(
            error.kind,
            error.message,
            field=field,
            resource_id=resource_id,
            resource_type=resource_type,
        ) from None
