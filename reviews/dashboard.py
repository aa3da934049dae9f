"""The managers' dashboard: risk across every workload a user can see, in a few queries.

Everything is aggregated in the database over the filtered workloads (one query each for the
workload rows, the per-pillar counts, the common risky questions and the milestone history), so
the page takes the same number of queries for ten workloads or ten thousand.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Min, Q, QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone

from reviews.charts import Bar, Point
from reviews.models import Answer, AnswerRisk, Milestone, Workload
from reviews.views.workloads import with_improvement_status, workloads_for_list

RISKY = (AnswerRisk.HIGH, AnswerRisk.MEDIUM)
COMMON_QUESTIONS = 10
TREND_MONTHS = 12


@dataclass(frozen=True)
class Filters:
    """What the dashboard is narrowed to; empty values filter nothing."""

    environment: str = ""
    # (key, value) or (key, None) for "has this tag"
    tag: tuple[str, str | None] | None = None
    owner: str = ""
    # (lens alias, question id): only workloads where that question is high or medium risk
    question: tuple[str, str] | None = None

    @property
    def is_active(self) -> bool:
        return bool(self.environment or self.tag or self.owner or self.question)


@dataclass
class PillarCount:
    """High and medium risks of one pillar, in one workload or across the portfolio.

    Pillars are told apart by id and name, so the same pillar in two versions of a lens counts
    once, and a custom lens's pillar counts under its own name.
    """

    pillar_id: str
    name: str
    is_main: bool = False
    order: int = 0
    high: int = 0
    medium: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return (self.pillar_id, self.name)

    @property
    def rank(self) -> tuple[int, int]:
        return (self.high, self.medium)

    def add(self, high: int, medium: int) -> None:
        self.high += high
        self.medium += medium


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


@dataclass
class Portfolio:
    summary: Summary
    rows: list[Workload]
    pillars: list[PillarCount]
    main_pillars: list[PillarCount]
    has_other_pillars: bool
    questions: list[RiskyQuestion]
    trend: list[Point]
    # The title of the question filter's question, when there is one.
    question_title: str = ""

    @property
    def bars(self) -> list[Bar]:
        return [Bar(p.name, p.high, p.medium) for p in self.pillars]


# -- filters -------------------------------------------------------------------------------------


def filter_workloads(workloads: QuerySet[Workload], filters: Filters) -> QuerySet[Workload]:
    """Narrow a workload queryset by environment, tag, owner and risky question."""
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
    if filters.question:
        alias, question_id = filters.question
        affected = Answer.objects.filter(
            lens_review__is_active=True,
            lens_review__lens__alias=alias,
            question__question_id=question_id,
            risk__in=RISKY,
        ).values("lens_review__workload_id")
        workloads = workloads.filter(pk__in=affected)
    return workloads


def filter_choices(user: Any) -> tuple[list[str], list[str]]:
    """Owners and tags in use on the user's workloads, for the filter form (one query)."""
    owners: set[str] = set()
    tags: set[str] = set()
    for owner, workload_tags in Workload.objects.for_user(user).values_list(
        "owner__username", "tags"
    ):
        owners.add(owner)
        for key, value in (workload_tags or {}).items():
            tags.add(key)
            tags.add(f"{key}={value}")
    return sorted(owners, key=str.casefold), sorted(tags)[:200]


# -- the portfolio -------------------------------------------------------------------------------


def portfolio(user: Any, filters: Filters, *, now: datetime.datetime | None = None) -> Portfolio:
    """Everything the dashboard shows for the user's workloads under `filters`.

    Staff get nothing extra: the starting point is the workloads shared with the user.
    """
    visible = filter_workloads(Workload.objects.for_user(user), filters).values("pk")
    rows = [with_improvement_status(w) for w in filter_workloads(workloads_for_list(user), filters)]
    summary = _summary(rows)
    pillars, main_pillars, has_other = _pillars(rows, visible)
    result = Portfolio(
        summary=summary,
        rows=sorted(rows, key=lambda w: (-w.high, -w.medium, w.name_key)),
        pillars=pillars,
        main_pillars=main_pillars,
        has_other_pillars=has_other,
        questions=common_risky_questions(visible),
        trend=risk_trend(visible, summary, now=now),
    )
    if filters.question:
        result.question_title = _question_answers(rows, visible, filters.question)
    return result


def _summary(rows: list[Workload]) -> Summary:
    summary = Summary(workloads=len(rows))
    for row in rows:
        summary.with_high += row.high > 0
        summary.with_medium += row.medium > 0
        summary.high += row.high
        summary.medium += row.medium
        summary.answered += row.answered
        summary.questions += row.total
    return summary


def _pillars(
    rows: list[Workload], visible: QuerySet
) -> tuple[list[PillarCount], list[PillarCount], bool]:
    """Per-pillar counts, per workload (set on each row) and in total (one query).

    Each row gets `pillars` ({key: PillarCount}), `cells` (one per main pillar, in order),
    `other` (pillars of custom lenses), `worst` (most high, then most medium; None without
    risks) and `lenses` (lens names).
    """
    counts = (
        Answer.objects.filter(lens_review__workload__in=visible, lens_review__is_active=True)
        .values(
            "lens_review__workload_id",
            "lens_review__lens__name",
            "lens_review__lens__is_builtin",
            "question__pillar__pillar_id",
            "question__pillar__name",
        )
        .annotate(
            order=Min("question__pillar__order"),
            high=Count("pk", filter=Q(risk=AnswerRisk.HIGH)),
            medium=Count("pk", filter=Q(risk=AnswerRisk.MEDIUM)),
        )
        .order_by()
    )
    by_id = {row.pk: row for row in rows}
    for row in rows:
        row.pillars, row.lens_names = {}, {}
    totals: dict[tuple[str, str], PillarCount] = {}
    for entry in counts:
        row = by_id.get(entry["lens_review__workload_id"])
        if row is None:  # changed between the two queries
            continue
        is_builtin = entry["lens_review__lens__is_builtin"]
        key = (entry["question__pillar__pillar_id"], entry["question__pillar__name"])
        total = totals.setdefault(key, PillarCount(*key))
        if is_builtin:
            total.is_main, total.order = True, entry["order"]
        total.add(entry["high"], entry["medium"])
        own = row.pillars.setdefault(key, PillarCount(*key))
        own.add(entry["high"], entry["medium"])
        row.lens_names[entry["lens_review__lens__name"]] = is_builtin
    # The built-in lens's pillars first in lens order, then custom pillars by name.
    pillars = sorted(
        totals.values(), key=lambda p: (not p.is_main, p.order if p.is_main else 0, p.name)
    )
    main = [p for p in pillars if p.is_main]
    main_keys = {p.key for p in main}
    position = {p.key: index for index, p in enumerate(pillars)}
    for row in rows:
        row.cells = [row.pillars.get(p.key) for p in main]
        row.other = [
            p for key, p in row.pillars.items() if key not in main_keys and p.rank > (0, 0)
        ]
        row.other_high = sum(p.high for p in row.other)
        row.other_medium = sum(p.medium for p in row.other)
        risky = [p for p in row.pillars.values() if p.rank > (0, 0)]
        # Ties go to the pillar shown first.
        row.worst = max(risky, key=lambda p: (p.rank, -position[p.key]), default=None)
        row.worst_is_other = row.worst is not None and row.worst.key not in main_keys
        row.lenses = sorted(row.lens_names, key=lambda name: (not row.lens_names[name], name))
    return pillars, main, len(main) < len(pillars)


def common_risky_questions(visible: QuerySet, limit: int = COMMON_QUESTIONS) -> list[RiskyQuestion]:
    """The questions that are high or medium risk in the most workloads (one query).

    A workload reviews a lens once and answers a question once, so answers count workloads.
    """
    rows = (
        Answer.objects.filter(
            lens_review__workload__in=visible, lens_review__is_active=True, risk__in=RISKY
        )
        .values("lens_review__lens__alias", "question__question_id")
        .annotate(
            title=Max("question__title"),
            pillar=Max("question__pillar__name"),
            lens=Max("lens_review__lens__name"),
            workloads=Count("pk"),
            high=Count("pk", filter=Q(risk=AnswerRisk.HIGH)),
            medium=Count("pk", filter=Q(risk=AnswerRisk.MEDIUM)),
        )
        .order_by("-workloads", "-high", "lens_review__lens__alias", "question__question_id")[
            :limit
        ]
    )
    return [
        RiskyQuestion(
            alias=row["lens_review__lens__alias"],
            question_id=row["question__question_id"],
            title=row["title"],
            pillar=row["pillar"],
            lens=row["lens"],
            workloads=row["workloads"],
            high=row["high"],
            medium=row["medium"],
        )
        for row in rows
    ]


def _question_answers(rows: list[Workload], visible: QuerySet, question: tuple[str, str]) -> str:
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


def risk_trend(
    visible: QuerySet,
    summary: Summary,
    *,
    now: datetime.datetime | None = None,
    months: int = TREND_MONTHS,
) -> list[Point]:
    """The portfolio's high and medium risks at the end of each month, then now (one query).

    A month's value is the sum, over workloads, of each workload's latest milestone recorded
    by the end of that month; a workload without a milestone yet counts nothing. The last point
    is "Now": the live answers. Only the last `months` months are shown, but older milestones
    still count as the latest ones of their workloads. Without milestones there is no trend.
    """
    history = list(
        Milestone.objects.filter(workload__in=visible)
        .order_by("recorded_at", "pk")
        .values_list("workload_id", "recorded_at", "high_count", "medium_count")
    )
    if not history:
        return []
    now = now or timezone.now()
    last = _month_start(now)
    first = _month_start(history[0][1])
    month = first
    buckets = []
    while month <= last:
        buckets.append(month)
        month = _next_month(month)
    buckets = buckets[-months:]
    latest: dict[int, tuple[int, int]] = {}
    high = medium = 0
    points = []
    index = 0
    for month in buckets:
        end = _next_month(month)
        while index < len(history) and _month_start(history[index][1]) < end:
            workload_id, _, new_high, new_medium = history[index]
            old_high, old_medium = latest.get(workload_id, (0, 0))
            high += new_high - old_high
            medium += new_medium - old_medium
            latest[workload_id] = (new_high, new_medium)
            index += 1
        # Short labels ("Mar ’25"): a year of months must fit under the chart.
        points.append(Point(month.strftime("%b ’%y"), high, medium))
    points.append(Point("Now", summary.high, summary.medium))
    return points
