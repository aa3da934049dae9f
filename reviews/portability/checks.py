"""Reading a workload file: every value checked, every problem named by its place."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

from django.core.validators import URLValidator
from django.db import models
from django.utils.dateparse import parse_date, parse_datetime

from reviews.models import (
    NOTES_MAX,
    AnswerRisk,
    ChoiceAnswer,
    ImprovementEvent,
    ImprovementStatus,
    Reason,
)
from reviews.portability.export import FORMAT, FORMAT_VERSION

PUBLIC_ID = re.compile(r"[0-9a-f]{32}")
EVENT_TEXT_MAX = ImprovementEvent._meta.get_field("text").max_length
WEB_URL = URLValidator(schemes=["http", "https"])

TOP_KEYS = ("format", "version", "lenses", "workload", "members", "lens_reviews", "milestones")
# Added after the first release: files without them are still imported.
TOP_OPTIONAL_KEYS = ("team_shares",)
TEAM_SHARE_KEYS = ("team", "role")
LENS_KEYS = ("alias", "version", "status", "published_at", "document")
WORKLOAD_TEXT = {  # field: (minimum, maximum length)
    "name": (3, 100),
    "description": (3, 250),
    "review_owner": (1, 255),
    "architectural_design_url": (0, 2048),
    "industry": (0, 100),
    "notes": (0, NOTES_MAX),
}
WORKLOAD_KEYS = (
    "public_id",
    *WORKLOAD_TEXT,
    "environment",
    "industry_type",
    "regions",
    "pillar_priorities",
    "tags",
    "created_at",
    "updated_at",
)
MEMBER_KEYS = ("username", "email", "role")
REVIEW_KEYS = (
    "lens",
    "lens_version",
    "is_active",
    "notes",
    "notes_version",
    "version",
    "created_at",
    "updated_at",
    "pillar_notes",
    "answers",
)
PILLAR_NOTE_KEYS = ("pillar", "notes", "notes_version")
ANSWER_KEYS = (
    "question",
    "is_applicable",
    "reason",
    "notes",
    "notes_version",
    "risk",
    "version",
    "updated_by",
    "updated_at",
    "choices",
    "events",
    "improvement",
)
# Added after the first release: files without it are still imported.
ANSWER_OPTIONAL_KEYS = ("notes_updated_by",)
CHOICE_KEYS = ("choice", "status", "reason", "notes")
ANSWER_EVENT_KEYS = ("user", "at", "changes")
ITEM_KEYS = (
    "status",
    "assignee",
    "due_date",
    "comment",
    "is_open",
    "created_at",
    "updated_at",
    "events",
)
ITEM_EVENT_KEYS = ("user", "at", "text")
MILESTONE_KEYS = (
    "number",
    "name",
    "recorded_at",
    "recorded_by",
    "high_count",
    "medium_count",
    "answered_count",
    "question_count",
    "data",
)


class PortabilityError(Exception):
    """A workload file that cannot be imported: every problem found, each with its place."""

    def __init__(self, errors: list[str], warnings: list[str] | None = None):
        super().__init__(f"{len(errors)} problem(s) in the workload file")
        self.errors = errors
        self.warnings = warnings or []


class Reader:
    """Checks values of the file, collecting every problem with its place."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []
        # (object, attribute, username, place): filled in once all users are looked up.
        self.user_refs: list[tuple[models.Model, str, str, str]] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def obj(
        self, path: str, value: Any, keys: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> dict[str, Any] | None:
        """The object if it is one with all `keys` and perhaps `optional` ones (which files of
        older releases lack); unknown keys are ignored with a warning."""
        if not isinstance(value, dict):
            self.error(path, f"expected an object, found {kind(value)}")
            return None
        missing = [key for key in keys if key not in value]
        for key in missing:
            self.error(join(path, key), "missing")
        for key in value:
            if key not in keys and key not in optional:
                self.warnings.append(f"{join(path, key)}: unknown key; ignored")
        return None if missing else value

    def items(self, path: str, value: Any) -> list[tuple[str, Any]]:
        if not isinstance(value, list):
            self.error(path, f"expected a list, found {kind(value)}")
            return []
        return [(f"{path}[{i}]", item) for i, item in enumerate(value)]

    def text(self, path: str, value: Any, *, maximum: int, minimum: int = 0) -> str:
        if not isinstance(value, str):
            self.error(path, f"expected text, found {kind(value)}")
            return ""
        if len(value) > maximum:
            self.error(path, f"{len(value):,} characters; at most {maximum:,} allowed")
        elif len(value) < minimum:
            self.error(path, f"{len(value)} characters; at least {minimum} needed")
        return value

    def choice(self, path: str, value: Any, allowed: list[str]) -> str:
        if value not in allowed or not isinstance(value, str):
            self.error(path, f"unknown value {show(value)}; expected one of {', '.join(allowed)}")
            return allowed[0]
        return value

    def integer(self, path: str, value: Any, *, minimum: int = 0, maximum: int = 2**31 - 1) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            self.error(path, f"expected a whole number, found {kind(value)}")
            return minimum
        if not minimum <= value <= maximum:
            self.error(path, f"{value} is outside {minimum}..{maximum}")
        return value

    def boolean(self, path: str, value: Any) -> bool:
        if not isinstance(value, bool):
            self.error(path, f"expected true or false, found {kind(value)}")
            return False
        return value

    def when(self, path: str, value: Any, *, null: bool = False) -> datetime.datetime | None:
        if value is None and null:
            return None
        parsed = None
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value)
            except ValueError:
                parsed = None
        if parsed is None or parsed.tzinfo is None:
            self.error(path, f"expected a date and time with its UTC offset, found {show(value)}")
            return None
        return parsed

    def day(self, path: str, value: Any) -> datetime.date | None:
        if value is None:
            return None
        parsed = None
        if isinstance(value, str):
            try:
                parsed = parse_date(value)
            except ValueError:
                parsed = None
        if parsed is None:
            self.error(path, f"expected a date (YYYY-MM-DD) or null, found {show(value)}")
        return parsed

    def user(self, path: str, value: Any, obj: models.Model, attribute: str) -> None:
        """Note a reference to a user by username, set on `obj` once users are looked up."""
        if value is None:
            return
        if not isinstance(value, str) or not value:
            self.error(path, f"expected a username or null, found {kind(value)}")
            return
        self.user_refs.append((obj, attribute, value, path))

    def shape(self, path: str, value: Any, shape: Any) -> None:
        """Check a value against a shape: a type, a set of strings, [shape], {key: shape},
        (None, shape) for "null or shape", or COUNTS. Keys beyond the shape are allowed."""
        if isinstance(shape, tuple):
            if value is not None:
                self.shape(path, value, shape[1])
        elif isinstance(shape, list):
            for place, item in self.items(path, value):
                self.shape(place, item, shape[0])
        elif isinstance(shape, dict):
            if not isinstance(value, dict):
                self.error(path, f"expected an object, found {kind(value)}")
                return
            for key, inner in shape.items():
                if key in value:
                    self.shape(join(path, key), value[key], inner)
                else:
                    self.error(join(path, key), "missing")
        elif shape is _COUNTS:
            if not isinstance(value, dict):
                self.error(path, f"expected an object, found {kind(value)}")
                return
            for key, count in value.items():
                self.integer(join(path, key), count)
        elif isinstance(shape, frozenset):
            self.choice(path, value, sorted(shape))
        elif shape is bool:
            self.boolean(path, value)
        elif not isinstance(value, shape):
            self.error(path, f"expected {shape.__name__}, found {kind(value)}")


# The milestone copy, as reviews.snapshots writes it (what pages and reports read from it).
_COUNTS = object()
_SNAPSHOT_CHOICE = {
    "id": str,
    "title": str,
    "is_none": bool,
    "status": frozenset(ChoiceAnswer.Status.values),
    "reason": frozenset(Reason.values),
    "notes": str,
    "improvement_plan": {"text": str, "url": str},
}
_SNAPSHOT_QUESTION = {
    "id": str,
    "title": str,
    "description": str,
    "risk": frozenset(AnswerRisk.values),
    "is_applicable": bool,
    "reason": frozenset(Reason.values),
    "notes": str,
    "choices": [_SNAPSHOT_CHOICE],
    "improvement": (
        None,
        {
            "status": frozenset(ImprovementStatus.values),
            "assignee": str,
            "due_date": str,
            "comment": str,
        },
    ),
}
_SNAPSHOT = {
    "lens": {"alias": str, "name": str, "version": str},
    "notes": str,
    "counts": _COUNTS,
    "pillars": [
        {"id": str, "name": str, "notes": str, "counts": _COUNTS, "questions": [_SNAPSHOT_QUESTION]}
    ],
}
MILESTONE_DATA = {"lens_reviews": [_SNAPSHOT]}


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "true/false", int: "a number", float: "a number", str: "text"}.get(
        type(value), "a list" if isinstance(value, list) else "an object"
    )


def show(value: Any) -> str:
    text = f"'{value}'" if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else f"{text[:57]}…"


def read_workload_file(raw: bytes) -> dict[str, Any]:
    """The parsed document if it is an Archlens workload file this version reads."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PortabilityError(
            [f"file: not UTF-8 text (invalid byte at offset {exc.start})"]
        ) from None

    def reject(name: str) -> None:
        raise ValueError(f"{name} is not valid JSON")

    try:
        data = json.loads(text, parse_constant=reject)
    except json.JSONDecodeError as exc:
        raise PortabilityError(
            [f"line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}"]
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise PortabilityError([f"file: not valid JSON: {exc}"]) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        hint = ""
        if isinstance(data, dict) and "pillars" in data:
            hint = "; it looks like a lens file (import it with import_lens)"
        raise PortabilityError(
            [f'format: not an Archlens workload file (expected "format": "{FORMAT}"){hint}']
        )
    if data.get("version") != FORMAT_VERSION:
        raise PortabilityError(
            [
                f"version: unsupported version {show(data.get('version'))}; "
                f"this Archlens reads version {FORMAT_VERSION}"
            ]
        )
    return data
