"""Reading a request's members with the limits of the AWS service model.

Each reader checks one member and remembers what is wrong with it, so that one
ValidationException can list every field at fault. botocore checks some limits on the client,
but not all (it does not enforce maximums of MaxResults) and other clients check none.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import QueryDict

from api.errors import ApiError

_MISSING = object()


class Input:
    def __init__(self, values: dict[str, Any], query: QueryDict | None = None) -> None:
        self.values = values
        self.query = query
        self.problems: list[tuple[str, str]] = []

    def has(self, name: str) -> bool:
        return name in self.values

    def _get(self, name: str, required: bool) -> Any:
        value = self.values.get(name, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.problems.append((name, f"{name} is required."))
            return _MISSING
        return value

    def string(
        self,
        name: str,
        *,
        required: bool = False,
        min_length: int = 0,
        max_length: int | None = None,
        pattern: str | None = None,
        choices: list[str] | tuple[str, ...] | None = None,
        default: str | None = None,
    ) -> str | None:
        value = self._get(name, required)
        if value is _MISSING:
            return default
        if not isinstance(value, str):
            self.problems.append((name, f"{name} must be a string."))
            return default
        if len(value) < min_length:
            self.problems.append((name, f"{name} must be at least {min_length} characters."))
        elif max_length is not None and len(value) > max_length:
            self.problems.append((name, f"{name} must be at most {max_length} characters."))
        elif "\x00" in value:
            self.problems.append((name, f"{name} must not contain a NUL character."))
        elif pattern is not None and not re.fullmatch(pattern, value):
            self.problems.append((name, f"{name} is not in the expected format."))
        elif choices is not None and value not in choices:
            self.problems.append((name, f"{name} must be one of: {', '.join(choices)}."))
        else:
            return value
        return default

    def integer(
        self,
        name: str,
        *,
        required: bool = False,
        minimum: int | None = None,
        maximum: int | None = None,
        default: int | None = None,
    ) -> int | None:
        value = self._get(name, required)
        if value is _MISSING:
            return default
        if isinstance(value, str) and re.fullmatch(r"-?\d{1,18}", value):
            value = int(value)  # query strings carry numbers as text
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.append((name, f"{name} must be an integer."))
            return default
        if minimum is not None and value < minimum:
            self.problems.append((name, f"{name} must be at least {minimum}."))
        elif maximum is not None and value > maximum:
            self.problems.append((name, f"{name} must be at most {maximum}."))
        else:
            return value
        return default

    def boolean(self, name: str, *, default: bool | None = None) -> bool | None:
        value = self._get(name, False)
        if value is _MISSING:
            return default
        if isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        if not isinstance(value, bool):
            self.problems.append((name, f"{name} must be true or false."))
            return default
        return value

    def strings(
        self,
        name: str,
        *,
        required: bool = False,
        max_items: int | None = None,
        min_length: int = 0,
        max_length: int | None = None,
        pattern: str | None = None,
        choices: list[str] | tuple[str, ...] | None = None,
    ) -> list[str] | None:
        # A list in the query string (?tagKeys=a&tagKeys=b) is merged into `values` as its last
        # item only; read it whole, unless the body gave the list.
        listed = self.query.getlist(name) if self.query is not None else []
        if listed and not isinstance(self.values.get(name), list):
            value: Any = listed
        else:
            value = self._get(name, required)
        if value is _MISSING:
            return None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.problems.append((name, f"{name} must be a list of strings."))
            return None
        if max_items is not None and len(value) > max_items:
            self.problems.append((name, f"{name} has at most {max_items} items."))
            return None
        for index, item in enumerate(value):
            where = f"{name}[{index}]"
            if len(item) < min_length or (max_length is not None and len(item) > max_length):
                limit = f"{min_length}–{max_length}" if max_length else f"at least {min_length}"
                self.problems.append((where, f"{where} must be {limit} characters."))
                return None
            if "\x00" in item or (pattern is not None and not re.fullmatch(pattern, item)):
                self.problems.append((where, f"{where} is not in the expected format."))
                return None
            if choices is not None and item not in choices:
                self.problems.append((where, f"{where} must be one of: {', '.join(choices)}."))
                return None
        return value

    def mapping(self, name: str, *, required: bool = False) -> dict[str, Any] | None:
        value = self._get(name, required)
        if value is _MISSING:
            return None
        if not isinstance(value, dict):
            self.problems.append((name, f"{name} must be an object."))
            return None
        return value

    def check(self) -> None:
        """Raise one ValidationException naming every member at fault, if any is."""
        if not self.problems:
            return
        message = " ".join(problem for _, problem in self.problems)
        raise ApiError(
            "ValidationException",
            400,
            message,
            Reason="FIELD_VALIDATION_FAILED",
            Fields=[{"Name": name, "Message": problem} for name, problem in self.problems],
        )
