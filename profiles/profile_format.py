"""The profile JSON format: reading, checking and normalising a profile file.

    {"schemaVersion": "1.0", "name": "...", "description": "...",
     "questions": [{"id": "data", "title": "...", "description": "...",
                    "selectionType": "SINGLE" | "MULTIPLE",
                    "choices": [{"id": "health", "title": "...", "description": "...",
                                 "prioritises": [{"lens": "wellarchitected", "question": "sec6"}],
                                 "pillarOrder": ["security", "reliability"]}]}]}

`read_profile_file` takes the bytes of a file; `check_profile` a parsed object (the editor's
text, an API call). Both give the normalised document (what `export` writes back, so a profile
survives export → import unchanged) or raise `ProfileFileError` with every problem found, each
named by its place (`questions[1].choices[0].prioritises[2].question: no question 'sec9' in
the lens 'wellarchitected'`). Nothing is stored by either.
"""

from __future__ import annotations

import json
import re
from typing import Any

from lenses.models import Pillar, Question
from lenses.services import BUILTIN_ALIAS
from profiles.models import DESCRIPTION_MAX, NAME_MAX

SCHEMA_VERSION = "1.0"
SELECTION_TYPES = ("SINGLE", "MULTIPLE")
ITEM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
REFERENCE = re.compile(r"[^\x00\s]{1,128}")  # a lens alias or a question id of a lens
TITLE_MAX = 512
TEXT_MAX = 2048
QUESTIONS_MAX = 20
CHOICES_MAX = 30
PRIORITISED_MAX = 200
FILE_MAX = 1_000_000
ERRORS_MAX = 100


class ProfileFileError(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def read_profile_file(raw: bytes) -> dict[str, Any]:
    if len(raw) > FILE_MAX:
        raise ProfileFileError([f"the file is larger than {FILE_MAX // 1000} kB"])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProfileFileError([f"the file is not UTF-8 text (byte {exc.start})"]) from None
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise ProfileFileError([f"not valid JSON: {exc}"]) from None
    return check_profile(data)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed in JSON")


QUESTION_KEYS = ("id", "title", "description", "selectionType", "choices")
CHOICE_KEYS = ("id", "title", "description", "prioritises", "pillarOrder")


def in_file_order(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The questions with their keys in the documented order (a JSON column may keep them in
    another), so an exported file reads as the README describes it."""
    return [
        {
            **{key: question[key] for key in QUESTION_KEYS if key != "choices"},
            "choices": [
                {key: choice[key] for key in CHOICE_KEYS} for choice in question["choices"]
            ],
        }
        for question in questions
    ]


def export(profile) -> dict[str, Any]:
    return {
        "schemaVersion": SCHEMA_VERSION,
        "name": profile.name,
        "description": profile.description,
        "questions": in_file_order(profile.questions),
    }


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def check_profile(data: Any) -> dict[str, Any]:
    checker = _Checker()
    document = checker.profile(data)
    checker.lens_references()
    if checker.errors:
        raise ProfileFileError(checker.errors[:ERRORS_MAX])
    return document


def check_questions(questions: Any) -> list[dict[str, Any]]:
    """Only the questions (the editor's text): problems named from `questions`."""
    checker = _Checker()
    result = checker.questions("questions", questions)
    checker.lens_references()
    if checker.errors:
        raise ProfileFileError(checker.errors[:ERRORS_MAX])
    return result


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.references: list[tuple[str, str, str]] = []  # (place, lens alias, question id)
        self.pillar_orders: list[tuple[str, list[str]]] = []

    def error(self, place: str, message: str) -> None:
        self.errors.append(f"{place}: {message}" if place else message)

    def keys(self, place: str, obj: dict, known: tuple[str, ...]) -> None:
        for key in obj:
            if key not in known:
                self.error(_join(place, key), "unknown key")

    def text(self, place: str, obj: dict, key: str, limit: int, *, required: bool) -> str:
        value = obj.get(key, "")
        where = _join(place, key)
        if not isinstance(value, str):
            self.error(where, "must be text")
            return ""
        value = value.strip()
        if required and not value:
            self.error(where, "is required")
        elif len(value) > limit:
            self.error(where, f"longer than {limit} characters ({len(value)})")
        elif "\x00" in value:
            self.error(where, "holds a NUL character")
        return value

    def listing(self, place: str, obj: dict, key: str, limit: int) -> list:
        value = obj.get(key, [])
        where = _join(place, key)
        if not isinstance(value, list):
            self.error(where, "must be a list")
            return []
        if len(value) > limit:
            self.error(where, f"more than {limit} entries ({len(value)})")
            return []
        return value

    def identifier(self, place: str, obj: dict, seen: set[str]) -> str:
        value = obj.get("id")
        where = _join(place, "id")
        if not isinstance(value, str) or not ITEM_ID.fullmatch(value):
            self.error(where, "must be 1–64 letters, digits, '_' or '-'")
            return ""
        if value in seen:
            self.error(where, f"duplicate '{value}'")
        seen.add(value)
        return value

    def profile(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.error("", "the file must hold one JSON object")
            return {}
        self.keys("", data, ("schemaVersion", "name", "description", "questions"))
        version = data.get("schemaVersion", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            self.error("schemaVersion", f"must be '{SCHEMA_VERSION}'")
        name = self.text("", data, "name", NAME_MAX, required=True)
        if name and len(name) < 3:
            self.error("name", "must be 3 characters or more")
        return {
            "schemaVersion": SCHEMA_VERSION,
            "name": name,
            "description": self.text("", data, "description", DESCRIPTION_MAX, required=False),
            "questions": self.questions("questions", data.get("questions", [])),
        }

    def questions(self, place: str, items: Any) -> list[dict[str, Any]]:
        if not isinstance(items, list):
            self.error(place, "must be a list")
            return []
        if not items:
            self.error(place, "a profile needs at least one question")
        if len(items) > QUESTIONS_MAX:
            self.error(place, f"more than {QUESTIONS_MAX} questions ({len(items)})")
            return []
        seen: set[str] = set()
        result = []
        for index, obj in enumerate(items):
            where = f"{place}[{index}]"
            if not isinstance(obj, dict):
                self.error(where, "must be an object")
                continue
            result.append(self.question(where, obj, seen))
        return result

    def question(self, place: str, obj: dict, seen: set[str]) -> dict[str, Any]:
        self.keys(place, obj, ("id", "title", "description", "selectionType", "choices"))
        selection = obj.get("selectionType", "SINGLE")
        if selection not in SELECTION_TYPES:
            self.error(_join(place, "selectionType"), "must be SINGLE or MULTIPLE")
        choices = self.listing(place, obj, "choices", CHOICES_MAX)
        if not choices and isinstance(obj.get("choices", []), list):
            self.error(_join(place, "choices"), "a question needs at least one choice")
        choice_ids: set[str] = set()
        checked = []
        for index, choice in enumerate(choices):
            where = f"{place}.choices[{index}]"
            if not isinstance(choice, dict):
                self.error(where, "must be an object")
                continue
            checked.append(self.choice(where, choice, choice_ids))
        return {
            "id": self.identifier(place, obj, seen),
            "title": self.text(place, obj, "title", TITLE_MAX, required=True),
            "description": self.text(place, obj, "description", TEXT_MAX, required=False),
            "selectionType": selection,
            "choices": checked,
        }

    def choice(self, place: str, obj: dict, seen: set[str]) -> dict[str, Any]:
        self.keys(place, obj, ("id", "title", "description", "prioritises", "pillarOrder"))
        prioritises = []
        pairs: set[tuple[str, str]] = set()
        for index, ref in enumerate(self.listing(place, obj, "prioritises", PRIORITISED_MAX)):
            where = f"{place}.prioritises[{index}]"
            if not isinstance(ref, dict):
                self.error(
                    where,
                    'must be an object such as {"lens": "wellarchitected", "question": "sec1"}',
                )
                continue
            self.keys(where, ref, ("lens", "question"))
            lens = ref.get("lens", BUILTIN_ALIAS)
            question = ref.get("question")
            # The database refuses a NUL in a query: such an id is wrong before any lookup.
            if not isinstance(lens, str) or not REFERENCE.fullmatch(lens):
                self.error(_join(where, "lens"), "must be a lens alias")
                continue
            if not isinstance(question, str) or not REFERENCE.fullmatch(question):
                self.error(_join(where, "question"), "must be a question id")
                continue
            if (lens, question) in pairs:
                self.error(where, f"'{lens}/{question}' is listed twice")
                continue
            pairs.add((lens, question))
            self.references.append((where, lens, question))
            prioritises.append({"lens": lens, "question": question})
        order = self.listing(place, obj, "pillarOrder", 50)
        if not all(isinstance(p, str) for p in order):
            self.error(_join(place, "pillarOrder"), "must be a list of pillar ids")
            order = []
        elif len(set(order)) != len(order):
            self.error(_join(place, "pillarOrder"), "names a pillar twice")
        elif order:
            self.pillar_orders.append((_join(place, "pillarOrder"), order))
        return {
            "id": self.identifier(place, obj, seen),
            "title": self.text(place, obj, "title", TITLE_MAX, required=True),
            "description": self.text(place, obj, "description", TEXT_MAX, required=False),
            "prioritises": prioritises,
            "pillarOrder": list(order),
        }

    def lens_references(self) -> None:
        """Every prioritised question exists in some version of its lens, every pillar of a
        suggested order in the built-in lens (two queries, however long the file). Checked
        even when other problems were found, so that one pass reports them all."""
        if self.references:
            aliases = {alias for _, alias, _ in self.references}
            known = set(
                Question.objects.filter(lens_version__lens__alias__in=aliases).values_list(
                    "lens_version__lens__alias", "question_id"
                )
            )
            lenses = {alias for alias, _ in known}
            for place, alias, question in self.references:
                if alias not in lenses:
                    self.error(_join(place, "lens"), f"no lens '{alias}'")
                elif (alias, question) not in known:
                    self.error(
                        _join(place, "question"), f"no question '{question}' in the lens '{alias}'"
                    )
        if self.pillar_orders:
            pillars = set(
                Pillar.objects.filter(lens_version__lens__alias=BUILTIN_ALIAS).values_list(
                    "pillar_id", flat=True
                )
            )
            for place, order in self.pillar_orders:
                for pillar_id in order:
                    if pillar_id not in pillars:
                        self.error(place, f"no pillar '{pillar_id}' in the built-in lens")


def _join(place: str, key: str) -> str:
    return f"{place}.{key}" if place else key
