"""Improvement items: the tracked work on each risky question.

An item opens when a question becomes high or medium risk, closes by itself when the risk goes
away, and reopens with its comment, assignee and history when the risk returns.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from reviews.errors import CONFLICT, DomainError
from reviews.models import (
    NOTES_MAX,
    Answer,
    AnswerRisk,
    ImprovementEvent,
    ImprovementItem,
    ImprovementStatus,
    LensReview,
    sharing_users,
)

RISKY = (AnswerRisk.HIGH, AnswerRisk.MEDIUM)
# The usual windows for fixing high and medium risk findings.
DUE_IN_DAYS = {AnswerRisk.HIGH: 30, AnswerRisk.MEDIUM: 90}
WORKING = (ImprovementStatus.NOT_STARTED, ImprovementStatus.IN_PROGRESS)
# What item_sync changes of an item that exists; the rest (comment, assignee) is people's.
SYNCED_FIELDS = ("is_open", "status", "due_date", "updated_at")


class ImprovementError(DomainError):
    """An item change that cannot be made, with a message for the person who asked."""


def default_due_date(risk: str) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=DUE_IN_DAYS[risk])


@dataclass
class ItemSync:
    """What a change of risk does to an answer's item: `item` as it must be (unsaved; no pk
    when it is new) and its history line."""

    item: ImprovementItem
    text: str


def item_sync(
    answer: Answer, risk_before: str, item: ImprovementItem | None, today: datetime.date
) -> ItemSync | None:
    """Open, close or reopen the answer's `item` (None: it has none yet) after its risk moved
    from `risk_before`; None when the item stays as it is."""
    if (risk_before in RISKY) == (answer.risk in RISKY):
        return None
    risk_label = AnswerRisk(answer.risk).label.lower()
    if answer.risk in RISKY:
        if item is None:
            item = ImprovementItem(answer=answer, due_date=default_due_date(answer.risk))
            return ItemSync(item, f"Opened: {risk_label}, due {item.due_date:%d %b %Y}.")
        item.is_open = True
        item.status = ImprovementStatus.NOT_STARTED
        if item.due_date is None or item.due_date < today:
            item.due_date = default_due_date(answer.risk)
        return ItemSync(
            item, f"Reopened: the question is {risk_label} again, due {item.due_date:%d %b %Y}."
        )
    if item is not None and item.is_open:
        item.is_open = False
        return ItemSync(item, f"Closed automatically: the question is now {risk_label}.")
    return None


def improvements_sync(*, changes: list[tuple[Answer, str]], user: AbstractBaseUser | None) -> None:
    """item_sync for many (answer, risk before) pairs (templates, upgrades), in the same few
    queries; a change of one answer writes its item with the answer (reviews.answer_writes)."""
    flipped = [(a, before) for a, before in changes if (before in RISKY) != (a.risk in RISKY)]
    if not flipped:
        return
    items = {
        item.answer_id: item
        for item in ImprovementItem.objects.filter(answer__in=[a.pk for a, _ in flipped])
    }
    created, updated, events = [], [], []
    today, now = timezone.localdate(), timezone.now()
    for answer, before in flipped:
        synced = item_sync(answer, before, items.get(answer.pk), today)
        if synced is None:
            continue
        (updated if synced.item.pk else created).append(synced.item)
        events.append(synced)
    ImprovementItem.objects.bulk_create(created)
    for item in updated:
        item.updated_at = now  # bulk_update leaves auto_now fields alone
    ImprovementItem.objects.bulk_update(updated, SYNCED_FIELDS)
    ImprovementEvent.objects.bulk_create(
        ImprovementEvent(item=synced.item, user=user, text=synced.text) for synced in events
    )


@dataclass
class ItemChange:
    status: str
    assignee_id: int | None
    due_date: datetime.date | None
    comment: str


ACKNOWLEDGE_NEEDS_REASON = (
    "“Risk acknowledged” needs a reason: say in the comment why the risk is accepted."
)


def _problems(change: ItemChange) -> list[str]:
    """What is wrong with a change on its own (the assignee is checked against the workload)."""
    problems = []
    if change.status not in ImprovementStatus.values:
        problems.append(f"Unknown status {change.status!r}.")
    if len(change.comment) > NOTES_MAX:
        problems.append(f"The comment is at most {NOTES_MAX:,} characters.")
    if change.status == ImprovementStatus.RISK_ACKNOWLEDGED and not change.comment.strip():
        problems.append(ACKNOWLEDGE_NEEDS_REASON)
    return problems


def _check_assignee(workload_id: QuerySet, user_id: int) -> None:
    """The assignee must be someone the workload is shared with, themselves or through a team
    (`workload_id`: a query of its id)."""
    if not sharing_users(workload_id).filter(pk=user_id).exists():
        raise ImprovementError("The assignee must be someone this workload is shared with.")


def _apply(item: ImprovementItem, change: ItemChange, user: AbstractBaseUser | None):
    """Copy the change onto the item; returns the history line, or None when nothing changes."""
    notes = []
    if item.status != change.status:
        before, after = ImprovementStatus(item.status).label, ImprovementStatus(change.status).label
        notes.append(f"status {before} → {after}")
    if item.assignee_id != change.assignee_id:
        notes.append("assignee changed")
    if item.due_date != change.due_date:
        notes.append(f"due {change.due_date:%d %b %Y}" if change.due_date else "no due date")
    if item.comment != change.comment:
        notes.append("comment edited")
    if not notes:
        return None
    item.status = change.status
    item.assignee_id = change.assignee_id
    item.due_date = change.due_date
    item.comment = change.comment
    text = "; ".join(notes)
    return ImprovementEvent(item=item, user=user, text=f"{text[0].upper()}{text[1:]}.")


@transaction.atomic
def improvement_item_update(
    *, item: ImprovementItem, change: ItemChange, user: AbstractBaseUser
) -> ImprovementItem:
    if problems := _problems(change):
        raise ImprovementError(" ".join(problems))
    item = (
        ImprovementItem.objects.select_for_update(of=("self",))
        .select_related("assignee")
        .get(pk=item.pk)
    )
    if change.assignee_id is not None:
        workload_id = Answer.objects.filter(pk=item.answer_id).values("lens_review__workload")
        _check_assignee(workload_id, change.assignee_id)
    event = _apply(item, change, user)
    if event is None:
        return item
    item.save()
    event.save()
    return item


class Keep(enum.Enum):
    """A bulk change leaves this value of each item as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass
class BulkChange:
    status: str | Keep = KEEP
    assignee_id: int | None | Keep = KEEP
    due_date: datetime.date | None | Keep = KEEP
    # Added to each item's comment (on a line of its own): the reason for acknowledging a risk.
    reason: str = ""

    def for_item(self, item: ImprovementItem) -> ItemChange:
        comment, reason = item.comment, self.reason.strip()
        if reason:
            comment = f"{comment.rstrip()}\n{reason}" if comment.strip() else reason
        return ItemChange(
            status=item.status if self.status is KEEP else self.status,
            assignee_id=item.assignee_id if self.assignee_id is KEEP else self.assignee_id,
            due_date=item.due_date if self.due_date is KEEP else self.due_date,
            comment=comment,
        )


@transaction.atomic
def improvement_items_bulk_update(
    *, review: LensReview, item_ids: list[int], change: BulkChange, user: AbstractBaseUser
) -> list[ImprovementItem]:
    """Apply one change to many open items of a lens review: all of them or, on any problem,
    none (the error names every item that cannot take it). Returns the items that changed.

    A fixed number of queries however many items: the items read and locked, the assignee
    checked, one UPDATE, one INSERT of history lines.
    """
    if not item_ids:
        raise ImprovementError("Tick the items to change first.")
    if (change.status, change.assignee_id, change.due_date) == (KEEP, KEEP, KEEP) and not (
        change.reason.strip()
    ):
        raise ImprovementError("Choose a status, an assignee or a due date to set.")
    wanted = set(item_ids)
    # Locked in primary key order, so two bulk changes of overlapping items never wait for each
    # other in a circle.
    items = list(
        ImprovementItem.objects.select_for_update(of=("self",))
        .filter(pk__in=wanted, answer__lens_review=review)
        .select_related("answer__question")
        .order_by("pk")
    )
    if len(items) != len(wanted):
        raise ImprovementError("Some ticked items are not in this plan. Reload the plan.", CONFLICT)
    problems = []
    closed = [item for item in items if not item.is_open]
    for item in closed:
        problems.append(
            f"“{item.answer.question.title}” is no longer high or medium risk: its item closed."
        )
    # Each problem once, with the items it stops: forty items may share one.
    stopped: dict[str, list[str]] = {}
    for item in items:
        for problem in _problems(change.for_item(item)):
            stopped.setdefault(problem, []).append(f"“{item.answer.question.title}”")
    for problem, titles in stopped.items():
        problems.append(f"{problem.removesuffix('.')} ({', '.join(titles)}).")
    if problems:
        raise ImprovementError(" ".join(problems))
    if isinstance(change.assignee_id, int):
        _check_assignee(
            LensReview.objects.filter(pk=review.pk).values("workload"), change.assignee_id
        )
    now = timezone.now()
    changed, events = [], []
    for item in items:
        event = _apply(item, change.for_item(item), user)
        if event is not None:
            item.updated_at = now  # bulk_update skips auto_now
            changed.append(item)
            events.append(event)
    if changed:
        ImprovementItem.objects.bulk_update(
            changed, ["status", "assignee", "due_date", "comment", "updated_at"]
        )
        ImprovementEvent.objects.bulk_create(events)
    return changed


def complete_but_risky(item: ImprovementItem) -> bool:
    """Marked complete while its question is still high or medium risk.

    An item is open exactly as long as its question is risky (improvement_sync), so a complete
    open item means the answers do not show the improvement yet.
    """
    return item.is_open and item.status == ImprovementStatus.COMPLETE


def person_label(user: AbstractBaseUser) -> str:
    """How the plan names an assignee: the whole name and the username, never shortened, as
    two people may share a name."""
    name = user.get_full_name().strip() if hasattr(user, "get_full_name") else ""
    return f"{name} ({user.get_username()})" if name else user.get_username()


def is_overdue(item: ImprovementItem, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return bool(item.is_open and item.status in WORKING and item.due_date and item.due_date < today)


def improvement_status(
    *, items: int, not_started: int, in_progress: int, complete: int, acknowledged: int
) -> str:
    """A workload's improvement status from counts of its items (closed items count as done).

    Returns "NONE" when nothing ever needed improving, otherwise an ImprovementStatus value.
    """
    if items == 0:
        return "NONE"
    if not_started or in_progress:
        if in_progress or complete or acknowledged:
            return ImprovementStatus.IN_PROGRESS
        return ImprovementStatus.NOT_STARTED
    if acknowledged:
        return ImprovementStatus.RISK_ACKNOWLEDGED
    return ImprovementStatus.COMPLETE
