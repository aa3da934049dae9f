"""One change of an answer written to the database: its choice rows, the answer, its
improvement item when the risk opened or closed it, its pillar's kept counts, its review's
versions and its history entry.

These are the writes of every tick. Through the ORM they were five statements, each built and
compiled anew, which cost more than the rest of the tick (bench/bench_workshop.py). Here they
are written by hand; on PostgreSQL they go as one statement (data-modifying WITH queries) on a
cursor that keeps it prepared (reviews.rows.planned_cursor), elsewhere one after the other in
the caller's transaction.

The order of the row locks is that of every change of an answer: the answer (locked by the
caller), the pillar's counts, then the review. The improvement item's lock may come anywhere:
whoever else locks an item (reviews.improvements) holds no other lock. Within one PostgreSQL
statement the order in which WITH queries run is not specified, so the review's update waits
for the counts' by reading their result, and the history entry is written from the review's
update once the choice rows and the answer are written: its time (clock_timestamp(), not the
transaction's start) is taken once every lock is held, as close to the commit, when others see
the change, as the database allows. The entry carries the answer's new version, and the
statement gives back the review's risk version, which a page's kept risks are keyed by.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Model
from django.utils import timezone

from reviews.counts import counts_missing
from reviews.improvements import SYNCED_FIELDS, ItemSync
from reviews.models import (
    Answer,
    AnswerEvent,
    ChoiceAnswer,
    ImprovementEvent,
    ImprovementItem,
    LensReview,
    PillarCounts,
)
from reviews.rows import fields_of, planned_cursor


@dataclass
class AnswerChange:
    """What one change writes. `answer` holds its new state (version and risk included) and
    `risk_before`, the risk it replaces; `delta` is what its pillar's kept counts move by (only
    the fields that move); `item`, what it does to the improvement item (reviews.improvements
    .item_sync), if anything."""

    answer: Answer
    user: Any
    changes: list[dict[str, Any]]
    rows: list[ChoiceAnswer]
    delta: dict[str, int]
    item: ItemSync | None = None

    @property
    def risk_moved(self) -> bool:
        return self.answer.risk != self.answer.risk_before


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model: type[Model], name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


@functools.cache
def _answer_sql(vendor: str) -> str:
    fields = fields_of(Answer, ("id",))
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    return f"UPDATE {_table(Answer)} SET {assignments} WHERE id = %s"


def _answer_params(answer: Answer) -> list[Any]:
    return [
        f.get_db_prep_save(getattr(answer, f.attname), connection)
        for f in fields_of(Answer, ("id",))
    ] + [answer.pk]


@functools.cache
def _rows_sql(count: int, vendor: str) -> str:
    columns = ("answer_id", "choice_id", "status", "reason", "notes")
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * count)
    updates = ", ".join(f"{name} = excluded.{name}" for name in columns[2:])
    return (
        f"INSERT INTO {_table(ChoiceAnswer)} ({', '.join(columns)}) VALUES {values} "
        f"ON CONFLICT (answer_id, choice_id) DO UPDATE SET {updates}"
    )


def _rows_params(rows: list[ChoiceAnswer]) -> list[Any]:
    return [
        value
        for row in rows
        for value in (row.answer_id, row.choice_id, row.status, row.reason, row.notes)
    ]


@functools.cache
def _counts_sql(names: tuple[str, ...], vendor: str) -> str:
    larger = "GREATEST" if vendor == "postgresql" else "MAX"
    moves = ", ".join(
        f"{_column(PillarCounts, name)} = {larger}({_column(PillarCounts, name)} + %s, 0)"
        for name in names
    )
    return f"UPDATE {_table(PillarCounts)} SET {moves} WHERE lens_review_id = %s AND pillar_id = %s"


@functools.cache
def _review_sql(risk_moved: bool, vendor: str, after: str = "") -> str:
    bump = "version = version + 1, updated_at = %s"
    if risk_moved:
        bump += ", risk_version = risk_version + 1"
    return f"UPDATE {_table(LensReview)} SET {bump} WHERE id = %s{after} RETURNING risk_version"


@functools.cache
def _item_sql(new: bool, vendor: str) -> str:
    """The item opened (`new`) or the fields that item_sync moves of the one that exists."""
    if new:
        fields = fields_of(ImprovementItem, ("id",))
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        values = ", ".join(["%s"] * len(fields))
        return f"INSERT INTO {_table(ImprovementItem)} ({columns}) VALUES ({values}) RETURNING id"
    moves = ", ".join(f"{_column(ImprovementItem, name)} = %s" for name in SYNCED_FIELDS)
    return f"UPDATE {_table(ImprovementItem)} SET {moves} WHERE id = %s RETURNING id"


def _item_params(synced: ItemSync, now: datetime.datetime) -> list[Any]:
    item = synced.item
    item.updated_at = now
    if item.pk is None:
        item.created_at = now
        fields = fields_of(ImprovementItem, ("id",))
        return [f.get_db_prep_save(getattr(item, f.attname), connection) for f in fields]
    fields = [ImprovementItem._meta.get_field(name) for name in SYNCED_FIELDS]
    return [f.get_db_prep_save(getattr(item, f.attname), connection) for f in fields] + [item.pk]


ITEM_EVENT_COLUMNS = "item_id, user_id, at, text"


def _item_event_params(change: AnswerChange, now: datetime.datetime) -> list[Any]:
    return [getattr(change.user, "pk", None), _prep(ImprovementEvent, "at", now), change.item.text]


EVENT_COLUMNS = "answer_id, user_id, at, changes, version"


def _event_params(change: AnswerChange) -> list[Any]:
    changes = AnswerEvent._meta.get_field("changes")
    user_id = getattr(change.user, "pk", None)
    return [
        change.answer.pk,
        user_id,
        changes.get_db_prep_save(change.changes, connection),
        change.answer.version,
    ]


@functools.cache
def _event_sql(vendor: str) -> str:
    return (
        f"INSERT INTO {_table(AnswerEvent)} ({EVENT_COLUMNS}) "
        "VALUES (%s, %s, %s, %s, %s) RETURNING id"
    )


@functools.cache
def _together_sql(
    rows: int, counts: tuple[str, ...], risk_moved: bool, item: bool | None = None
) -> str:
    """The PostgreSQL statement: every write a WITH query; the result is the history entry's
    id and time, or no row when the pillar's counts had no row to move (then neither the
    review nor the history is written: see answer_change_write). `item`: whether the
    improvement item is new, None when it is not written."""
    parts = [f"a AS ({_answer_sql('postgresql')} RETURNING 1)"]
    if item is not None:
        parts.append(f"i AS ({_item_sql(item, 'postgresql')})")
        parts.append(
            f"ie AS (INSERT INTO {_table(ImprovementEvent)} ({ITEM_EVENT_COLUMNS}) "
            "SELECT id, %s, %s, %s FROM i)"
        )
    done = ["(SELECT count(*) FROM a) > 0"]
    if rows:
        parts.insert(0, f"c AS ({_rows_sql(rows, 'postgresql')} RETURNING 1)")
        done.append("(SELECT count(*) FROM c) > 0")
    after = ""
    if counts:
        parts.append(f"k AS ({_counts_sql(counts, 'postgresql')} RETURNING 1)")
        after = " AND (SELECT count(*) FROM k) > 0"
    parts.append(f"r AS ({_review_sql(risk_moved, 'postgresql', after)})")
    # The history entry's time once everything else is written: others see the change at the
    # commit, which follows at once.
    parts.append(
        f"e AS (INSERT INTO {_table(AnswerEvent)} ({EVENT_COLUMNS}) "
        f"SELECT %s, %s, clock_timestamp(), %s, %s FROM r WHERE {' AND '.join(done)} "
        "RETURNING id, at)"
    )
    return f"WITH {', '.join(parts)} SELECT e.id, e.at, r.risk_version FROM e, r"


def answer_change_write(change: AnswerChange) -> None:
    """Write `change` (inside the caller's transaction, the answer's row locked); sets
    `answer.event`, and the review's `risk_version` to what it is now, in this transaction.

    A pillar whose kept counts have no row (data written around the services) is counted
    afresh (reviews.counts.counts_missing) before the review's row is locked, as the order of
    the locks wants.
    """
    answer = change.answer
    now = timezone.now()
    answer.updated_at = now
    counts = tuple(change.delta)
    moves = [*change.delta.values(), answer.lens_review_id, answer.question.pillar_id]
    review = [_prep(LensReview, "updated_at", now), answer.lens_review_id]
    event = _event_params(change)
    new_item = None if change.item is None else change.item.item.pk is None
    with planned_cursor() as cursor:
        if connection.vendor == "postgresql":
            params = _rows_params(change.rows) + _answer_params(answer)
            if change.item is not None:
                params += _item_params(change.item, now) + _item_event_params(change, now)
            if counts:
                params += moves
            cursor.execute(
                _together_sql(len(change.rows), counts, change.risk_moved, new_item),
                params + review + event,
            )
            written = cursor.fetchone()
            if written is not None:
                answer.event = _event(written[0], change, written[1])
                answer.lens_review.risk_version = written[2]
                return
            counts_missing(answer=answer, delta=change.delta)
        else:
            if change.rows:
                cursor.execute(
                    _rows_sql(len(change.rows), connection.vendor), _rows_params(change.rows)
                )
            cursor.execute(_answer_sql(connection.vendor), _answer_params(answer))
            if change.item is not None:
                cursor.execute(
                    _item_sql(new_item, connection.vendor), _item_params(change.item, now)
                )
                item_id = cursor.fetchone()[0]
                cursor.execute(
                    f"INSERT INTO {_table(ImprovementEvent)} ({ITEM_EVENT_COLUMNS}) "
                    "VALUES (%s, %s, %s, %s)",
                    [item_id, *_item_event_params(change, now)],
                )
            if counts:
                cursor.execute(_counts_sql(counts, connection.vendor), moves)
                if not cursor.rowcount:
                    counts_missing(answer=answer, delta=change.delta)
        cursor.execute(_review_sql(change.risk_moved, connection.vendor), review)
        answer.lens_review.risk_version = cursor.fetchone()[0]
        at = timezone.now()
        cursor.execute(
            _event_sql(connection.vendor), event[:2] + [_prep(AnswerEvent, "at", at), *event[2:]]
        )
        answer.event = _event(cursor.fetchone()[0], change, at)


def _prep(model: type[Model], name: str, value: Any) -> Any:
    return model._meta.get_field(name).get_db_prep_save(value, connection)


def _event(event_id: int, change: AnswerChange, at: datetime.datetime) -> AnswerEvent:
    event = AnswerEvent(
        id=event_id,
        answer=change.answer,
        user=change.user,
        at=at,
        changes=change.changes,
        version=change.answer.version,
    )
    event._state.adding = False
    event._state.db = connection.alias
    return event
