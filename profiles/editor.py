"""The profile editor's form: questions and choices as rows of fields, read back into the
profile document (profiles.profile_format), which checks it as it checks a file.

Fields are named by position: `q-1-title`, `q-1-c-0-prioritises`. The page always offers one
blank question and two blank choices per question to fill in; blank rows and rows ticked
"remove" are left out. Prioritised questions are typed as lens question ids (`sec2, rel6`; a
question of another lens as `alias/question`), a pillar order as pillar ids.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import QueryDict

from lenses.services import BUILTIN_ALIAS
from profiles import profile_format

BLANK_CHOICES = 2
SPLIT = re.compile(r"[\s,]+")


def _blank_choice() -> dict[str, Any]:
    return {"id": "", "title": "", "description": "", "prioritises": [], "pillarOrder": []}


def _blank_question() -> dict[str, Any]:
    return {
        "id": "",
        "title": "",
        "description": "",
        "selectionType": "SINGLE",
        "choices": [],
    }


def references_text(prioritises: list[dict[str, str]]) -> str:
    return ", ".join(
        ref["question"] if ref["lens"] == BUILTIN_ALIAS else f"{ref['lens']}/{ref['question']}"
        for ref in prioritises
    )


def rows(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The questions as the editor shows them: with blank rows to fill in, and the lists of
    question ids and pillars as text."""
    shown = []
    for question in [*questions, _blank_question()]:
        choices = [*question["choices"], *[_blank_choice() for _ in range(BLANK_CHOICES)]]
        shown.append(
            {
                **question,
                "choices": [
                    {
                        **choice,
                        "prioritises_text": choice.get("prioritises_text")
                        or references_text(choice["prioritises"]),
                        "pillar_text": choice.get("pillar_text")
                        or ", ".join(choice["pillarOrder"]),
                    }
                    for choice in choices
                ],
            }
        )
    return shown


def _words(text: str) -> list[str]:
    return [word for word in SPLIT.split(text.strip()) if word]


def _reference(word: str) -> dict[str, str]:
    lens, _, question = word.rpartition("/")
    return {"lens": lens or BUILTIN_ALIAS, "question": question}


def _blank(*values: str) -> bool:
    return not any(value.strip() for value in values)


def read_post(post: QueryDict) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The document the posted fields describe (unchecked), and the rows to show again if it
    is refused: what was typed, blank rows left out."""
    questions: list[dict[str, Any]] = []
    typed: list[dict[str, Any]] = []
    i = 0
    while f"q-{i}-present" in post:
        prefix = f"q-{i}-"
        field = lambda name, p=prefix: post.get(p + name, "")  # noqa: E731
        choices, typed_choices = [], []
        j = 0
        while f"{prefix}c-{j}-present" in post:
            cp = f"{prefix}c-{j}-"
            values = {
                name: post.get(cp + name, "")
                for name in ("id", "title", "description", "prioritises", "pillars")
            }
            j += 1
            if post.get(cp + "remove") or _blank(*values.values()):
                continue
            choice = {
                "id": values["id"].strip(),
                "title": values["title"],
                "description": values["description"],
                "prioritises": [_reference(w) for w in _words(values["prioritises"])],
                "pillarOrder": _words(values["pillars"]),
            }
            choices.append(choice)
            typed_choices.append(
                {
                    **choice,
                    "prioritises_text": values["prioritises"],
                    "pillar_text": values["pillars"],
                }
            )
        i += 1
        texts = (field("id"), field("title"), field("description"))
        if field("remove") or (_blank(*texts) and not choices):
            continue
        question = {
            "id": field("id").strip(),
            "title": field("title"),
            "description": field("description"),
            "selectionType": field("selectionType") or "SINGLE",
            "choices": choices,
        }
        questions.append(question)
        typed.append({**question, "choices": typed_choices})
    document = {
        "schemaVersion": profile_format.SCHEMA_VERSION,
        "name": post.get("name", ""),
        "description": post.get("description", ""),
        "questions": questions,
    }
    return document, typed


def place_label(problem: str) -> str:
    """`questions[1].choices[0].title: is required` → `Question 2, choice 1, title: is required`."""

    def label(match: re.Match) -> str:
        question, choice = match["q"], match["c"]
        text = f"Question {int(question) + 1}"
        if choice is not None:
            text += f", choice {int(choice) + 1}"
        return text + (", " if match["rest"] else "")

    return re.sub(
        r"^questions\[(?P<q>\d+)\](?:\.choices\[(?P<c>\d+)\])?(?P<rest>\.)?", label, problem
    )
