"""The managers' dashboard: risk across every workload a user can see, in a few queries.

Everything is aggregated in the database over the filtered workloads, one query each for the
workloads, their answers counted per pillar, the risky answers counted per question, the names
of those pillars and questions, and the milestone history; so the page takes the same number of
queries for ten workloads or ten thousand. Answers are grouped by integer keys and named
afterwards, which keeps the grouping cheap with a thousand workloads.

What is counted over all the workloads (totals, pillars, risky questions, trend, filter
choices) is cached under the portfolio's stamps (slice_stamps): how many changes each slice of
SLICE workloads has had, kept by the database in the transaction of every change. Reading them
reads no workload, so while nothing they count changes a view costs that statement and the rows
of one page, with 50,000 workloads as with 50. The totals are counted and cached per slice,
each under its own stamp (_totals), so the first view after a change counts one slice again and
adds up the others from the cache.

Pillars belong to their lens: two lenses may both have a "Security" pillar (or a "security"
one), and each is counted and shown under its own lens, the built-in lens first.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import heapq
import itertools
import json
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import (
    Case,
    F,
    FloatField,
    Max,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
    Window,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import (
    Cast,
    Coalesce,
    ExtractMonth,
    ExtractYear,
    Greatest,
    Lag,
)
from django.utils import timezone

from lenses.models import Lens, LensVersion, Question
from people.models import Team
from reviews.charts import Bar, Point
from reviews.counts import FIELDS as COUNT_FIELDS
from reviews.counts import RISK_FIELDS
from reviews.models import (
    Answer,
    AnswerRisk,
    LensReview,
    Milestone,
    PillarCounts,
    PortfolioChange,
    PortfolioStamp,
    Workload,
)
from reviews.scores import Practices, mean_score
from reviews.selectors import IMPROVEMENT_COUNTS, improvement_counts_of, with_improvement_status

RISKY = (AnswerRisk.HIGH, AnswerRisk.MEDIUM)
COMMON_QUESTIONS = 10
TREND_MONTHS = 12
# What the dashboard shows of a workload besides the counts (see WorkloadRow).
ROW_FIELDS = ("pk", "public_id", "name", "name_key", "environment", "owner__username")
RISK_COUNTS = tuple(RISK_FIELDS.values())
T = TypeVar("T")


@dataclass(frozen=True)
class Filters:
    """What the dashboard is narrowed to; empty values filter nothing."""

    environment: str = ""
    # (key, value) or (key, None) for "has this tag"
    tag: tuple[str, str | None] | None = None
    owner: str = ""
    # (lens alias, question id): only workloads where that question is high or medium risk
    question: tuple[str, str] | None = None
    # A lens alias: only workloads reviewing that lens, and its pillars and questions shown
    lens: str = ""
    # A team's name: only the workloads it works on (WorkloadQuerySet.of_team)
    team: str = ""

    @property
    def is_active(self) -> bool:
        return bool(
            self.environment or self.tag or self.owner or self.question or self.lens or self.team
        )


@dataclass
class PillarCount:
    """High and medium risks of one pillar, in one workload or across the portfolio.

    Pillars are told apart by lens alias and pillar id, so the same pillar in two versions of a
    lens counts once, and a pillar of another lens never counts with it, whatever its name.
    """

    lens: str
    pillar_id: str
    name: str
    lens_name: str = ""
    order: int = 0
    high: int = 0
    medium: int = 0
    # Its score (reviews.scores): in one workload, or across the portfolio the mean of the
    # workloads' scores of this pillar; None without one.
    score: float | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.lens, self.pillar_id)

    @property
    def rank(self) -> tuple[int, int]:
        return (self.high, self.medium)

    def add(self, high: int, medium: int) -> None:
        self.high += high
        self.medium += medium


@dataclass
class LensGroup:
    """One lens's pillars with their risks across the portfolio, in lens order."""

    alias: str
    name: str
    is_builtin: bool
    pillars: list[PillarCount] = field(default_factory=list)

    @property
    def bars(self) -> list[Bar]:
        return [Bar(p.name, p.high, p.medium) for p in self.pillars]


def lens_order(is_builtin: bool, name: str, alias: str) -> tuple[bool, str, str]:
    """How lenses are listed everywhere: the built-in lens first, then the others by name."""
    return (not is_builtin, name.casefold(), alias)


@dataclass(eq=False)
class WorkloadRow:
    """One workload on the dashboard: read as a plain tuple, counts added afterwards.

    Model instances cost more to build than the rest of the dashboard for a thousand workloads.
    """

    pk: int
    public_id: str
    name: str
    name_key: str
    environment: str
    owner: str
    last_updated: datetime.datetime
    total: int = 0
    unanswered: int = 0
    answered: int = 0
    high: int = 0
    medium: int = 0
    items: int = 0
    not_started: int = 0
    in_progress: int = 0
    acknowledged: int = 0
    improvement: str = "NONE"
    pillars: dict[tuple[str, str], PillarCount] = field(default_factory=dict)
    cells: list[PillarCount | None] = field(default_factory=list)
    other: list[PillarCount] = field(default_factory=list)
    other_high: int = 0
    other_medium: int = 0
    worst: PillarCount | None = None
    worst_is_other: bool = False
    lenses: list[str] = field(default_factory=list)
    # The risk of the question filter's question in this workload, when filtered by one.
    question_risk: str = ""
    # "Lens 1.0" for each lens this workload reviews on a deprecated version.
    deprecated: list[str] = field(default_factory=list)
    # The mean of its lens reviews' scores (reviews.scores); None without one.
    score: float | None = None

    @property
    def environment_label(self) -> str:
        return Workload.Environment(self.environment).label


@dataclass
class RiskyQuestion:
    alias: str
    question_id: str
    title: str
    pillar: str
    lens: str
    workloads: int
    high: int
    medium: int

    @property
    def filter_value(self) -> str:
        return f"{self.alias}:{self.question_id}"


@dataclass
class Summary:
    workloads: int = 0
    with_high: int = 0
    with_medium: int = 0
    high: int = 0
    medium: int = 0
    answered: int = 0
    questions: int = 0
    # The mean of the workloads' scores; None when no workload has one.
    score: float | None = None


@dataclass
class Portfolio:
    summary: Summary
    rows: list[WorkloadRow]
    # The lenses shown, each with its pillars: every lens reviewed, or the lens filter's lens.
    lenses: list[LensGroup]
    # The lens whose pillars are the workload table's columns: the lens filter's, else the
    # first one (the built-in lens when it is reviewed); None without answers.
    main_lens: LensGroup | None
    has_other_pillars: bool
    questions: list[RiskyQuestion]
    trend: list[Point]
    # The title of the question filter's question, when there is one.
    question_title: str = ""
    # The page `rows` are on (a page past the end is the last one).
    page_number: int = 1
    # The stamp of what was counted (see portfolio_stamp).
    stamp: tuple = ()
    # Unfiltered, the pks of the lenses their active lens reviews review (for lens_choices).
    lenses_reviewed: set[int] | None = None

    @property
    def pillars(self) -> list[PillarCount]:
        return [pillar for lens in self.lenses for pillar in lens.pillars]

    @property
    def main_pillars(self) -> list[PillarCount]:
        return self.main_lens.pillars if self.main_lens else []


# -- filters -------------------------------------------------------------------------------------


def filter_workloads(workloads: QuerySet[Workload], filters: Filters) -> QuerySet[Workload]:
    """Narrow a workload queryset by environment, tag, owner, team, lens and risky question."""
    if filters.environment:
        workloads = workloads.filter(environment=filters.environment)
    if filters.tag:
        key, value = filters.tag
        if value is None:
            workloads = workloads.filter(tags__has_key=key)
        else:
            # As on the workload list: the key is quoted in the JSON path and the value compared
            # as text, so no input is ever parsed as JSON.
            tag_value = Cast(KeyTextTransform(key, "tags"), output_field=TextField())
            workloads = workloads.alias(tag_value=tag_value).filter(tag_value=value)
    if filters.owner:
        workloads = workloads.filter(owner__username=filters.owner)
    if filters.team:
        workloads = workloads.of_team(filters.team)
    if filters.question:
        alias, question_id = filters.question
        affected = Answer.objects.filter(
            lens_review__is_active=True,
            lens_review__lens__alias=alias,
            question__question_id=question_id,
            risk__in=RISKY,
        ).values("lens_review__workload_id")
        workloads = workloads.filter(pk__in=affected)
    if filters.lens:
        # A subquery, not a join: the dashboard's workload query aggregates over lens reviews.
        reviewing = LensReview.objects.filter(is_active=True, lens__alias=filters.lens)
        workloads = workloads.filter(pk__in=reviewing.values("workload_id"))
    return workloads


def filter_choices(user: Any, *, known: tuple | None = None) -> tuple[list[str], list[str]]:
    """Owners and tags in use on the user's workloads, for the filter form.

    Each combination of owner and tags once: far fewer rows than workloads in a large
    portfolio, where most workloads share their tags with others. Cached under the portfolio's
    stamp (`known` when the caller has it), with the owners' ids: their names are read each
    time (two queries, three to count them again).
    """
    owner_ids, tags = cached(
        ("filter choices", user.pk),
        lambda: _owners_and_tags(user),
        # The workloads alone: a tick leaves the owners and tags cached.
        known=workloads_only(known) if known else None,
        reviews=False,
    )
    owners = get_user_model().objects.filter(pk__in=owner_ids).values_list("username", flat=True)
    return sorted(owners, key=str.casefold), tags


def _owners_and_tags(user: Any) -> tuple[set[int], list[str]]:
    owners: set[int] = set()
    tags: set[str] = set()
    for owner, workload_tags in (
        Workload.objects.for_user(user).order_by().values_list("owner_id", "tags").distinct()
    ):
        owners.add(owner)
        for key, value in (workload_tags or {}).items():
            tags.add(key)
            tags.add(f"{key}={value}")
    return owners, sorted(tags)[:200]


def team_choices() -> list[str]:
    """The names of all teams, for the team filter (one query): teams are the organisation's,
    and the filter only ever narrows the workloads the user sees anyway."""
    return list(Team.objects.order_by("name_key").values_list("name", flat=True))


def lens_choices(user: Any, *, reviewed: set[int] | None = None) -> list[tuple[str, str]]:
    """(alias, name) of the lenses reviewed in the user's workloads, for the lens picker; the
    built-in lens first, then by name (one query). `reviewed`: their pks when the caller has
    them (Portfolio.lenses_reviewed, unfiltered); else they are read, cached as filter_choices
    is (two queries more)."""
    if reviewed is None:
        reviewed = cached(
            ("lens choices", user.pk),
            lambda: set(
                LensReview.objects.filter(
                    is_active=True, workload__in=Workload.objects.for_user(user).values("pk")
                )
                .order_by()
                .values_list("lens_id", flat=True)
                .distinct()
            ),
        )
    lenses = Lens.objects.filter(pk__in=reviewed).values_list("alias", "name", "is_builtin")
    ordered = sorted(lenses, key=lambda lens: lens_order(lens[2], lens[1], lens[0]))
    return [(alias, name) for alias, name, _ in ordered]


# -- the portfolio -------------------------------------------------------------------------------

PER_PAGE = 25
# The portfolio's totals are cached under the stamps of what they are counted from (see
# slice_stamps), so a cached entry is always exact; this only bounds how long unused ones stay.
CACHE_SECONDS = 600
# Changes whenever what _totals returns changes shape, so entries of another release are unused.
CACHE_FORMAT = 2
# The portfolio is counted and cached in slices of this many consecutive workload ids (see
# _totals): a change counts one slice again, and a view adds up 100 slices for 50,000 workloads.
SLICE = 500
# Each slice keeps its riskiest workloads for the pages asked for, a multiple of this many.
RANKED_STEP = 100
# The parts of a slice's stamp that follow the workloads alone (see slice_stamps).
WORKLOAD_PARTS = 2
WORKLOADS, REVIEWS = PortfolioChange.Kind.WORKLOADS, PortfolioChange.Kind.REVIEWS
# Changes not yet added up into the stamps that slice_stamps folds (see _fold).
FOLD_AT = 1000
# A pillar's score from its kept counts, as reviews.scores.Practices.score computes it, in SQL
# (NULL for no score), so that means over thousands of workloads are taken by the database.
PILLAR_SCORE_SQL = (
    "CASE WHEN c.answered > 0 AND c.applicable > 0 THEN 100.0 * c.followed / c.applicable END"
)


def _pillar_score() -> Case:
    """PILLAR_SCORE_SQL as an ORM expression over PillarCounts."""
    return Case(
        When(
            answered__gt=0,
            applicable__gt=0,
            then=Value(100.0) * F("followed") / F("applicable"),
        ),
        output_field=FloatField(),
    )


def portfolio(
    user: Any,
    filters: Filters,
    *,
    now: datetime.datetime | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Portfolio:
    """Everything the dashboard shows for the user's workloads under `filters`.

    Staff get nothing extra: the starting point is the workloads shared with the user. Every
    number comes from the kept counts (reviews.counts), one row per lens review and pillar, so
    no query reads the answers except the risky questions': the stamps of the workloads'
    slices, then for each slice not cached under its own (_totals), in four queries for them
    all, its workloads riskiest first with their totals and score, the pillars' totals, the risky
    questions and the lenses reviewed; the milestones unless cached; then the names of pillars
    and questions, the rows of the workloads shown, their improvement items and the reviews on
    deprecated lens versions.
    """
    visible = filter_workloads(Workload.objects.for_user(user), filters)
    # No ordering: the workloads' default order would sort every subquery of them.
    ids = visible.order_by().values("pk")
    (summary, page_ids, page, pillar_totals, risky, lenses), known = _totals(
        visible, filters, (user.pk, filters), page, per_page
    )
    # The milestones only change with their workloads' `updated_at`: a tick, which moves only
    # its review's version, leaves the trend's months cached.
    monthly = cached(
        ("trend", user.pk, filters), lambda: monthly_changes(ids), known=workloads_only(known)
    )
    pillar_info, question_info = _catalogue({entry[0] for entry in pillar_totals})
    ordered, shown_lenses, main = _lens_groups(pillar_totals, pillar_info, shown=filters.lens)
    rows = _page_rows(page_ids, pillar_info, ordered, main)
    has_other = len({p.key for p in main.pillars} if main else set()) < sum(
        len(g.pillars) for g in ordered
    )
    result = Portfolio(
        summary=summary,
        rows=rows,
        lenses=shown_lenses,
        main_lens=main,
        has_other_pillars=has_other,
        questions=_common_questions(risky, question_info, pillar_info),
        trend=trend_points(monthly, summary, now=now),
        page_number=page,
        stamp=known,
        lenses_reviewed=None if filters.is_active else lenses,
    )
    if filters.question:
        result.question_title = _question_answers(rows, ids, filters.question)
    return result


def _totals(
    visible: QuerySet[Workload], filters: Filters, what: tuple, page: int, per_page: int
) -> tuple[tuple, tuple]:
    """What the dashboard counts over every workload of `visible` (plain data, so that it can
    be cached), and the stamp of them all: the summary, the page's workload ids and
    number, the pillars' totals and the risky answers per question.

    The workloads are counted in slices of SLICE consecutive ids, each cached under the
    stamp of its own (one statement gives them all, slice_stamps): a change counts again
    only the slice of its workload (three queries), not the whole portfolio. The slices'
    counts are then added up, which is cached in turn under all their stamps. `what`
    tells the user and filters apart in the cache.
    """
    parts = slice_stamps()
    depth = min(SLICE, math.ceil(max(page, 1) * per_page / RANKED_STEP) * RANKED_STEP)
    whole = _cache_key(("portfolio", *what, page, per_page, sorted(parts.items())))
    totals = cache.get(whole)
    if totals is None:
        keys = {
            part: _cache_key(("slice", *what, depth, part, found)) for part, found in parts.items()
        }
        slices = cache.get_many(list(keys.values()))
        stale = [part for part, key in keys.items() if key not in slices]
        if stale:
            slices |= _count_again(visible, filters, what, parts, stale, keys, depth)
        totals = _add_up([slices[keys[part]] for part in sorted(parts)], page, per_page)
        cache.set(whole, totals, CACHE_SECONDS)
    return totals, tuple(parts.items())


def _count_again(
    visible: QuerySet[Workload],
    filters: Filters,
    what: tuple,
    parts: dict[int, tuple],
    stale: list[int],
    keys: dict[int, str],
    depth: int,
) -> dict[str, tuple]:
    """Count the slices `stale` again and cache them under `keys`; {key: counts}.

    Which workloads of a slice the user sees only changes with the workloads of the slice,
    not with a tick: the ids are cached under those parts of its stamp, so that counting
    a slice again after a tick need not work out again whom the user may see (which reads
    every share of the user's, and costs more than counting a slice).
    """
    id_keys = {
        part: _cache_key(("slice ids", *what, part, parts[part][:WORKLOAD_PARTS])) for part in stale
    }
    known = cache.get_many(list(id_keys.values()))
    if len(known) == len(stale):
        ids = [pk for key in id_keys.values() for pk in known[key]]
        counted, seen = _count_slices(visible, filters, stale, depth, ids=ids)
    else:
        every = len(stale) == len(parts)
        counted, seen = _count_slices(visible, filters, stale, depth, every=every)
    fresh = {keys[part]: counted.get(part, EMPTY_SLICE) for part in stale}
    cache.set_many(fresh | {id_keys[part]: seen.get(part, []) for part in stale}, CACHE_SECONDS)
    return fresh


def slice_stamps() -> dict[int, tuple[int, int, int]]:
    """{slice: (changes that concern every workload, changes of the slice's workloads and
    shares, changes of its lens reviews)} for every slice that has had workloads; slice n holds
    the workloads with ids from n × SLICE up to (n + 1) × SLICE.

    Everything the dashboard counts of a slice for anyone is read from rows whose every change
    adds to one of these in its own transaction (reviews.models.PortfolioChange, written by
    triggers), so they key its cache: an entry is never out of date, and reading them is one
    statement over the slices and the changes not yet folded, however many workloads there are.
    The changes are folded into PortfolioStamp when FOLD_AT have piled up (one more statement),
    which leaves every sum as it was.
    """
    sql = f"""SELECT part, kind, SUM(changes), SUM(unfolded) FROM (
                  SELECT part, kind, changes, 0 AS unfolded FROM {PortfolioStamp._meta.db_table}
                  UNION ALL
                  SELECT COALESCE(workload_id / {SLICE}, -1), kind, 1, 1
                  FROM {PortfolioChange._meta.db_table}
              ) AS stamps GROUP BY part, kind"""
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    found = {(int(part), kind): int(changes) for part, kind, changes, _ in rows}
    if sum(int(unfolded) for *_, unfolded in rows) >= FOLD_AT:
        _fold()
    everyone = found.get((-1, WORKLOADS), 0)
    return {
        part: (everyone, found.get((part, WORKLOADS), 0), found.get((part, REVIEWS), 0))
        for part in sorted({part for part, _ in found if part >= 0})
    }


def _fold() -> None:
    """Add up the changes into PortfolioStamp and remove them, in one transaction: the sums
    slice_stamps reads stay as they were, whenever it reads them. Two folds at once take
    different changes (the second waits for the first's and finds them gone)."""
    change, stamp = PortfolioChange._meta.db_table, PortfolioStamp._meta.db_table
    part = f"COALESCE(workload_id / {SLICE}, -1)"
    upsert = "ON CONFLICT (part, kind) DO UPDATE SET changes = s.changes + EXCLUDED.changes"
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"""WITH gone AS (DELETE FROM {change} RETURNING workload_id, kind)
                    INSERT INTO {stamp} AS s (part, kind, changes)
                    SELECT {part}, kind, COUNT(*) FROM gone GROUP BY 1, 2 ORDER BY 1, 2
                    {upsert}"""
            )
        else:  # one writer at a time: nothing comes between the two statements
            cursor.execute(
                f"""INSERT INTO {stamp} AS s (part, kind, changes)
                    SELECT {part}, kind, COUNT(*) FROM {change} WHERE true GROUP BY 1, 2
                    {upsert}"""
            )
            cursor.execute(f"DELETE FROM {change}")


def portfolio_stamp(*, reviews: bool = True) -> tuple:
    """What every count of the dashboard and the workload list is read from, as of now (see
    slice_stamps): `reviews` false leaves out the lens reviews, for what the workloads alone
    give (owners, tags, milestones), which a tick leaves as it was."""
    known = tuple(slice_stamps().items())
    return known if reviews else workloads_only(known)


def workloads_only(known: tuple) -> tuple:
    """The stamp `known` (portfolio_stamp) without the lens reviews."""
    return tuple((part, found[:WORKLOAD_PARTS]) for part, found in known)


def _cache_key(parts: tuple) -> str:
    parts = (CACHE_FORMAT, *parts, timezone.get_current_timezone_name())
    return "dashboard:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def cached(
    what: tuple,
    compute: Callable[[], T],
    *,
    known: tuple | None = None,
    reviews: bool = True,
) -> T:
    """compute(), cached under `what` (which tells users and filters apart) and the portfolio's
    stamp (`known` when the caller has it; `reviews`: whether compute reads lens reviews too):
    an entry is never out of date, since any change it depends on changes the key."""
    found = known if known is not None else portfolio_stamp(reviews=reviews)
    key = _cache_key((*what, found))
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, CACHE_SECONDS)
    return value


# One slice's counts (see _count_slices); the totals in the order of Summary's fields, with the
# sum and number of the workloads' scores in place of their mean.
EMPTY_SLICE: tuple = ((0,) * 7 + (0.0, 0), [], [], [], [])


def _count_slices(
    visible: QuerySet[Workload],
    filters: Filters,
    parts: list[int],
    depth: int,
    *,
    every: bool = False,
    ids: list[int] | None = None,
) -> tuple[dict[int, tuple], dict[int, list[int]]]:
    """{slice: its counts} of the workloads of `visible` in the slices `parts` (`every`: all
    the slices there are; `ids`: the ids of those workloads, when known), and {slice: the ids
    of its workloads}; four queries however many slices (three when filtered).

    A slice's counts are: its totals (EMPTY_SLICE), its riskiest `depth` workloads as
    (-high, -medium, name_key, id), its pillars' (pillar pk, high, medium, scored, score sum),
    its risky answers' (question pk, answers, high, medium) and, unfiltered, the lenses it
    reviews.
    """
    if ids is not None:
        condition, params = _among("id", ids)
        sql = f"SELECT id, name_key FROM {Workload._meta.db_table} WHERE {condition}"
    else:
        shown = visible.order_by()
        if not every:
            shown = shown.filter(
                functools.reduce(
                    operator.or_,
                    (Q(pk__gte=part * SLICE, pk__lt=(part + 1) * SLICE) for part in parts),
                )
            )
        sql, params = shown.values("pk", "name_key").query.sql_with_params()
    ranked = _ranked_slices(sql, params, depth)
    counted = {part: (totals, top, [], [], []) for part, totals, top, _ in ranked}
    seen = {part: found for part, _, _, found in ranked}
    if every:
        sql, params = visible.order_by().values("pk").query.sql_with_params()
        condition = f"r.workload_id IN ({sql})"
    else:
        condition, params = _among("r.workload_id", [pk for found in seen.values() for pk in found])
    reviews = LensReview._meta.db_table
    lens, lens_params = "", []
    if filters.lens:
        lens = f"JOIN {Lens._meta.db_table} l ON l.id = r.lens_id AND l.alias = %s"
        lens_params = [filters.lens]
    statements = [
        (
            f"""SELECT r.workload_id / {SLICE}, c.pillar_id, SUM(c.high), SUM(c.medium),
                       COUNT({PILLAR_SCORE_SQL}), SUM({PILLAR_SCORE_SQL})
                FROM {PillarCounts._meta.db_table} c JOIN {reviews} r ON r.id = c.lens_review_id
                WHERE r.is_active AND {condition}
                GROUP BY 1, 2""",
            params,
        ),
        (
            f"""SELECT r.workload_id / {SLICE}, a.question_id, COUNT(*),
                       SUM(CASE WHEN a.risk = %s THEN 1 ELSE 0 END),
                       SUM(CASE WHEN a.risk = %s THEN 1 ELSE 0 END)
                FROM {Answer._meta.db_table} a JOIN {reviews} r ON r.id = a.lens_review_id {lens}
                WHERE r.is_active AND a.risk IN (%s, %s) AND {condition}
                GROUP BY 1, 2""",
            [*RISKY, *lens_params, *RISKY, *params],
        ),
    ]
    if not filters.is_active:  # the lens picker offers every lens the user's workloads review
        statements.append(
            (
                f"""SELECT DISTINCT r.workload_id / {SLICE}, r.lens_id FROM {reviews} r
                    WHERE r.is_active AND {condition}""",
                params,
            )
        )
    with connection.cursor() as cursor:
        found = []
        for statement, values in statements:
            cursor.execute(statement, values)
            found.append(cursor.fetchall())
    pillars, risky, lenses = (*found, []) if filters.is_active else found
    # A slice missing from `counted` lost its workloads between the statements.
    for part, pillar, high, medium, scored, score_sum in pillars:
        if part in counted:
            entry = (pillar, int(high), int(medium), int(scored), float(score_sum or 0))
            counted[part][2].append(entry)
    for part, question, answers, high, medium in risky:
        if part in counted:
            counted[part][3].append((question, int(answers), int(high), int(medium)))
    for part, lens in lenses:
        if part in counted:
            counted[part][4].append(lens)
    return counted, seen


def _among(column: str, ids: list[int]) -> tuple[str, list]:
    """SQL for "`column` is one of `ids`" with one parameter, however many ids."""
    # As one text: psycopg turns a list of a thousand ints into an array slowly.
    if connection.vendor == "postgresql":
        return f"{column} = ANY(CAST(%s AS bigint[]))", ["{" + ",".join(map(str, ids)) + "}"]
    return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(ids)]


def _ranked_slices(sql: str, params: list, depth: int) -> list[tuple[int, tuple, list, list]]:
    """[(slice, its totals, its riskiest `depth` workloads, the ids of all its workloads)] of
    the workloads (id, name_key) that `sql` selects (one statement).

    The kept counts are added up per lens review (its score is the mean of its pillars'), then
    per workload (the mean of its reviews'); the totals of each slice are taken with window
    functions over all its workloads, which are ranked riskiest first, by name among equals
    (in code point order on every database, as Python compares them when adding up slices).
    """
    counts = PillarCounts._meta.db_table
    reviews = LensReview._meta.db_table
    collate = ' COLLATE "C"' if connection.vendor == "postgresql" else ""
    statement = f"""
        WITH v (id, name_key) AS ({sql}), per_review AS (
            SELECT r.workload_id AS workload_id,
                   SUM(c.high) AS high, SUM(c.medium) AS medium,
                   SUM(c.unanswered) AS unanswered,
                   SUM(c.unanswered + c.high + c.medium + c."none" + c.not_applicable) AS total,
                   AVG({PILLAR_SCORE_SQL}) AS score
            FROM {counts} c JOIN {reviews} r ON r.id = c.lens_review_id
            WHERE r.is_active AND r.workload_id IN (SELECT id FROM v)
            GROUP BY r.workload_id, r.id
        ), per_workload AS (
            SELECT workload_id, SUM(high) AS high, SUM(medium) AS medium,
                   SUM(unanswered) AS unanswered, SUM(total) AS total, AVG(score) AS score
            FROM per_review GROUP BY workload_id
        ), ranked AS (
            SELECT w.id / {SLICE} AS part, w.id AS id, w.name_key AS name_key,
                   COALESCE(p.high, 0) AS high, COALESCE(p.medium, 0) AS medium,
                   ROW_NUMBER() OVER (
                       PARTITION BY w.id / {SLICE}
                       ORDER BY COALESCE(p.high, 0) DESC, COALESCE(p.medium, 0) DESC,
                                w.name_key{collate}
                   ) AS place,
                   COUNT(*) OVER s AS workloads,
                   SUM(CASE WHEN p.high > 0 THEN 1 ELSE 0 END) OVER s AS with_high,
                   SUM(CASE WHEN p.medium > 0 THEN 1 ELSE 0 END) OVER s AS with_medium,
                   SUM(p.high) OVER s AS all_high, SUM(p.medium) OVER s AS all_medium,
                   SUM(p.total - p.unanswered) OVER s AS answered, SUM(p.total) OVER s AS total,
                   SUM(p.score) OVER s AS score_sum, COUNT(p.score) OVER s AS scored
            FROM v w LEFT JOIN per_workload p ON p.workload_id = w.id
            WINDOW s AS (PARTITION BY w.id / {SLICE})
        )
        SELECT part, id, name_key, high, medium, workloads, with_high, with_medium, all_high,
               all_medium, answered, total, score_sum, scored
        FROM ranked ORDER BY part, place
    """
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        found = cursor.fetchall()
    slices: dict[int, tuple[tuple, list, list]] = {}
    for part, pk, name_key, high, medium, *numbers in found:
        if part not in slices:
            *counts_, score_sum, scored = numbers
            totals = (*(int(value or 0) for value in counts_), float(score_sum or 0), int(scored))
            slices[part] = (totals, [], [])
        _, top, ids = slices[part]
        if len(top) < depth:  # the rows come riskiest first
            top.append((-int(high), -int(medium), name_key, pk))
        ids.append(pk)
    return [(part, *found) for part, found in slices.items()]


def _add_up(slices: list[tuple], page: int, per_page: int) -> tuple:
    """The portfolio's counts from its slices' (see _count_slices): the summary, the ids of
    the workloads on page `page` (a page past the end is the last page) and its number, the
    pillars' totals, the risky answers per question and the lenses reviewed."""
    numbers = [sum(column) for column in zip(*(found[0] for found in slices), strict=True)]
    if not slices or not numbers[0]:
        return Summary(), [], 1, [], [], set()
    *counts_, score_sum, scored = numbers
    summary = Summary(*counts_, score=score_sum / scored if scored else None)
    page = min(max(page, 1), math.ceil(summary.workloads / per_page))
    ranked = heapq.merge(*(found[1] for found in slices))
    shown = itertools.islice(ranked, (page - 1) * per_page, page * per_page)
    page_ids = [pk for *_, pk in shown]
    pillars: dict[int, list] = {}
    for found in slices:
        for pillar, *values in found[2]:
            mine = pillars.setdefault(pillar, [0, 0, 0, 0.0])
            for index, value in enumerate(values):
                mine[index] += value
    questions: dict[int, dict] = {}
    for found in slices:
        for question, answers, high, medium in found[3]:
            mine = questions.setdefault(
                question, {"question_id": question, "workloads": 0, "high": 0, "medium": 0}
            )
            mine["workloads"] += answers
            mine["high"] += high
            mine["medium"] += medium
    pillar_totals = [(pillar, *values) for pillar, values in pillars.items()]
    lenses = {lens for found in slices for lens in found[4]}
    return summary, page_ids, page, pillar_totals, list(questions.values()), lenses


def _lens_groups(
    pillar_totals: list[tuple], pillar_info: dict[int, dict], *, shown: str = ""
) -> tuple[list[LensGroup], list[LensGroup], LensGroup | None]:
    """The lenses with their pillars' totals, in lens order; those shown (all of them, or only
    the alias `shown`); and the main lens (the first shown).

    `pillar_totals` holds (pillar pk, high, medium, scored, score sum) over the portfolio. A
    pillar is its lens alias and pillar id: its versions in several lens versions add up.
    """
    totals: dict[tuple[str, str], PillarCount] = {}
    groups: dict[str, LensGroup] = {}
    # The newest version seen names a pillar and places it (versions may rename or reorder).
    newest: dict[tuple[str, str], int] = {}
    scores: dict[tuple[str, str], list[float]] = {}
    for pillar_pk, high, medium, scored, score_sum in pillar_totals:
        info = pillar_info.get(pillar_pk)
        if info is None:  # changed between the queries
            continue
        alias = info["lens_version__lens__alias"]
        group = groups.get(alias) or groups.setdefault(
            alias,
            LensGroup(
                alias, info["lens_version__lens__name"], info["lens_version__lens__is_builtin"]
            ),
        )
        key = (alias, info["pillar__pillar_id"])
        total = totals.get(key)
        if total is None:
            total = totals[key] = PillarCount(*key, name="", lens_name=group.name)
        if info["lens_version_id"] > newest.get(key, -1):
            newest[key] = info["lens_version_id"]
            total.name, total.order = info["pillar__name"], info["pillar__order"]
        total.add(high or 0, medium or 0)
        sums = scores.setdefault(key, [0, 0.0])
        sums[0] += scored or 0
        sums[1] += score_sum or 0.0
    for key, (scored, score_sum) in scores.items():
        # The mean over the workloads of their scores of this pillar.
        totals[key].score = score_sum / scored if scored else None
    ordered = sorted(groups.values(), key=lambda g: lens_order(g.is_builtin, g.name, g.alias))
    for group in ordered:
        group.pillars = sorted(
            (p for p in totals.values() if p.lens == group.alias), key=lambda p: p.order
        )
    shown_lenses = [group for group in ordered if not shown or group.alias == shown]
    return ordered, shown_lenses, shown_lenses[0] if shown_lenses else None


def _page_rows(
    page_ids: list[int],
    pillar_info: dict[int, dict],
    ordered: list[LensGroup],
    main: LensGroup | None,
) -> list[WorkloadRow]:
    """The workloads on the page, in `page_ids` order, with what their row shows (four
    queries, none without workloads).

    Sets the counts (`total`, `answered`, `high`, `medium`), `score`, `improvement`,
    `pillars` ({key: PillarCount}), `cells` (one per pillar of the main lens, in order),
    `other` (risky pillars of other lenses), `worst` (most high, then most medium; None
    without risks), `lenses` (names, the built-in lens first) and `deprecated`.
    """
    if not page_ids:
        return []
    found = {
        values[0]: WorkloadRow(*values)
        for values in Workload.objects.filter(pk__in=page_ids)
        .annotate(
            last_updated=Greatest(
                "updated_at",
                Coalesce(
                    Max("lens_reviews__updated_at", filter=Q(lens_reviews__is_active=True)),
                    "updated_at",
                ),
            )
        )
        .values_list(*ROW_FIELDS, "last_updated")
    }
    rows = [found[pk] for pk in page_ids if pk in found]
    by_pk = {row.pk: row for row in rows}
    kept = PillarCounts.objects.filter(
        lens_review__workload__in=page_ids, lens_review__is_active=True
    ).values_list("lens_review__workload_id", "lens_review_id", "pillar_id", *COUNT_FIELDS)
    reviews: dict[int, dict[int, list[float | None]]] = {row.pk: {} for row in rows}
    position = {p.key: index for index, p in enumerate(p for g in ordered for p in g.pillars)}
    names = {p.key: p for g in ordered for p in g.pillars}
    for workload_id, review_id, pillar_pk, *numbers in kept:
        row, info = by_pk.get(workload_id), pillar_info.get(pillar_pk)
        if row is None:
            continue
        counts = dict(zip(COUNT_FIELDS, numbers, strict=True))
        practices = Practices(counts["followed"], counts["applicable"], counts["answered"])
        reviews[workload_id].setdefault(review_id, []).append(practices.score)
        total = sum(counts[name] for name in RISK_COUNTS)
        row.total += total
        row.unanswered += counts["unanswered"]
        row.high += counts["high"]
        row.medium += counts["medium"]
        if info is None:  # a pillar the portfolio's totals did not see yet
            continue
        key = (info["lens_version__lens__alias"], info["pillar__pillar_id"])
        shown = names.get(key)
        own = row.pillars.setdefault(
            key,
            PillarCount(
                *key,
                name=shown.name if shown else info["pillar__name"],
                lens_name=info["lens_version__lens__name"],
                order=shown.order if shown else info["pillar__order"],
            ),
        )
        own.add(counts["high"], counts["medium"])
        own.score = practices.score
    for workload_id, by_review in reviews.items():
        by_pk[workload_id].score = mean_score(mean_score(s) for s in by_review.values())
    _add_improvements(by_pk)
    _mark_deprecated(by_pk)
    main_keys = {p.key for p in main.pillars} if main else set()
    lens_names = {g.alias: g.name for g in ordered}
    for row in rows:
        row.answered = row.total - row.unanswered
        row.cells = [row.pillars.get(p.key) for p in (main.pillars if main else [])]
        risky = [p for p in row.pillars.values() if p.high or p.medium]
        row.other = sorted(
            (p for p in risky if p.key not in main_keys),
            key=lambda p: position.get(p.key, len(position)),
        )
        row.other_high = sum(p.high for p in row.other)
        row.other_medium = sum(p.medium for p in row.other)
        # Ties go to the pillar shown first.
        row.worst = max(
            risky, key=lambda p: (p.rank, -position.get(p.key, len(position))), default=None
        )
        row.worst_is_other = row.worst is not None and row.worst.key not in main_keys
        reviewed = {p.lens for p in row.pillars.values()}
        row.lenses = [name for alias, name in lens_names.items() if alias in reviewed]
    return rows


def _add_improvements(by_pk: dict[int, WorkloadRow]) -> None:
    """Set `improvement` on each row from the items of its active lens reviews (one query)."""
    counts = improvement_counts_of(list(by_pk))
    for pk, row in by_pk.items():
        for name, value in zip(IMPROVEMENT_COUNTS, counts.get(pk, (0, 0, 0, 0)), strict=True):
            setattr(row, name, value)
        with_improvement_status(row)


def _mark_deprecated(by_pk: dict[int, WorkloadRow]) -> None:
    """Note on each row the lenses it reviews on a deprecated version (one query)."""
    reviews = LensReview.objects.filter(
        workload__in=list(by_pk),
        is_active=True,
        lens_version__status=LensVersion.Status.DEPRECATED,
    ).values_list("workload_id", "lens__name", "lens_version__version")
    for workload_id, name, version in reviews.order_by("lens__name"):
        by_pk[workload_id].deprecated.append(f"{name} {version}")


def _catalogue(pillar_pks: set[int]) -> tuple[dict[int, dict], dict[int, dict]]:
    """Pillars and questions by primary key, with their lens (one query)."""
    pillars: dict[int, dict] = {}
    questions: dict[int, dict] = {}
    rows = Question.objects.filter(pillar__in=pillar_pks).values(
        "pk",
        "question_id",
        "title",
        "pillar_id",
        "lens_version_id",
        "pillar__pillar_id",
        "pillar__name",
        "pillar__order",
        "lens_version__lens__alias",
        "lens_version__lens__name",
        "lens_version__lens__is_builtin",
    )
    for row in rows:
        questions[row["pk"]] = row
        pillars[row["pillar_id"]] = row
    return pillars, questions


def _common_questions(
    risky: list[dict],
    question_info: dict[int, dict],
    pillar_info: dict[int, dict],
    limit: int = COMMON_QUESTIONS,
) -> list[RiskyQuestion]:
    """The questions that are high or medium risk in the most workloads.

    A question is its lens alias and question id, so its versions in several lens versions
    count together.
    """
    merged: dict[tuple[str, str], RiskyQuestion] = {}
    for entry in risky:
        info = question_info.get(entry["question_id"])
        if info is None:
            continue
        key = (info["lens_version__lens__alias"], info["question_id"])
        question = merged.get(key)
        if question is None:
            question = merged[key] = RiskyQuestion(
                alias=key[0],
                question_id=key[1],
                title=info["title"],
                pillar=pillar_info[info["pillar_id"]]["pillar__name"],
                lens=info["lens_version__lens__name"],
                workloads=0,
                high=0,
                medium=0,
            )
        question.workloads += entry["workloads"]
        question.high += entry["high"]
        question.medium += entry["medium"]
    ranked = sorted(merged.values(), key=lambda q: (-q.workloads, -q.high, q.alias, q.question_id))
    return ranked[:limit]


def _question_answers(rows: list[WorkloadRow], visible: QuerySet, question: tuple[str, str]) -> str:
    """Set `question_risk` on each row for the filtered question; return its title (one query)."""
    alias, question_id = question
    answers = Answer.objects.filter(
        lens_review__workload__in=visible,
        lens_review__is_active=True,
        lens_review__lens__alias=alias,
        question__question_id=question_id,
    ).values_list("lens_review__workload_id", "risk", "question__title")
    risks, title = {}, ""
    for workload_id, risk, question_title in answers:
        risks[workload_id] = risk
        title = question_title
    for row in rows:
        row.question_risk = risks.get(row.pk, "")
    return title


# -- trend ---------------------------------------------------------------------------------------


def _month_start(moment: datetime.datetime) -> datetime.date:
    local = timezone.localtime(moment)
    return datetime.date(local.year, local.month, 1)


def _next_month(day: datetime.date) -> datetime.date:
    return datetime.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def monthly_changes(visible: QuerySet) -> dict[datetime.date, tuple[int, int]]:
    """{first day of a month: (high, medium)} the milestones of that month added (one query).

    Each milestone counts as the change it made to its workload's latest counts, added up per
    month (in the current time zone) by the database: a few rows however many milestones.
    """
    previous = {
        "partition_by": [F("workload_id")],
        "order_by": [F("recorded_at").asc(), F("pk").asc()],
    }
    changes = (
        Milestone.objects.filter(workload__in=visible)
        .order_by()
        .annotate(
            year=ExtractYear("recorded_at"),
            month=ExtractMonth("recorded_at"),
            high=F("high_count") - Coalesce(Window(Lag("high_count"), **previous), 0),
            medium=F("medium_count") - Coalesce(Window(Lag("medium_count"), **previous), 0),
        )
        .values_list("year", "month", "high", "medium")
    )
    sql, params = changes.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT c."year", c."month", SUM(c."high"), SUM(c."medium") '
            f'FROM ({sql}) c GROUP BY c."year", c."month" ORDER BY c."year", c."month"',
            params,
        )
        return {
            datetime.date(int(year), int(month), 1): (int(high), int(medium))
            for year, month, high, medium in cursor.fetchall()
        }


def trend_points(
    monthly: dict[datetime.date, tuple[int, int]],
    summary: Summary,
    *,
    now: datetime.datetime | None = None,
    months: int = TREND_MONTHS,
) -> list[Point]:
    """The trend from monthly_changes: the high and medium risks at the end of each month.

    A month's value is the sum, over workloads, of each workload's latest milestone recorded
    by the end of that month; a workload without a milestone yet counts nothing. The last point
    is "Now": the live answers. Only the last `months` months are shown, but older milestones
    still count as the latest ones of their workloads. Without milestones there is no trend.
    """
    if not monthly:
        return []
    now = now or timezone.now()
    last = _month_start(now)
    month = min(monthly)
    high = medium = 0
    points = []
    while month <= last:
        change = monthly.get(month, (0, 0))
        high, medium = high + change[0], medium + change[1]
        # Short labels ("Mar ’25"): a year of months must fit under the chart.
        points.append(Point(month.strftime("%b ’%y"), high, medium))
        month = _next_month(month)
    points = points[-months:]
    points.append(Point("Now", summary.high, summary.medium))
    return points
