"""The managers' dashboard: risk across every workload a user can see, in a few queries.

Everything is aggregated in the database over the filtered workloads, one query each for the
workloads, their answers counted per pillar, the risky answers counted per question, the names
of those pillars and questions, and the milestone history; so the page takes the same number of
queries for ten workloads or ten thousand. Answers are grouped by integer keys and named
afterwards, which keeps the grouping cheap with a thousand workloads.

Pillars belong to their lens: two lenses may both have a "Security" pillar (or a "security"
one), and each is counted and shown under its own lens, the built-in lens first.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Max, Q, QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, ExtractMonth, ExtractYear, Greatest
from django.utils import timezone

from lenses.models import Lens, LensVersion, Question
from people.models import Team
from reviews.charts import Bar, Point
from reviews.models import Answer, AnswerRisk, LensReview, Milestone, Workload
from reviews.selectors import improvement_counts, with_improvement_status

RISKY = (AnswerRisk.HIGH, AnswerRisk.MEDIUM)
COMMON_QUESTIONS = 10
TREND_MONTHS = 12
# What the dashboard shows of a workload besides the counts (see WorkloadRow).
ROW_FIELDS = ("pk", "public_id", "name", "name_key", "environment", "owner__username")
# What is counted of the answers per workload and pillar, in this order.
COUNTS = (
    "total",
    "unanswered",
    "high",
    "medium",
    "items",
    "not_started",
    "in_progress",
    "acknowledged",
)
HIGH_AT, MEDIUM_AT = COUNTS.index("high"), COUNTS.index("medium")


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


def team_choices() -> list[str]:
    """The names of all teams, for the team filter (one query): teams are the organisation's,
    and the filter only ever narrows the workloads the user sees anyway."""
    return list(Team.objects.order_by("name_key").values_list("name", flat=True))


def lens_choices(user: Any) -> list[tuple[str, str]]:
    """(alias, name) of the lenses reviewed in the user's workloads, for the lens picker (one
    query); the built-in lens first, then by name."""
    lenses = (
        Lens.objects.filter(
            pk__in=LensReview.objects.filter(
                is_active=True, workload__in=Workload.objects.for_user(user).values("pk")
            ).values("lens_id")
        )
        .order_by()
        .values_list("alias", "name", "is_builtin")
    )
    ordered = sorted(lenses, key=lambda lens: lens_order(lens[2], lens[1], lens[0]))
    return [(alias, name) for alias, name, _ in ordered]


# -- the portfolio -------------------------------------------------------------------------------


def portfolio(user: Any, filters: Filters, *, now: datetime.datetime | None = None) -> Portfolio:
    """Everything the dashboard shows for the user's workloads under `filters`.

    Staff get nothing extra: the starting point is the workloads shared with the user.
    Six queries: the workloads, answers counted per workload and pillar, risky answers
    counted per question, the names of those pillars and questions, the milestones and the
    reviews on deprecated lens versions.
    """
    visible = filter_workloads(Workload.objects.for_user(user), filters)
    ids = visible.values("pk")
    # Plain rows; the counts come from grouping answers by integer keys, which is much cheaper
    # than grouping workloads with all their columns or answers by names.
    rows = [
        WorkloadRow(*values)
        for values in visible.annotate(
            last_updated=Greatest(
                "updated_at",
                Coalesce(
                    Max("lens_reviews__updated_at", filter=Q(lens_reviews__is_active=True)),
                    "updated_at",
                ),
            )
        ).values_list(*ROW_FIELDS, "last_updated")
    ]
    answers = Answer.objects.filter(lens_review__workload__in=ids, lens_review__is_active=True)
    counts = list(
        answers.values("lens_review__workload_id", "question__pillar_id")
        .annotate(
            total=Count("pk"),
            unanswered=Count("pk", filter=Q(risk=AnswerRisk.UNANSWERED)),
            high=Count("pk", filter=Q(risk=AnswerRisk.HIGH)),
            medium=Count("pk", filter=Q(risk=AnswerRisk.MEDIUM)),
            # Each answer has at most one item, so these count items, not join rows.
            **improvement_counts("improvement"),
        )
        .order_by()
        # Tuples: thousands of rows (one per workload and pillar) are read in Python.
        .values_list("lens_review__workload_id", "question__pillar_id", *COUNTS)
    )
    # A workload reviews a lens once and answers a question once, so answers count workloads.
    risky_answers = answers.filter(risk__in=RISKY)
    if filters.lens:
        risky_answers = risky_answers.filter(lens_review__lens__alias=filters.lens)
    risky = list(
        risky_answers.values("question_id")
        .annotate(
            workloads=Count("pk"),
            high=Count("pk", filter=Q(risk=AnswerRisk.HIGH)),
            medium=Count("pk", filter=Q(risk=AnswerRisk.MEDIUM)),
        )
        .order_by()
    )
    _mark_deprecated(rows, ids)
    pillar_info, question_info = _catalogue({entry[1] for entry in counts})
    lenses, main_lens, has_other = _add_counts(rows, counts, pillar_info, shown=filters.lens)
    summary = _summary(rows)
    result = Portfolio(
        summary=summary,
        rows=sorted(rows, key=lambda w: (-w.high, -w.medium, w.name_key)),
        lenses=lenses,
        main_lens=main_lens,
        has_other_pillars=has_other,
        questions=_common_questions(risky, question_info, pillar_info),
        trend=risk_trend(ids, summary, now=now),
    )
    if filters.question:
        result.question_title = _question_answers(rows, ids, filters.question)
    return result


def _mark_deprecated(rows: list[WorkloadRow], ids: QuerySet) -> None:
    """Note on each row the lenses it reviews on a deprecated version (one query)."""
    by_pk = {row.pk: row for row in rows}
    reviews = LensReview.objects.filter(
        workload__in=ids, is_active=True, lens_version__status=LensVersion.Status.DEPRECATED
    ).values_list("workload_id", "lens__name", "lens_version__version")
    for workload_id, name, version in reviews.order_by("lens__name"):
        by_pk[workload_id].deprecated.append(f"{name} {version}")


def _summary(rows: list[WorkloadRow]) -> Summary:
    summary = Summary(workloads=len(rows))
    for row in rows:
        summary.with_high += row.high > 0
        summary.with_medium += row.medium > 0
        summary.high += row.high
        summary.medium += row.medium
        summary.answered += row.answered
        summary.questions += row.total
    return summary


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


def _add_counts(
    rows: list[WorkloadRow], counts: list[tuple], pillar_info: dict[int, dict], *, shown: str = ""
) -> tuple[list[LensGroup], LensGroup | None, bool]:
    """Spread the per workload and pillar counts over the rows, and add them up per pillar.

    `counts` holds (workload pk, pillar pk, *COUNTS). Sets on each row what the workload list
    shows (`total`, `answered`, `high`, `medium`, `improvement`) plus `pillars`
    ({key: PillarCount}), `cells` (one per pillar of the main lens, in order), `other` (risky
    pillars of other lenses), `worst` (most high, then most medium; None without risks) and
    `lenses` (names, the built-in lens first). Returns the lenses shown (all of them, or only
    the alias `shown`) with their pillars' totals, the main lens (the first shown) and whether
    other lenses have pillars too.
    """
    by_id = {row.pk: row for row in rows}
    sums = {row.pk: [0] * len(COUNTS) for row in rows}
    totals: dict[tuple[str, str], PillarCount] = {}
    groups: dict[str, LensGroup] = {}
    row_lenses: dict[int, set[str]] = {row.pk: set() for row in rows}
    # The newest version seen names a pillar and places it (versions may rename or reorder).
    newest: dict[tuple[str, str], int] = {}
    for workload_id, pillar_pk, *numbers in counts:
        row = by_id.get(workload_id)
        info = pillar_info.get(pillar_pk)
        if row is None or info is None:  # changed between the queries
            continue
        sums[workload_id] = [a + b for a, b in zip(sums[workload_id], numbers, strict=True)]
        high, medium = numbers[HIGH_AT], numbers[MEDIUM_AT]
        alias = info["lens_version__lens__alias"]
        group = groups.get(alias) or groups.setdefault(
            alias,
            LensGroup(
                alias, info["lens_version__lens__name"], info["lens_version__lens__is_builtin"]
            ),
        )
        row_lenses[workload_id].add(alias)
        key = (alias, info["pillar__pillar_id"])
        total = totals.get(key)
        if total is None:
            total = totals[key] = PillarCount(*key, name="", lens_name=group.name)
        if info["lens_version_id"] > newest.get(key, -1):
            newest[key] = info["lens_version_id"]
            total.name, total.order = info["pillar__name"], info["pillar__order"]
        total.add(high, medium)
        own = row.pillars.get(key)
        if own is None:
            own = row.pillars[key] = PillarCount(*key, name="", lens_name=group.name)
        own.add(high, medium)
    ordered = sorted(groups.values(), key=lambda g: lens_order(g.is_builtin, g.name, g.alias))
    for group in ordered:
        group.pillars = sorted(
            (p for p in totals.values() if p.lens == group.alias), key=lambda p: p.order
        )
    for own in (p for row in rows for p in row.pillars.values()):
        own.name, own.order = totals[own.key].name, totals[own.key].order
    shown_lenses = [group for group in ordered if not shown or group.alias == shown]
    main = shown_lenses[0] if shown_lenses else None
    main_keys = {p.key for p in main.pillars} if main else set()
    position = {p.key: index for index, p in enumerate(p for g in ordered for p in g.pillars)}
    for row in rows:
        for name, value in zip(COUNTS, sums[row.pk], strict=True):
            setattr(row, name, value)
        row.answered = row.total - row.unanswered
        with_improvement_status(row)
        row.cells = [row.pillars.get(p.key) for p in (main.pillars if main else [])]
        risky = [p for p in row.pillars.values() if p.high or p.medium]
        row.other = sorted(
            (p for p in risky if p.key not in main_keys), key=lambda p: position[p.key]
        )
        row.other_high = sum(p.high for p in row.other)
        row.other_medium = sum(p.medium for p in row.other)
        # Ties go to the pillar shown first.
        row.worst = max(risky, key=lambda p: (p.rank, -position[p.key]), default=None)
        row.worst_is_other = row.worst is not None and row.worst.key not in main_keys
        row.lenses = [group.name for group in ordered if group.alias in row_lenses[row.pk]]
    return shown_lenses, main, len(main_keys) < len(totals)


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
    # Months counted by the database in the current time zone: cheaper than 5,000 datetimes.
    history = list(
        Milestone.objects.filter(workload__in=visible)
        .order_by("recorded_at", "pk")
        .values_list(
            "workload_id",
            ExtractYear("recorded_at"),
            ExtractMonth("recorded_at"),
            "high_count",
            "medium_count",
        )
    )
    if not history:
        return []
    now = now or timezone.now()
    last = _month_start(now)
    first = datetime.date(history[0][1], history[0][2], 1)
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
        while index < len(history) and datetime.date(*history[index][1:3], 1) < end:
            workload_id, _, _, new_high, new_medium = history[index]
            old_high, old_medium = latest.get(workload_id, (0, 0))
            high += new_high - old_high
            medium += new_medium - old_medium
            latest[workload_id] = (new_high, new_medium)
            index += 1
        # Short labels ("Mar ’25"): a year of months must fit under the chart.
        points.append(Point(month.strftime("%b ’%y"), high, medium))
    points.append(Point("Now", summary.high, summary.medium))
    return points
