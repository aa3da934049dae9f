"""What changed between two versions of a lens.

Pillars, questions and choices are matched by their ids, as the AWS tool matches them when it
upgrades a review: an item whose id changed is one item deleted and another added. Question ids
are unique in a lens, so a question found under another pillar has moved; choice ids are only
unique within their question. The comparison works on lens documents (the custom-lens format),
so two versions of any origin compare alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lenses.models import LensVersion
from lenses.services import lens_version_document

NEW = "NEW"
DELETED = "DELETED"
UPDATED = "UPDATED"
UNCHANGED = "UNCHANGED"

# What a person reads in each kind of item, with the label the difference page shows.
PILLAR_FIELDS = {"name": "name", "description": "description"}
QUESTION_FIELDS = {
    "title": "title",
    "description": "description",
    "helpfulResource": "helpful resource",
    "additionalResources": "additional resources",
}
CHOICE_FIELDS = {
    "title": "title",
    "description": "description",
    "helpfulResource": "helpful resource",
    "improvementPlan": "improvement plan",
    "additionalResources": "additional resources",
}


@dataclass
class Change:
    """One field of an item, before and after."""

    label: str
    before: str
    after: str


@dataclass
class ChoiceDifference:
    choice_id: str
    title: str
    status: str
    changes: list[Change] = field(default_factory=list)


@dataclass
class QuestionDifference:
    question_id: str
    title: str
    status: str
    changes: list[Change] = field(default_factory=list)
    moved_from: str = ""  # the base version's pillar name, when the question changed pillar
    rules_before: list[dict[str, str]] = field(default_factory=list)
    rules_after: list[dict[str, str]] = field(default_factory=list)
    choices: list[ChoiceDifference] = field(default_factory=list)

    @property
    def readable_rules_before(self) -> list[tuple[str, str]]:
        return _readable_rules(self.rules_before)

    @property
    def readable_rules_after(self) -> list[tuple[str, str]]:
        return _readable_rules(self.rules_after)

    @property
    def rules_changed(self) -> bool:
        return self.status == UPDATED and self.rules_before != self.rules_after

    @property
    def changed_choices(self) -> list[ChoiceDifference]:
        return [choice for choice in self.choices if choice.status != UNCHANGED]


@dataclass
class PillarDifference:
    pillar_id: str
    name: str
    status: str
    changes: list[Change] = field(default_factory=list)
    questions: list[QuestionDifference] = field(default_factory=list)

    @property
    def changed_questions(self) -> list[QuestionDifference]:
        return [question for question in self.questions if question.status != UNCHANGED]

    @property
    def unchanged_questions(self) -> list[QuestionDifference]:
        return [question for question in self.questions if question.status == UNCHANGED]


@dataclass
class LensDifference:
    base_label: str
    target_label: str
    pillars: list[PillarDifference]

    @property
    def changed(self) -> bool:
        return any(pillar.status != UNCHANGED for pillar in self.pillars)

    def question_counts(self) -> dict[str, int]:
        counts = {NEW: 0, DELETED: 0, UPDATED: 0, UNCHANGED: 0}
        for pillar in self.pillars:
            for question in pillar.questions:
                counts[question.status] += 1
        return counts

    def as_aws(self, *, lens_alias: str, lens_arn: str = "", latest_label: str = "") -> dict:
        """The answer of the AWS tool's GetLensVersionDifference: only what differs."""
        answer: dict[str, Any] = {"LensAlias": lens_alias}
        if lens_arn:
            answer["LensArn"] = lens_arn
        if self.base_label:  # none for a lens's first version
            answer["BaseLensVersion"] = self.base_label
        answer["TargetLensVersion"] = self.target_label
        if latest_label:
            answer["LatestLensVersion"] = latest_label
        answer["VersionDifferences"] = {
            "PillarDifferences": [
                {
                    "PillarId": pillar.pillar_id,
                    "PillarName": pillar.name,
                    "DifferenceStatus": pillar.status,
                    "QuestionDifferences": [
                        {
                            "QuestionId": question.question_id,
                            "QuestionTitle": question.title,
                            "DifferenceStatus": question.status,
                        }
                        for question in pillar.changed_questions
                    ],
                }
                for pillar in self.pillars
                if pillar.status != UNCHANGED
            ]
        }
        return answer


def lens_version_difference(*, base: LensVersion, target: LensVersion) -> LensDifference:
    """The difference from `base` to `target`, two versions (or the draft) of one lens."""
    return document_difference(
        lens_version_document(base),
        lens_version_document(target),
        base_label=base.label,
        target_label=target.label,
    )


def document_difference(
    base: dict[str, Any], target: dict[str, Any], *, base_label: str = "", target_label: str = ""
) -> LensDifference:
    """The difference between two lens documents, in the target's order, deletions last."""
    base_pillars = {pillar["id"]: pillar for pillar in base["pillars"]}
    base_questions = {
        question["id"]: (question, pillar)
        for pillar in base["pillars"]
        for question in pillar["questions"]
    }
    target_question_ids = {
        question["id"] for pillar in target["pillars"] for question in pillar["questions"]
    }
    pillars = []
    for pillar in target["pillars"]:
        before = base_pillars.get(pillar["id"])
        questions = [
            _question_difference(base_questions.get(question["id"]), question, pillar["id"])
            for question in pillar["questions"]
        ]
        if before is not None:
            questions += [
                _deleted_question(question)
                for question in before["questions"]
                if question["id"] not in target_question_ids
            ]
        pillars.append(_pillar_difference(before, pillar, questions))
    for pillar in base["pillars"]:
        if pillar["id"] not in {p["id"] for p in target["pillars"]}:
            # Its questions that moved elsewhere are listed there as moved.
            questions = [
                _deleted_question(question)
                for question in pillar["questions"]
                if question["id"] not in target_question_ids
            ]
            pillars.append(
                PillarDifference(pillar["id"], pillar["name"], DELETED, questions=questions)
            )
    return LensDifference(base_label, target_label, pillars)


RISK_LABELS = {"HIGH_RISK": "High risk", "MEDIUM_RISK": "Medium risk", "NO_RISK": "No risk"}


def _readable_rules(rules: list[dict[str, str]]) -> list[tuple[str, str]]:
    """(risk as a person reads it, condition) for each rule."""
    return [(RISK_LABELS.get(rule["risk"], rule["risk"]), rule["condition"]) for rule in rules]


def _changes(before: dict, after: dict, fields: dict[str, str]) -> list[Change]:
    return [
        Change(label, _text(before.get(key, "")), _text(after.get(key, "")))
        for key, label in fields.items()
        if before.get(key, "") != after.get(key, "")
    ]


def _text(value: Any) -> str:
    """A field as a person reads it: links as "text (url)", resource lists one per line."""
    if isinstance(value, dict):
        text, url = value.get("displayText", ""), value.get("url", "")
        return f"{text} ({url})" if text and url else text or url
    if isinstance(value, list):
        return "\n".join(
            f"{group.get('type', '')}: {_text(item)}"
            for group in value
            for item in group.get("content", [])
        )
    return str(value)


def _pillar_difference(
    before: dict | None, after: dict, questions: list[QuestionDifference]
) -> PillarDifference:
    if before is None:
        return PillarDifference(after["id"], after["name"], NEW, questions=questions)
    changes = _changes(before, after, PILLAR_FIELDS)
    same = not changes and all(question.status == UNCHANGED for question in questions)
    # A question that moved away leaves its old pillar changed too.
    same = same and [q["id"] for q in before["questions"]] == [q["id"] for q in after["questions"]]
    status = UNCHANGED if same else UPDATED
    return PillarDifference(after["id"], after["name"], status, changes, questions)


def _deleted_question(question: dict) -> QuestionDifference:
    choices = [
        ChoiceDifference(choice["id"], choice["title"], DELETED) for choice in question["choices"]
    ]
    return QuestionDifference(
        question["id"],
        question["title"],
        DELETED,
        rules_before=question.get("riskRules", []),
        choices=choices,
    )


def _question_difference(
    found: tuple[dict, dict] | None, after: dict, pillar_id: str
) -> QuestionDifference:
    if found is None:
        choices = [
            ChoiceDifference(choice["id"], choice["title"], NEW) for choice in after["choices"]
        ]
        return QuestionDifference(
            after["id"],
            after["title"],
            NEW,
            rules_after=after.get("riskRules", []),
            choices=choices,
        )
    before, old_pillar = found
    before_choices = {choice["id"]: choice for choice in before["choices"]}
    after_ids = {choice["id"] for choice in after["choices"]}
    choices = []
    for choice in after["choices"]:
        old = before_choices.get(choice["id"])
        if old is None:
            choices.append(ChoiceDifference(choice["id"], choice["title"], NEW))
            continue
        changes = _changes(old, choice, CHOICE_FIELDS)
        status = UPDATED if changes else UNCHANGED
        choices.append(ChoiceDifference(choice["id"], choice["title"], status, changes))
    choices += [
        ChoiceDifference(choice["id"], choice["title"], DELETED)
        for choice in before["choices"]
        if choice["id"] not in after_ids
    ]
    difference = QuestionDifference(
        after["id"],
        after["title"],
        UNCHANGED,
        _changes(before, after, QUESTION_FIELDS),
        moved_from=old_pillar["name"] if old_pillar["id"] != pillar_id else "",
        rules_before=before.get("riskRules", []),
        rules_after=after.get("riskRules", []),
        choices=choices,
    )
    reordered = [c["id"] for c in before["choices"]] != [c["id"] for c in after["choices"]]
    if (
        difference.changes
        or difference.moved_from
        or difference.rules_before != difference.rules_after
        or difference.changed_choices
        or reordered
    ):
        difference.status = UPDATED
    return difference
