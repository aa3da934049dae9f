"""The AWS custom-lens JSON format: reading, checking and normalising a lens file.

`read_lens_file` turns the bytes of an uploaded file into a normalised document (the shape
`export` writes back) or raises `LensFileError` with every problem found, each named by its
place in the file (`pillars[1].questions[3].choices[2].id: duplicate 'x'`). Harmless quirks seen
in published lenses are accepted and reported as warnings.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from lenses import conditions

RISKS = {"HIGH_RISK": "HIGH", "MEDIUM_RISK": "MEDIUM", "NO_RISK": "NONE"}
RISK_NAMES = {value: key for key, value in RISKS.items()}
RESOURCE_TYPES = ("HELPFUL_RESOURCE", "IMPROVEMENT_PLAN")
PILLAR_ID = re.compile(r"[A-Za-z0-9_]{3,128}")
ITEM_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")

# Text limits follow the published format; titles get more room than AWS allows because
# lenses written for other tools use longer ones and nothing here depends on the limit.
NAME_MAX = 128
TITLE_MAX = 512
TEXT_MAX = 2048
URL_MAX = 2048


@dataclass
class Document:
    """A checked lens file: the normalised lens plus what was tolerated on the way."""

    data: dict[str, Any]
    text: str
    warnings: list[str] = field(default_factory=list)

    @property
    def digest(self) -> str:
        return document_digest(self.data)


# A hostile file could hold a hundred thousand problems; past these, only a count is kept.
ERRORS_MAX = 200
WARNINGS_MAX = 1000


class LensFileError(Exception):
    def __init__(self, errors: list[str], warnings: list[str] | None = None, more_errors: int = 0):
        super().__init__(f"{len(errors) + more_errors} problem(s) in the lens file")
        self.errors = errors
        self.more_errors = more_errors  # found beyond the first ERRORS_MAX, not listed
        self.warnings = warnings or []

    @property
    def error_count(self) -> int:
        return len(self.errors) + self.more_errors

    @property
    def warning_groups(self) -> list[ProblemGroup]:
        return group_problems(self.warnings)


@dataclass
class ProblemGroup:
    """Problems that say the same thing in different places: one line with a count."""

    message: str
    places: list[str]
    count: int

    @property
    def more(self) -> int:
        return self.count - len(self.places)


def group_problems(problems: list[str], *, places: int = 3) -> list[ProblemGroup]:
    """Group "place: message" lines by message, in the order each message first appears."""
    groups: dict[str, ProblemGroup] = {}
    for problem in problems:
        place, _, message = problem.partition(": ")
        group = groups.setdefault(message, ProblemGroup(message, [], 0))
        group.count += 1
        if len(group.places) < places:
            group.places.append(place)
    return list(groups.values())


def document_digest(data: dict[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def read_lens_file(raw: bytes) -> Document:
    checker = _Checker()
    text = checker.decode(raw)
    document = None
    if text is not None:
        data = checker.load(text)
        if data is not _UNREADABLE:
            document = checker.lens(data)
    if checker.errors or document is None or text is None:
        raise LensFileError(checker.errors, checker.warnings, checker.more_errors)
    return Document(data=document, text=text, warnings=checker.warnings)


_UNREADABLE = object()
# A string, or a bare constant that strict JSON forbids.
_CONSTANT = re.compile(r'"(?:\\.|[^"\\])*"|(-?Infinity|NaN)')


class _Reject(ValueError):
    """Raised by `_reject_constant` so that json.loads refuses NaN and Infinity."""


def _reject_constant(name: str) -> None:
    raise _Reject(f"{name} is not valid JSON")


# No value of the format is a number; a long one is only refused with its place instead of
# reaching Python's limit on converting long digit strings (a server error before).
NUMBER_DIGITS_MAX = 64


def _parse_int(digits: str) -> int:
    if len(digits.lstrip("-")) > NUMBER_DIGITS_MAX:
        raise _TooLong(digits)
    return int(digits)


class _TooLong(_Reject):
    def __init__(self, digits: str) -> None:
        super().__init__(f"a number of {len(digits.lstrip('-')):,} digits; too long")
        self.digits = digits


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.more_errors = 0
        self.warnings: list[str] = []

    def error(self, path: str, message: str) -> None:
        if len(self.errors) < ERRORS_MAX:
            self.errors.append(f"{path}: {message}")
        else:
            self.more_errors += 1

    def warn(self, path: str, message: str) -> None:
        if len(self.warnings) < WARNINGS_MAX:
            self.warnings.append(f"{path}: {message}")

    # -- bytes to JSON -------------------------------------------------------------------------

    def decode(self, raw: bytes) -> str | None:
        limit = settings.LENS_MAX_BYTES
        if len(raw) > limit:
            self.error("file", f"{len(raw):,} bytes; a lens file may be at most {limit:,} bytes")
            return None
        if raw.startswith(b"\xef\xbb\xbf"):
            self.warn("file", "starts with a UTF-8 byte-order mark; ignored")
            raw = raw[3:]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.error("file", f"not UTF-8 text (invalid byte at offset {exc.start})")
            return None
        if "\r\n" in text:
            self.warn("file", "Windows (CRLF) line ends; accepted")
        return text

    def load(self, text: str) -> Any:
        def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
            result: dict[str, Any] = {}
            for key, value in items:
                if key in result:
                    self.warn("file", f"key '{key}' appears twice in one object; the last is used")
                result[key] = value
            return result

        try:
            return json.loads(
                text,
                parse_constant=_reject_constant,
                parse_int=_parse_int,
                object_pairs_hook=pairs,
            )
        except json.JSONDecodeError as exc:
            self.error(f"line {exc.lineno}, column {exc.colno}", f"not valid JSON: {exc.msg}")
        except _TooLong as exc:
            self.error(_place_of(text, text.find(exc.digits)), str(exc))
        except _Reject as exc:
            self.error(_place_of_constant(text), str(exc))
        except RecursionError:
            self.error("file", "nested too deeply")
        return _UNREADABLE

    # -- shapes --------------------------------------------------------------------------------

    def keys(self, path: str, obj: dict, known: tuple[str, ...], kept: tuple[str, ...] = ()):
        for key in obj:
            if key in kept:
                self.warn(_join(path, key), "not part of the custom-lens format; kept")
            elif key not in known:
                self.warn(_join(path, key), "unknown key; ignored")

    def text(
        self, path: str, obj: dict, key: str, limit: int, *, required: bool, minimum: int = 1
    ) -> str:
        value = obj.get(key)
        where = _join(path, key)
        if value is None:
            if required:
                self.error(where, "missing")
            return ""
        if not isinstance(value, str):
            self.error(where, f"must be text, not {_kind(value)}")
            return ""
        if required and len(value.strip()) < minimum:
            self.error(where, "must not be empty" if minimum == 1 else f"shorter than {minimum}")
        if len(value) > limit:
            self.error(where, f"{len(value):,} characters; at most {limit:,} are allowed")
        return value

    def listing(self, path: str, obj: dict, key: str, *, required: bool) -> list:
        value = obj.get(key)
        where = _join(path, key)
        if value is None:
            if required:
                self.error(where, "missing")
            return []
        if not isinstance(value, list):
            self.error(where, f"must be a list, not {_kind(value)}")
            return []
        if required and not value:
            self.error(where, "must not be empty")
        return value

    def objects(self, path: str, items: list):
        for index, item in enumerate(items):
            where = f"{path}[{index}]"
            if isinstance(item, dict):
                yield where, item
            else:
                self.error(where, f"must be an object, not {_kind(item)}")

    def identifier(self, path: str, obj: dict, pattern: re.Pattern, seen: set[str]) -> str:
        value = self.text(path, obj, "id", 128, required=True)
        if not value:
            return ""
        if not pattern.fullmatch(value):
            rule = "3 to 128" if pattern is PILLAR_ID else "1 to 128"
            extra = "" if pattern is PILLAR_ID else ", -"
            self.error(f"{path}.id", f"'{value}' must be {rule} of A-Z, a-z, 0-9, _{extra}")
        elif value in seen:
            self.error(f"{path}.id", f"duplicate '{value}'")
        seen.add(value)
        return value

    def url(self, path: str, obj: dict) -> str:
        value = obj.get("url")
        if "Url" in obj:
            if value is None:
                self.warn(f"{path}.Url", "read as 'url'")
                value = obj["Url"]
            else:
                self.warn(f"{path}.Url", "ignored; 'url' is also given")
        if value is None or value == "":
            return ""
        if not isinstance(value, str):
            self.error(f"{path}.url", f"must be text, not {_kind(value)}")
            return ""
        if len(value) > URL_MAX:
            self.error(f"{path}.url", f"{len(value):,} characters; at most {URL_MAX:,}")
        if not re.match(r"https?://[^\s/]", value.strip(), re.IGNORECASE):
            self.error(f"{path}.url", f"'{value[:80]}' is not an http(s) link")
        if value != value.strip():
            self.warn(f"{path}.url", "spaces around the link; removed")
        return value.strip()

    def content(self, path: str, obj: Any) -> dict[str, str] | None:
        """A {displayText, url} pair, returned without the keys that are empty."""
        if obj is None:
            return None
        if not isinstance(obj, dict):
            self.error(path, f"must be an object, not {_kind(obj)}")
            return None
        self.keys(path, obj, ("displayText", "url", "Url"))
        text = self.text(path, obj, "displayText", TEXT_MAX, required=False)
        link = self.url(path, obj)
        result = {}
        if text:
            result["displayText"] = text
        if link:
            result["url"] = link
        return result or None

    def resources(self, path: str, obj: dict) -> list[dict[str, Any]]:
        result = []
        key = "additionalResources"
        entries = self.listing(path, obj, key, required=False)
        for where, item in self.objects(_join(path, key), entries):
            self.keys(where, item, ("type", "content"))
            kind = item.get("type")
            if kind not in RESOURCE_TYPES:
                self.error(f"{where}.type", f"must be one of {', '.join(RESOURCE_TYPES)}")
            contents = []
            for inner, entry in self.objects(
                f"{where}.content", self.listing(where, item, "content", required=True)
            ):
                pair = self.content(inner, entry)
                if pair:
                    contents.append(pair)
            result.append({"type": kind, "content": contents})
        return result

    # -- the lens ------------------------------------------------------------------------------

    def lens(self, data: Any) -> dict[str, Any] | None:
        if not isinstance(data, dict):
            self.error("file", f"must hold a JSON object, not {_kind(data)}")
            return None
        self.keys("", data, ("schemaVersion", "name", "description", "pillars"))
        schema = data.get("schemaVersion")
        if schema is None:
            self.warn("schemaVersion", "missing; assumed 2021-11-01")
            schema = "2021-11-01"
        elif not isinstance(schema, str):
            self.error("schemaVersion", f"must be text, not {_kind(schema)}")
            schema = ""
        elif len(schema) > 32:
            self.error("schemaVersion", f"{len(schema)} characters; at most 32 are allowed")
        name = self.text("", data, "name", NAME_MAX, required=True)
        description = self.text("", data, "description", TEXT_MAX, required=False)
        pillars = []
        pillar_ids: set[str] = set()
        question_ids: set[str] = set()
        for where, pillar in self.objects(
            "pillars", self.listing("", data, "pillars", required=True)
        ):
            pillars.append(self.pillar(where, pillar, pillar_ids, question_ids))
        result: dict[str, Any] = {"schemaVersion": schema, "name": name}
        if description:
            result["description"] = description
        result["pillars"] = pillars
        return result

    def pillar(self, path: str, obj: dict, pillar_ids: set, question_ids: set) -> dict[str, Any]:
        self.keys(path, obj, ("id", "name", "questions"), kept=("description",))
        result: dict[str, Any] = {
            "id": self.identifier(path, obj, PILLAR_ID, pillar_ids),
            "name": self.text(path, obj, "name", NAME_MAX, required=True),
        }
        description = self.text(path, obj, "description", TEXT_MAX, required=False)
        if description:
            result["description"] = description
        result["questions"] = [
            self.question(where, question, question_ids)
            for where, question in self.objects(
                f"{path}.questions", self.listing(path, obj, "questions", required=True)
            )
        ]
        return result

    def question(self, path: str, obj: dict, question_ids: set) -> dict[str, Any]:
        known = (
            "id",
            "title",
            "description",
            "helpfulResource",
            "additionalResources",
            "choices",
            "riskRules",
        )
        self.keys(path, obj, known)
        result: dict[str, Any] = {
            "id": self.identifier(path, obj, ITEM_ID, question_ids),
            "title": self.text(path, obj, "title", TITLE_MAX, required=True),
        }
        description = self.text(path, obj, "description", TEXT_MAX, required=False)
        if description:
            result["description"] = description
        helpful = self.content(f"{path}.helpfulResource", obj.get("helpfulResource"))
        if helpful:
            result["helpfulResource"] = helpful
        extra = self.resources(path, obj)
        if extra:
            result["additionalResources"] = extra
        choice_ids: set[str] = set()
        result["choices"] = [
            self.choice(where, choice, choice_ids)
            for where, choice in self.objects(
                f"{path}.choices", self.listing(path, obj, "choices", required=True)
            )
        ]
        result["riskRules"] = self.risk_rules(path, obj, choice_ids)
        return result

    def choice(self, path: str, obj: dict, choice_ids: set) -> dict[str, Any]:
        known = ("id", "title", "helpfulResource", "improvementPlan", "additionalResources")
        self.keys(path, obj, known, kept=("description",))
        result: dict[str, Any] = {
            "id": self.identifier(path, obj, ITEM_ID, choice_ids),
            "title": self.text(path, obj, "title", TITLE_MAX, required=True),
        }
        description = self.text(path, obj, "description", 1024, required=False)
        if description:
            result["description"] = description
        helpful = self.content(f"{path}.helpfulResource", obj.get("helpfulResource"))
        if helpful:
            result["helpfulResource"] = helpful
        plan = self.content(f"{path}.improvementPlan", obj.get("improvementPlan"))
        if plan:
            result["improvementPlan"] = plan
        elif not result["id"].endswith("_no"):
            self.warn(path, "a best practice without an improvement plan")
        extra = self.resources(path, obj)
        if extra:
            result["additionalResources"] = extra
        return result

    def risk_rules(self, path: str, obj: dict, choice_ids: set[str]) -> list[dict[str, str]]:
        rules = []
        has_default = False
        entries = self.listing(path, obj, "riskRules", required=False)
        for where, rule in self.objects(f"{path}.riskRules", entries):
            self.keys(where, rule, ("condition", "risk"))
            condition = self.text(where, rule, "condition", TEXT_MAX, required=True)
            risk = rule.get("risk")
            if not isinstance(risk, str) or risk not in RISKS:
                self.error(f"{where}.risk", f"{json.dumps(risk)} is not one of {', '.join(RISKS)}")
            if condition.strip():
                try:
                    tree = conditions.parse(condition)
                except conditions.ConditionError as exc:
                    self.error(f"{where}.condition", str(exc))
                else:
                    has_default = has_default or tree == ["default"]
                    for unknown in sorted(conditions.choice_ids(tree) - choice_ids):
                        self.error(f"{where}.condition", f"unknown choice '{unknown}'")
            rules.append({"condition": condition, "risk": risk})
        if not has_default:
            self.warn(
                f"{path}.riskRules",
                "no 'default' rule; when no condition holds the question has no risk",
            )
        return rules


def _place_of_constant(text: str) -> str:
    for match in _CONSTANT.finditer(text):
        if match.group(1):
            return _place_of(text, match.start())
    return "file"


def _place_of(text: str, offset: int) -> str:
    if offset < 0:
        return "file"
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)
