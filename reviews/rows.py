"""The few lookups that every tick and poll makes, in hand-written SQL: model instances from
their rows as a queryset would build them, and a cursor that PostgreSQL keeps them planned on.

Building and compiling these lookups through the ORM cost more than the rest of the request,
and PostgreSQL took longer to plan the answer lookup than to run it (bench/bench_workshop.py).
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models


@functools.cache
def fields_of(model: type[models.Model], skip: tuple[str, ...] = ()) -> tuple[models.Field, ...]:
    """The model's columns, in the order instance_from takes them, but those named in `skip`
    (left deferred)."""
    return tuple(f for f in model._meta.concrete_fields if f.attname not in skip)


def columns_of(alias: str, model: type[models.Model], skip: tuple[str, ...] = ()) -> str:
    """The select list of the table named `alias` in the statement, for instance_from."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(f.column)}" for f in fields_of(model, skip))


@functools.cache
def _reader(model: type[models.Model], skip: tuple[str, ...], vendor: str):
    """What the ORM does to the columns of fields_of(model, skip) as read (JSON parsed,
    SQLite's dates and booleans made Python's) on the database `vendor`: the fields' names,
    and per column its expression and converters (only the columns that have any)."""
    fields = fields_of(model, skip)
    convert = []
    for index, field in enumerate(fields):
        col = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if converters:
            convert.append((index, col, converters))
    return [f.attname for f in fields], convert


def instance_from(model: type[models.Model], values: tuple, skip: tuple[str, ...] = ()) -> Any:
    """An instance of `model` from the values of the columns of columns_of(…, model, skip), as
    read from the database."""
    db = connections[DEFAULT_DB_ALIAS]  # not the proxy: it is asked for each column
    names, convert = _reader(model, skip, db.vendor)
    values = list(values)
    for index, col, converters in convert:
        value = values[index]
        for converter in converters:
            value = converter(value, col, db)
        values[index] = value
    return model.from_db(db.alias, names, values)


def planned_cursor() -> Any:
    """A cursor for these lookups. On PostgreSQL it binds parameters on the server, so that a
    statement is prepared on its first run on a connection and planned only then (when
    `prepare_threshold` is set, see config/settings.py); Django's own cursors bind on the
    client and are never prepared. While queries are logged (DEBUG, or a test counting them)
    it is Django's cursor: psycopg keeps no text of a prepared statement for the log."""
    if connection.vendor != "postgresql" or connection.queries_logged:
        return connection.cursor()
    import psycopg

    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        return connection.make_cursor(psycopg.Cursor(connection.connection))


@functools.cache
def _locking_sql(model: type[models.Model], vendor: str) -> str:
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    table = connection.ops.quote_name(model._meta.db_table)
    return f"SELECT {columns_of('t', model)} FROM {table} t WHERE t.id = %s{lock}"


def locked(model: type[models.Model], pk: int) -> Any:
    """The row `pk` of `model` read again under a row lock (inside a transaction), or None."""
    with planned_cursor() as cursor:
        cursor.execute(_locking_sql(model, connection.vendor), [pk])
        row = cursor.fetchone()
    return None if row is None else instance_from(model, row)
