"""Improvement items: the tracked work on each risky question.

An item opens when a question becomes high or medium risk, closes by itself when the risk goes
away, and reopens with its comment, assignee and history when the risk returns.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from reviews.models import (
    NOTES_MAX,
    Answer,
    AnswerRisk,
    ImprovementEvent,
    ImprovementItem,
    ImprovementStatus,
    WorkloadMember,
)

RISKY = (AnswerRisk.HIGH, AnswerRisk.MEDIUM)
# The usual windows for fixing high and medium risk findings.
DUE_IN_DAYS = {AnswerRisk.HIGH: 30, AnswerRisk.MEDIUM: 90}
WORKING = (ImprovementStatus.NOT_STARTED, ImprovementStatus.IN_PROGRESS)


class ImprovementError(Exception):
    """An item change that cannot be made, with a message for the person who asked."""


def default_due_date(risk: str) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=DUE_IN_DAYS[risk])


def improvement_sync(*, answer: Answer, risk_before: str, user: AbstractBaseUser | None) -> None:
    """Open, close or reopen the answer's item after its risk changed (call inside the save)."""
    improvements_sync(changes=[(answer, risk_before)], user=user)


def improvements_sync(*, changes: list[tuple[Answer, str]], user: AbstractBaseUser | None) -> None:
    """`improvement_sync` for many (answer, risk before) pairs, in the same few queries."""
    flipped = [(a, before) for a, before in changes if (before in RISKY) != (a.risk in RISKY)]
    if not flipped:
        return
    items = {
        item.answer_id: item
        for item in ImprovementItem.objects.filter(answer__in=[a.pk for a, _ in flipped])
    }
    created, updated, events = [], [], []
    today, now = timezone.localdate(), timezone.now()
    for answer, _ in flipped:
        item = items.get(answer.pk)
        risk_label = AnswerRisk(answer.risk).label.lower()
        if answer.risk in RISKY:
            if item is None:
                item = ImprovementItem(answer=answer, due_date=default_due_date(answer.risk))
                created.append(item)
                text = f"Opened: {risk_label}, due {item.due_date:%d %b %Y}."
            else:
                item.is_open = True
                item.status = ImprovementStatus.NOT_STARTED
                if item.due_date is None or item.due_date < today:
                    item.due_date = default_due_date(answer.risk)
                updated.append(item)
                text = (
                    f"Reopened: the question is {risk_label} again, due {item.due_date:%d %b %Y}."
                )
        elif item is not None and item.is_open:
            item.is_open = False
            updated.append(item)
            text = f"Closed automatically: the question is now {risk_label}."
        else:
            continue
        events.append((item, text))
    ImprovementItem.objects.bulk_create(created)
    for item in updated:
        item.updated_at = now  # bulk_update leaves auto_now fields alone
    ImprovementItem.objects.bulk_update(updated, ["is_open", "status", "due_date", "updated_at"])
    ImprovementEvent.objects.bulk_create(
        ImprovementEvent(item=item, user=user, text=text) for item, text in events
    )


@dataclass
class ItemChange:
    status: str
    assignee_id: int | None
    due_date: datetime.date | None
    comment: str


@transaction.atomic
def improvement_item_update(
    *, item: ImprovementItem, change: ItemChange, user: AbstractBaseUser
) -> ImprovementItem:
    if change.status not in ImprovementStatus.values:
        raise ImprovementError(f"Unknown status {change.status!r}.")
    if len(change.comment) > NOTES_MAX:
        raise ImprovementError(f"The comment is at most {NOTES_MAX:,} characters.")
    item = (
        ImprovementItem.objects.select_for_update(of=("self",))
        .select_related("assignee")
        .get(pk=item.pk)
    )
    workload_id = Answer.objects.filter(pk=item.answer_id).values("lens_review__workload")[:1]
    if (
        change.assignee_id is not None
        and not WorkloadMember.objects.filter(
            workload__in=workload_id, user_id=change.assignee_id
        ).exists()
    ):
        raise ImprovementError("The assignee must be someone this workload is shared with.")
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
        return item
    item.status = change.status
    item.assignee_id = change.assignee_id
    item.due_date = change.due_date
    item.comment = change.comment
    item.save()
    text = "; ".join(notes)
    ImprovementEvent.objects.create(item=item, user=user, text=f"{text[0].upper()}{text[1:]}.")
    return item


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
