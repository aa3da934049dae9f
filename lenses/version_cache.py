"""What a published lens version asks, kept in process memory: it never changes once published.

A workshop reads the same pillars, questions, choices and risk rules on every tick and poll;
reading them once per process instead of once per request is most of what the question page
saves. Entries are keyed by the version's primary key and creation time (a test database may
give a new version the key of one it rolled back), and drafts, which can still change, are
never kept. The cache holds at most MAX_VERSIONS versions, dropping the least recently used.

Objects handed out are shared between requests and threads: read them, never set attributes on
them (choices_of gives copies for that).
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lenses import conditions
from lenses.models import Choice, LensVersion, Pillar, Question, Risk, RiskRule

MAX_VERSIONS = 64


@dataclass(frozen=True)
class LensVersionData:
    pillars: tuple[Pillar, ...]  # in lens order
    questions: dict[int, Question]  # by pk
    by_pillar: dict[int, tuple[Question, ...]]  # pillar pk -> its questions in order
    choices: dict[int, tuple[Choice, ...]]  # question pk -> its choices in order
    rules: dict[int, tuple[tuple[Any, str], ...]]  # question pk -> (expression, risk) in order

    def choices_of(self, question_pk: int) -> list[Choice]:
        """The question's choices as copies, which a request may annotate (status, reason...)."""
        return [copy.copy(choice) for choice in self.choices.get(question_pk, ())]

    def risk_for(self, question_pk: int, selected: set[str] | frozenset[str]) -> str:
        """Question.risk_for without a query: the first rule whose condition holds."""
        for expression, risk in self.rules.get(question_pk, ()):
            if conditions.evaluate(expression, selected):
                return risk
        return Risk.NONE


_lock = threading.Lock()
_versions: OrderedDict[tuple[int, datetime | None], LensVersionData] = OrderedDict()


def _load(version_pk: int) -> LensVersionData:
    """Four queries: pillars, questions, choices, rules."""
    pillars = tuple(Pillar.objects.filter(lens_version=version_pk).order_by("order"))
    questions = list(Question.objects.filter(lens_version=version_pk).order_by("order"))
    choices: dict[int, list[Choice]] = {}
    for choice in Choice.objects.filter(question__lens_version=version_pk).order_by("order"):
        choices.setdefault(choice.question_id, []).append(choice)
    rules: dict[int, list[tuple[Any, str]]] = {}
    for rule in RiskRule.objects.filter(question__lens_version=version_pk).order_by("order"):
        rules.setdefault(rule.question_id, []).append((rule.expression, rule.risk))
    by_pillar: dict[int, list[Question]] = {}
    for question in questions:
        by_pillar.setdefault(question.pillar_id, []).append(question)
    return LensVersionData(
        pillars=pillars,
        questions={question.pk: question for question in questions},
        by_pillar={pk: tuple(items) for pk, items in by_pillar.items()},
        choices={pk: tuple(items) for pk, items in choices.items()},
        rules={pk: tuple(items) for pk, items in rules.items()},
    )


def version_data(version: LensVersion) -> LensVersionData:
    """The version's pillars, questions, choices and rules: no query once kept."""
    if version.status == LensVersion.Status.DRAFT:
        return _load(version.pk)
    key = (version.pk, version.created_at)
    with _lock:
        found = _versions.get(key)
        if found is not None:
            _versions.move_to_end(key)
            return found
    data = _load(version.pk)  # outside the lock: two first readers may both load, harmlessly
    with _lock:
        _versions[key] = data
        while len(_versions) > MAX_VERSIONS:
            _versions.popitem(last=False)
    return data


def clear() -> None:
    """Forget every kept version (for tests that change a published version in place)."""
    with _lock:
        _versions.clear()
