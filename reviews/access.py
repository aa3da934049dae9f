"""Who may see and change what, for any interface: the HTML views and the API both start here.

No access at all is NOT_FOUND (the workload's existence is not revealed); a role that may read
but not do what was asked is FORBIDDEN. Each interface turns these into its own answer (a 404
or 403 page, an AWS error type).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection

from lenses.models import Choice, Lens, LensVersion, Pillar, Question
from reviews.errors import FORBIDDEN, NOT_FOUND, DomainError
from reviews.models import (
    WRITE_ROLES,
    Answer,
    ChoiceAnswer,
    LensReview,
    Role,
    Workload,
    WorkloadMember,
    WorkloadTeamShare,
    can_have_access,
    role_annotations,
    role_from,
    strongest_role,
)
from reviews.rows import columns_of, fields_of, instance_from, planned_cursor


class AccessError(DomainError):
    """The user may not reach this (NOT_FOUND) or may not do this to it (FORBIDDEN).

    `resource` says what could not be reached (WORKLOAD, LENS or QUESTION), for interfaces
    that name it (the API's ResourceType).
    """

    def __init__(self, message: str, kind=NOT_FOUND, *, resource: str = "WORKLOAD") -> None:
        super().__init__(message, kind)
        self.resource = resource


def _check_role(role: str, *, write: bool, owner: bool) -> None:
    if owner and role != Role.OWNER:
        raise AccessError("Only the workload's owner can do this.", FORBIDDEN)
    if write and role not in WRITE_ROLES:
        raise AccessError("You can read this workload but not change it.", FORBIDDEN)


# The lens file as it was imported (hundreds of kilobytes for a big lens): no page that starts
# from an access check shows it, so these lookups never carry it.
_VERSION_SOURCE = "lens_version__source"


def workload_for(
    user: AbstractBaseUser | AnonymousUser,
    public_id: str,
    *,
    write: bool = False,
    owner: bool = False,
) -> Workload:
    """The workload with `role` set to the user's role on it."""
    if not can_have_access(user):
        raise AccessError("No such workload.", NOT_FOUND)
    workload = (
        Workload.objects.filter(public_id=public_id)
        .annotate(**role_annotations(user, "pk"))
        .order_by()
        .first()
    )
    role = role_from(workload) if workload is not None else None
    if role is None:
        raise AccessError("No such workload.", NOT_FOUND)
    _check_role(role, write=write, owner=owner)
    workload.role = role
    return workload


def lens_review_for(
    user: AbstractBaseUser | AnonymousUser, public_id: str, alias: str, *, write: bool = False
) -> LensReview:
    """One query: the active lens review with its workload (carrying `role`), lens and version."""
    if not can_have_access(user):
        raise AccessError("No such workload.", NOT_FOUND)
    review = (
        LensReview.objects.select_related("workload", "lens", "lens_version")
        .defer(_VERSION_SOURCE)
        .filter(workload__public_id=public_id, lens__alias=alias, is_active=True)
        .annotate(**role_annotations(user, "workload"))
        .order_by()
        .first()
    )
    if review is None:
        # Which answer is due: no such workload for this user, not allowed, or no such lens.
        workload_for(user, public_id, write=write)
        raise AccessError("This lens is not reviewed in this workload.", NOT_FOUND, resource="LENS")
    role = role_from(review)
    if role is None:
        raise AccessError("No such workload.", NOT_FOUND)
    _check_role(role, write=write, owner=False)
    review.workload.role = role
    return review


# -- the answer lookup, written once per process ---------------------------------------------


def _role_sql(workload: str) -> str:
    """The three facts role_annotations reads (own share's role, the strongest team share's
    role, portfolio viewer), as columns over the workload id at `workload`; the user's pk goes
    into each of the three placeholders. The same rules as role_annotations and role_from."""
    from people.models import Profile, TeamMember

    member, team_share = WorkloadMember._meta.db_table, WorkloadTeamShare._meta.db_table
    return f"""
        (SELECT m.role FROM {member} m WHERE m.workload_id = {workload} AND m.user_id = %s
          LIMIT 1),
        (SELECT t.role FROM {team_share} t
          WHERE t.workload_id = {workload} AND t.team_id IN
            (SELECT tm.team_id FROM {TeamMember._meta.db_table} tm WHERE tm.user_id = %s)
          ORDER BY t.role LIMIT 1),
        EXISTS (SELECT 1 FROM {Profile._meta.db_table} p
          WHERE p.user_id = %s AND p.is_portfolio_viewer)"""


# What answer_for reads, in the order of its columns: the answer, its question and pillar, its
# lens review with the lens, the lens version (without the lens file) and the workload.
_ANSWER_PARTS = (
    ("a", Answer, ()),
    ("q", Question, ()),
    ("p", Pillar, ()),
    ("r", LensReview, ()),
    ("l", Lens, ()),
    ("v", LensVersion, ("source",)),
    ("w", Workload, ()),
)


def _choice_status_sql() -> tuple[str, str]:
    """The stored status of one choice of the answer `a` (UNSELECTED without a row; NULL when
    the question has no such choice): the column, and the join that takes the choice id."""
    column = f"""CASE WHEN c.id IS NULL THEN NULL ELSE COALESCE(
        (SELECT ca.status FROM {ChoiceAnswer._meta.db_table} ca
          WHERE ca.answer_id = a.id AND ca.choice_id = c.id), 'UNSELECTED') END"""
    join = (
        f"LEFT JOIN {Choice._meta.db_table} c ON c.question_id = a.question_id AND c.choice_id = %s"
    )
    return column, join


def _settled_sql(vendor: str) -> str:
    """The answer `a`'s version once no transaction holds its row lock. On PostgreSQL a locking
    subquery waits for a change being written and then reads the row as committed, while the
    rest of the statement keeps what it read before; an equal version says nothing was
    committed in between. SQLite writes one transaction at a time, so there is nothing to wait
    for."""
    if vendor != "postgresql":
        return "a.version"
    return f"(SELECT t.version FROM {Answer._meta.db_table} t WHERE t.id = a.id FOR SHARE)"


@functools.cache
def _answer_sql(vendor: str, with_choice: bool) -> str:
    """The lookup of answer_for. Hand-written rather than built through the ORM: building and
    compiling that query (six joins and three role subqueries) cost more than the rest of a
    tick."""
    columns = ", ".join(columns_of(alias, model, skip) for alias, model, skip in _ANSWER_PARTS)
    choice_status, choice_join = _choice_status_sql() if with_choice else ("NULL", "")
    settled = _settled_sql(vendor) if with_choice else "NULL"
    joins = f"""JOIN {Pillar._meta.db_table} p ON p.id = q.pillar_id
        JOIN {LensVersion._meta.db_table} v ON v.id = r.lens_version_id
        {choice_join}"""
    return (
        f"SELECT {columns}, {choice_status}, {settled}, {_role_sql('w.id')} "
        f"{_answer_at_path(joins)}"
    )


def _answer_at_path(joins: str = "") -> str:
    """FROM … LIMIT 1 of the answer a path names (workload public id, lens alias, question id:
    the last three placeholders) in its active lens review, as a (question q, review r, lens l,
    workload w); `joins` adds tables."""
    table = {model: model._meta.db_table for model in (Answer, Question, LensReview, Lens)}
    return f"""
        FROM {table[Answer]} a
        JOIN {table[Question]} q ON q.id = a.question_id
        JOIN {table[LensReview]} r ON r.id = a.lens_review_id
        JOIN {table[Lens]} l ON l.id = r.lens_id
        JOIN {Workload._meta.db_table} w ON w.id = r.workload_id
        {joins}
        WHERE w.public_id = %s AND l.alias = %s AND r.is_active AND q.question_id = %s
        LIMIT 1
    """


def answer_for(
    user: AbstractBaseUser | AnonymousUser,
    public_id: str,
    alias: str,
    question_id: str,
    *,
    write: bool = False,
    choice_id: str | None = None,
) -> Answer:
    """One query: the answer with its question, pillar, lens review, lens and workload (the
    lens version without its lens file); `role` set on the answer and the workload. With
    `choice_id`, also `choice_status`: that choice's stored status (UNSELECTED without a row),
    None when the question has no such choice; and `settled_version`: the answer's version once
    no change of it is being written (see _settled_sql), which tells whether `choice_status`
    is still what is stored."""
    if not can_have_access(user):
        raise AccessError("No such question in this review.", NOT_FOUND, resource="QUESTION")
    with_choice = choice_id is not None
    sql = _answer_sql(connection.vendor, with_choice)
    # In the order of the placeholders: the three role subqueries, the choice's join, WHERE.
    params = [user.pk, user.pk, user.pk, *([choice_id] if with_choice else [])]
    with planned_cursor() as cursor:
        cursor.execute(sql, [*params, public_id, alias, question_id])
        row = cursor.fetchone()
    role = None
    if row is not None:
        own, team, viewer = row[-3:]
        role = strongest_role(own, team, Role.READONLY if viewer else None)
    if role is None:
        raise AccessError("No such question in this review.", NOT_FOUND, resource="QUESTION")
    _check_role(role, write=write, owner=False)
    objects, start = [], 0
    for _, model, skip in _ANSWER_PARTS:
        end = start + len(fields_of(model, skip))
        objects.append(instance_from(model, row[start:end], skip))
        start = end
    answer, question, pillar, review, lens, version, workload = objects
    question.pillar = pillar
    review.lens, review.lens_version, review.workload = lens, version, workload
    answer.question, answer.lens_review = question, review
    answer.role = workload.role = role
    answer.choice_status, answer.settled_version = row[start], row[start + 1]
    return answer


@dataclass(frozen=True)
class AnswerVersions:
    """What a question page's poll compares with the token it holds (reviews.views.answers).

    `place` tells the answer apart from any other, for cache keys: its review's pk and creation
    time (a restored database reuses pks), its pk and its question's pk (an upgrade points an
    answer at another question)."""

    version: int
    risk_version: int
    role: str
    place: str = ""


@functools.cache
def _versions_sql() -> str:
    """The lookup of polls, written once per process: building it through the ORM (joins and
    three role subqueries) cost several times what the request costs otherwise, on every poll
    of every page."""
    return (
        "SELECT a.version, r.risk_version, r.id, r.created_at, a.id, a.question_id, "
        f"{_role_sql('w.id')} {_answer_at_path()}"
    )


def answer_versions_for(
    user: AbstractBaseUser | AnonymousUser, public_id: str, alias: str, question_id: str
) -> AnswerVersions | None:
    """The answer's and its review's versions and the user's role, in one small query; None
    where answer_for would refuse to read (so the caller asks it for the error to give)."""
    if not can_have_access(user):
        return None
    with planned_cursor() as cursor:
        cursor.execute(_versions_sql(), [user.pk, user.pk, user.pk, public_id, alias, question_id])
        row = cursor.fetchone()
    if row is None:
        return None
    version, risk_version, review_id, created_at, answer_id, question_pk, own, team, viewer = row
    role = strongest_role(own, team, Role.READONLY if viewer else None)
    if role is None:
        return None
    created = str(created_at).replace(" ", "T")  # a datetime, or SQLite's text of one
    place = f"{review_id}.{created}:{answer_id}:{question_pk}"
    return AnswerVersions(version, risk_version, role, place)
