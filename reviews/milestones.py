"""Milestones freeze a workload's lens reviews; comparisons show what changed between states."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from reviews.activity import Action, activity_record
from reviews.errors import CONFLICT, QUOTA, DomainError
from reviews.models import MAX_MILESTONES, Milestone, Workload, name_key
from reviews.score_selectors import lens_score, pillar_score, snapshot_practices, snapshots_score
from reviews.snapshots import empty_counts, total_counts, workload_snapshots

NOW = "now"


class MilestoneError(DomainError):
    """A milestone that cannot be saved, with a message for the person who asked."""


@transaction.atomic
def milestone_create(*, workload: Workload, name: str, user: AbstractBaseUser | None) -> Milestone:
    name = " ".join(name.split())
    if not 3 <= len(name) <= 100:
        raise MilestoneError("A milestone name is 3 to 100 characters long.")
    if "\x00" in name:  # PostgreSQL cannot store it; the name comes without a Django form
        raise MilestoneError("A milestone name cannot contain a NUL character.")
    # Serialise milestone numbering per workload.
    workload = Workload.objects.select_for_update().get(pk=workload.pk)
    existing = list(workload.milestones.values_list("number", "name_key"))
    if len(existing) >= MAX_MILESTONES:
        raise MilestoneError(f"A workload keeps at most {MAX_MILESTONES} milestones.", QUOTA)
    if name_key(name) in {key for _, key in existing}:
        raise MilestoneError(
            f"A milestone named “{name}” exists already (case and spaces aside).", CONFLICT
        )
    snapshots = workload_snapshots(workload)
    totals = total_counts(snapshot["counts"] for snapshot in snapshots)
    milestone = Milestone.objects.create(
        workload=workload,
        number=max((number for number, _ in existing), default=0) + 1,
        name=name,
        recorded_by=user,
        high_count=totals["high"],
        medium_count=totals["medium"],
        answered_count=totals["answered"],
        question_count=totals["total"],
        score=snapshots_score(snapshots),
        data={"lens_reviews": snapshots},
    )
    # The workload changed: the dashboard's trend, cached under the stamps of the workloads
    # (reviews.dashboard.slice_stamps), is counted again.
    Workload.objects.filter(pk=workload.pk).update(updated_at=timezone.now())
    activity_record(
        workload=workload,
        user=user,
        action=Action.MILESTONE,
        number=milestone.number,
        name=milestone.name,
    )
    return milestone


# -- comparison ------------------------------------------------------------------------------


@dataclass
class PillarDelta:
    name: str
    high: tuple[int, int]
    medium: tuple[int, int]
    # Before and after, in percent; None where the pillar has no score (reviews.scores).
    score: tuple[float | None, float | None] = (None, None)

    @property
    def high_change(self) -> int:
        return self.high[1] - self.high[0]

    @property
    def medium_change(self) -> int:
        return self.medium[1] - self.medium[0]


@dataclass
class QuestionChange:
    pillar: str
    question_id: str
    title: str
    risk: tuple[str, str]
    added: list[str]
    removed: list[str]
    notes_changed: bool
    # Between two versions of the lens: NEW or REMOVED when only one of them asks it.
    presence: str = ""


@dataclass
class LensComparison:
    alias: str
    name: str
    versions: tuple[str, str]
    present: tuple[bool, bool]
    score: tuple[float | None, float | None] = (None, None)
    pillars: list[PillarDelta] = field(default_factory=list)
    changes: list[QuestionChange] = field(default_factory=list)
    unchanged: int = 0


def compare_states(
    before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> list[LensComparison]:
    """Per lens: high/medium and the score per pillar before and after, the lens's score before
    and after, and every question that changed."""
    old = {snapshot["lens"]["alias"]: snapshot for snapshot in before}
    new = {snapshot["lens"]["alias"]: snapshot for snapshot in after}
    aliases = [*new, *(alias for alias in old if alias not in new)]
    return [_compare_lens(old.get(alias), new.get(alias)) for alias in aliases]


def _compare_lens(old: dict | None, new: dict | None) -> LensComparison:
    some = new or old
    practices_before = snapshot_practices(old) if old else {}
    practices_after = snapshot_practices(new) if new else {}
    result = LensComparison(
        alias=some["lens"]["alias"],
        name=some["lens"]["name"],
        versions=(old["lens"]["version"] if old else "", new["lens"]["version"] if new else ""),
        present=(old is not None, new is not None),
        score=(lens_score(practices_before), lens_score(practices_after)),
    )
    old_pillars = {p["id"]: p for p in old["pillars"]} if old else {}
    new_pillars = {p["id"]: p for p in new["pillars"]} if new else {}
    for pillar_id in [*new_pillars, *(p for p in old_pillars if p not in new_pillars)]:
        before, after = old_pillars.get(pillar_id), new_pillars.get(pillar_id)
        counts_before = before["counts"] if before else empty_counts()
        counts_after = after["counts"] if after else empty_counts()
        result.pillars.append(
            PillarDelta(
                name=(after or before)["name"],
                high=(counts_before["high"], counts_after["high"]),
                medium=(counts_before["medium"], counts_after["medium"]),
                score=(
                    pillar_score(practices_before, pillar_id),
                    pillar_score(practices_after, pillar_id),
                ),
            )
        )
    # Questions are matched by id across the lens: an upgrade may move one to another pillar.
    old_questions = _questions_by_id(old)
    new_questions = _questions_by_id(new)
    across_versions = (
        old is not None and new is not None and result.versions[0] != result.versions[1]
    )
    for question_id in [*new_questions, *(q for q in old_questions if q not in new_questions)]:
        before, after = old_questions.get(question_id), new_questions.get(question_id)
        pillar = (after or before)[0]
        change = _compare_question(pillar, before and before[1], after and after[1])
        if across_versions and (before is None or after is None):
            change = change or _compare_question(
                pillar, before and before[1], after and after[1], force=True
            )
            change.presence = "NEW" if before is None else "REMOVED"
        if change is None:
            result.unchanged += 1
        else:
            result.changes.append(change)
    return result


def _questions_by_id(snapshot: dict | None) -> dict[str, tuple[str, dict]]:
    """Question id -> (pillar name, question) of a lens review's snapshot, in its order."""
    if snapshot is None:
        return {}
    return {q["id"]: (p["name"], q) for p in snapshot["pillars"] for q in p["questions"]}


def _selected(question: dict | None) -> dict[str, str]:
    if question is None:
        return {}
    return {c["id"]: c["title"] for c in question["choices"] if c["status"] == "SELECTED"}


def _compare_question(
    pillar: str, old: dict | None, new: dict | None, *, force: bool = False
) -> QuestionChange | None:
    before, after = _selected(old), _selected(new)
    risk = (old["risk"] if old else "UNANSWERED", new["risk"] if new else "UNANSWERED")
    notes_changed = (old or {}).get("notes", "") != (new or {}).get("notes", "")
    added = [title for choice_id, title in after.items() if choice_id not in before]
    removed = [title for choice_id, title in before.items() if choice_id not in after]
    if risk[0] == risk[1] and not added and not removed and not notes_changed and not force:
        return None
    some = new or old
    return QuestionChange(
        pillar=pillar,
        question_id=some["id"],
        title=some["title"],
        risk=risk,
        added=added,
        removed=removed,
        notes_changed=notes_changed,
    )
