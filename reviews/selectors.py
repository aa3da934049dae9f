"""Reads of the review side that more than one interface needs: no request, no response.

The HTML views, the dashboard and the API all build their pages from these; each function says
how many queries it costs, and tests pin those counts through the views.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Expression,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from lenses.models import Lens, Pillar, Question
from people.models import Profile, TeamMember
from profiles.selectors import prioritised_in
from reviews import services, snapshots
from reviews.counts import FIELDS as COUNT_FIELDS
from reviews.counts import RISK_FIELDS
from reviews.improvements import complete_but_risky, improvement_status, is_overdue
from reviews.models import (
    Answer,
    AnswerEvent,
    AnswerRisk,
    ImprovementEvent,
    ImprovementItem,
    ImprovementStatus,
    LensReview,
    PillarCounts,
    Role,
    Workload,
    WorkloadActivity,
    WorkloadMember,
    WorkloadTeamShare,
)
from reviews.rows import columns_of, fields_of, instance_from, planned_cursor
from reviews.scores import Practices, mean_score
from reviews.services import risk_counts_by_pillar

RISK_COUNTS = tuple(RISK_FIELDS.values())

# -- the review of one lens ----------------------------------------------------------------------


def in_priority_order(pillars: list[Pillar], priorities: list[str]) -> list[Pillar]:
    """The pillars the workload ranks first, in its order; the others after them, in lens order.

    Priorities name pillar ids of the built-in lens; another lens follows them where its pillar
    ids are the same ones and keeps its own order otherwise.
    """
    rank = priority_rank(priorities)
    return sorted(pillars, key=lambda pillar: rank(pillar.pillar_id))


def priority_rank(priorities: list[str]) -> Callable[[str], int]:
    """A pillar id's place in the workload's priorities; pillars not named come after them all."""
    places = {pillar_id: place for place, pillar_id in enumerate(priorities or [])}
    return lambda pillar_id: places.get(pillar_id, len(places))


def first_unanswered(pillars: list[Pillar]) -> Question | None:
    """The first question without an answer, going through `pillars` in the order given."""
    for pillar in pillars:
        for question in pillar.question_list:
            if question.answer is None or question.answer.risk == AnswerRisk.UNANSWERED:
                return question
    return None


def review_outline(review: LensReview) -> list[Pillar]:
    """Pillars with `counts` and their questions, each with its `answer` and `prioritised`
    (four queries). Sets `review.prioritised`: the question ids the workload's profile
    prioritises.

    The pillars come in the workload's priority order, which the whole review follows: the
    overview, the sidebar, next and previous, and where "Continue review" leads.
    """
    review.prioritised = prioritised_in(review.workload, review.lens.alias)
    pillars = in_priority_order(
        list(review.lens_version.pillars.all()), review.workload.pillar_priorities
    )
    counts = risk_counts_by_pillar(review)
    answers = {
        answer.question_id: answer
        for answer in Answer.objects.filter(lens_review=review).only(
            "id", "question_id", "risk", "version"
        )
    }
    questions: dict[int, list[Question]] = {}
    for question in Question.objects.filter(lens_version=review.lens_version_id).order_by("order"):
        question.answer = answers.get(question.pk)
        question.prioritised = question.question_id in review.prioritised
        questions.setdefault(question.pillar_id, []).append(question)
    for pillar in pillars:
        pillar.counts = counts.get(pillar.pk, {})
        pillar.question_list = questions.get(pillar.pk, [])
    return pillars


def review_risks(review: LensReview) -> tuple[dict[int, str], int]:
    """Every answer's risk by question pk, and the review's `risk_version` (one query).

    Both come from one statement, so they agree: the risks are exactly those of that risk
    version, which is what lets a page keep them under it and later send only what moved.
    """
    rows = list(
        Answer.objects.filter(lens_review=review)
        .order_by()
        .values_list("question_id", "risk", "lens_review__risk_version")
    )
    risk_version = rows[0][2] if rows else review.risk_version
    return {question_id: risk for question_id, risk, _ in rows}, risk_version


@functools.cache
def _history_sql(since: bool) -> str:
    quote = connection.ops.quote_name
    user = get_user_model()
    where, order = "e.answer_id = %s", "e.at DESC, e.id DESC LIMIT %s"  # the model's order
    if since:
        where, order = f"{where} AND e.version > %s AND e.version <= %s", "e.version DESC"
    return (
        f"SELECT {columns_of('e', AnswerEvent)}, {columns_of('u', user)} "
        f"FROM {quote(AnswerEvent._meta.db_table)} e "
        f"LEFT JOIN {quote(user._meta.db_table)} u ON u.id = e.user_id "
        f"WHERE {where} ORDER BY {order}"
    )


def answer_history(
    answer: Answer, *, since: int | None = None, limit: int = 20
) -> list[AnswerEvent]:
    """The answer's history entries with their users, newest first (one query): the last
    `limit`, or those that made its versions after `since` up to its version as read.

    Written by hand: through the ORM, building the query and the instances cost more than
    rendering the entries on every poll that sends them (bench/bench_workshop.py)."""
    params = [answer.pk, since, answer.version] if since is not None else [answer.pk, limit]
    with planned_cursor() as cursor:
        cursor.execute(_history_sql(since is not None), params)
        rows = cursor.fetchall()
    user_model = get_user_model()
    split = len(fields_of(AnswerEvent))
    events = []
    for row in rows:
        event = instance_from(AnswerEvent, row[:split])
        event.user = None if row[split] is None else instance_from(user_model, row[split:])
        events.append(event)
    return events


# -- workloads -----------------------------------------------------------------------------------


def builtin_pillars() -> list[Pillar]:
    """The pillars of the newest published built-in lens, in lens order (one query)."""
    return list(services.builtin_pillars())


def improvement_counts(item: str, active: Q | None = None) -> dict[str, Count]:
    """Annotations counting the improvement items at `item` (a path through answers).

    `items` counts every item, closed ones too; the others count open items by status, and
    what is neither is complete (see with_improvement_status).
    """
    scope = active if active is not None else Q()
    is_open = Q(**{f"{item}__is_open": True})

    def open_with(status: str) -> Count:
        return Count(item, filter=scope & is_open & Q(**{f"{item}__status": status}))

    return {
        "items": Count(item, filter=scope),
        "not_started": open_with(ImprovementStatus.NOT_STARTED),
        "in_progress": open_with(ImprovementStatus.IN_PROGRESS),
        "acknowledged": open_with(ImprovementStatus.RISK_ACKNOWLEDGED),
    }


def with_improvement_status(row: Any) -> Any:
    """Set `improvement` ("NONE" or an ImprovementStatus value) from improvement_counts."""
    complete = row.items - row.not_started - row.in_progress - row.acknowledged
    row.improvement = improvement_status(
        items=row.items,
        not_started=row.not_started,
        in_progress=row.in_progress,
        complete=complete,
        acknowledged=row.acknowledged,
    )
    return row


def workloads_for_list(user: Any) -> QuerySet[Workload]:
    """The user's workloads with their role and owner, and no counts: cheap to count and page.

    The counts come from add_list_counts for the workloads on one page; sort_annotations adds
    what a sort by a count needs.
    """
    return Workload.objects.with_role(user).select_related("owner")


# What add_list_counts sets on each workload, besides `last_updated`, `score` and `improvement`.
LIST_COUNTS = (
    "total",
    "answered",
    "high",
    "medium",
    "items",
    "not_started",
    "in_progress",
    "acknowledged",
)
IMPROVEMENT_COUNTS = ("items", "not_started", "in_progress", "acknowledged")


def add_list_counts(workloads: list[Workload]) -> list[Workload]:
    """Set the list's counts over active lens reviews on each workload (two queries, none if
    empty).

    The counts and the score come from the kept counts (reviews.counts), one row per lens
    review and pillar, never from the answers. Sets LIST_COUNTS, `score` (the mean of the
    active lens reviews' scores, each the mean of its pillars'), `last_updated`
    (the workload or any of its lens reviews, removed ones too) and `improvement`.
    """
    if not workloads:
        return workloads
    by_pk = {workload.pk: workload for workload in workloads}
    rows = LensReview.objects.filter(workload__in=list(by_pk)).values_list(
        "workload_id",
        "pk",
        "is_active",
        "updated_at",
        *(f"pillar_counts__{name}" for name in COUNT_FIELDS),
    )
    sums = {pk: dict.fromkeys(("total", "answered", "high", "medium"), 0) for pk in by_pk}
    reviewed: dict[int, Any] = {}
    scores: dict[int, dict[int, list[float | None]]] = {pk: {} for pk in by_pk}
    for workload_id, review_id, is_active, updated_at, *numbers in rows:
        reviewed[workload_id] = max(updated_at, reviewed.get(workload_id, updated_at))
        if not is_active or numbers[0] is None:  # removed, or a pillar-less row
            continue
        counts = dict(zip(COUNT_FIELDS, numbers, strict=True))
        total = sum(counts[name] for name in RISK_COUNTS)
        mine = sums[workload_id]
        mine["total"] += total
        mine["answered"] += total - counts["unanswered"]
        mine["high"] += counts["high"]
        mine["medium"] += counts["medium"]
        practices = Practices(counts["followed"], counts["applicable"], counts["answered"])
        scores[workload_id].setdefault(review_id, []).append(practices.score)
    items = improvement_counts_of(list(by_pk))
    for pk, workload in by_pk.items():
        for name, value in sums[pk].items():
            setattr(workload, name, value)
        for name, value in zip(IMPROVEMENT_COUNTS, items.get(pk, (0, 0, 0, 0)), strict=True):
            setattr(workload, name, value)
        workload.score = mean_score(mean_score(s) for s in scores[pk].values())
        seen = reviewed.get(pk)
        workload.last_updated = max(workload.updated_at, seen or workload.updated_at)
        with_improvement_status(workload)
    return workloads


def improvement_counts_of(workload_ids: list[int]) -> dict[int, tuple[int, int, int, int]]:
    """Per workload: IMPROVEMENT_COUNTS of the items of its active lens reviews (one query).

    Every item, closed ones too, and open ones by status, as improvement_counts counts them.
    """

    def open_with(status: str) -> Q:
        return Q(is_open=True, status=status)

    rows = (
        ImprovementItem.objects.filter(
            answer__lens_review__workload__in=workload_ids, answer__lens_review__is_active=True
        )
        .values("answer__lens_review__workload_id")
        .annotate(
            items=Count("pk"),
            not_started=Count("pk", filter=open_with(ImprovementStatus.NOT_STARTED)),
            in_progress=Count("pk", filter=open_with(ImprovementStatus.IN_PROGRESS)),
            acknowledged=Count("pk", filter=open_with(ImprovementStatus.RISK_ACKNOWLEDGED)),
        )
        .order_by()
        .values_list("answer__lens_review__workload_id", *IMPROVEMENT_COUNTS)
    )
    return {workload_id: tuple(numbers) for workload_id, *numbers in rows}


def _kept_count(fields: tuple[str, ...]) -> Expression:
    """The sum of kept counts `fields` over the workload's active lens reviews, as a subquery."""
    total = sum((F(name) for name in fields[1:]), F(fields[0]))
    kept = (
        PillarCounts.objects.filter(
            lens_review__workload=OuterRef("pk"), lens_review__is_active=True
        )
        .order_by()
        .values("lens_review__workload")
        .annotate(count=Sum(total))
        .values("count")
    )
    return Coalesce(Subquery(kept), 0)


def _last_updated() -> Expression:
    """When the workload or any of its lens reviews last changed, as a subquery."""
    reviewed = (
        LensReview.objects.filter(workload=OuterRef("pk"))
        .order_by()
        .values("workload")
        .annotate(latest=Max("updated_at"))
        .values("latest")
    )
    return Greatest("updated_at", Coalesce(Subquery(reviewed), "updated_at"))


# The sort fields of WorkloadFilterForm.SORTS that are counts, and how to compute them.
SORT_ANNOTATIONS = {
    "answered": lambda: _kept_count(("high", "medium", "none", "not_applicable")),
    "high": lambda: _kept_count(("high",)),
    "medium": lambda: _kept_count(("medium",)),
    "last_updated": _last_updated,
}


def sort_annotations(order: list[str]) -> dict[str, Expression]:
    """The annotations that ordering by `order` needs, one subquery per count sorted by.

    Sorting by a count has to know it for every workload, not only those on the page; one
    correlated subquery a workload over its kept counts (a row per pillar) costs far less than
    grouping the workloads with all their columns over every answer.
    """
    names = {field.lstrip("-") for field in order}
    return {name: compute() for name, compute in SORT_ANNOTATIONS.items() if name in names}


def lens_reviews_with_counts(workload: Workload) -> list[LensReview]:
    """Every lens review of the workload, removed ones too, with answer counts (one query)."""
    unanswered = Q(answers__risk=AnswerRisk.UNANSWERED)
    return list(
        LensReview.objects.filter(workload=workload)
        .select_related("lens", "lens_version")
        .annotate(
            total=Count("answers"),
            answered=Count("answers", filter=~unanswered),
            high=Count("answers", filter=Q(answers__risk=AnswerRisk.HIGH)),
            medium=Count("answers", filter=Q(answers__risk=AnswerRisk.MEDIUM)),
            **improvement_counts("answers__improvement"),
        )
    )


def first_unanswered_questions(workload: Workload, reviews: list[LensReview]) -> dict[int, str]:
    """Each lens review's first unanswered question id, in the order the review pages follow
    (the workload's pillar priorities, then lens order; see review_outline). One query."""
    rank = priority_rank(workload.pillar_priorities)
    rows = (
        Answer.objects.filter(lens_review__in=[r.pk for r in reviews], risk=AnswerRisk.UNANSWERED)
        .order_by()
        .values_list(
            "lens_review_id",
            "question__question_id",
            "question__pillar__pillar_id",
            "question__pillar__order",
            "question__order",
        )
    )
    first: dict[int, tuple[tuple[int, int, int], str]] = {}
    for review_id, question_id, pillar_id, pillar_order, order in rows:
        place = (rank(pillar_id), pillar_order, order)
        if review_id not in first or place < first[review_id][0]:
            first[review_id] = (place, question_id)
    return {review_id: question_id for review_id, (_, question_id) in first.items()}


def members_of(workload: Workload) -> QuerySet[WorkloadMember]:
    """Members with their users: the owner first, then contributors, then readers."""
    rank = Case(When(role=Role.OWNER, then=0), When(role=Role.CONTRIBUTOR, then=1), default=2)
    return (
        WorkloadMember.objects.filter(workload=workload)
        .select_related("user")
        .order_by(rank, "user__username")
    )


def team_shares_of(workload: Workload) -> list[WorkloadTeamShare]:
    """The teams the workload is shared with, by name, each with `people`: its members who
    get access through it, by username (two queries)."""
    shares = list(
        WorkloadTeamShare.objects.filter(workload=workload)
        .select_related("team")
        .prefetch_related(
            Prefetch(
                "team__memberships",
                queryset=TeamMember.objects.select_related("user").order_by("user__username"),
            )
        )
        .order_by("team__name_key")
    )
    for share in shares:
        memberships = share.team.memberships.all()
        share.people = [m.user for m in memberships if m.user.is_active]
    return shares


def portfolio_viewer_count() -> int:
    """How many active people read every workload through the portfolio-viewer flag."""
    return Profile.objects.filter(is_portfolio_viewer=True, user__is_active=True).count()


def activity_of(workload: Workload) -> QuerySet[WorkloadActivity]:
    """The workload's activity log, newest first, with who did each thing."""
    return WorkloadActivity.objects.filter(workload=workload).select_related("user")


# -- the improvement plan -------------------------------------------------------------------------

HISTORY_LINES = 5


def _open_items(review: LensReview, *, history: bool) -> dict[str, ImprovementItem]:
    """The review's open items by question id, with assignee (and the latest events)."""
    items = (
        ImprovementItem.objects.filter(answer__lens_review=review, is_open=True)
        .select_related("assignee")
        .annotate(question_key=F("answer__question__question_id"))
    )
    if history:
        latest = ImprovementEvent.objects.select_related("user")[:HISTORY_LINES]
        items = items.annotate(event_count=Count("events")).prefetch_related(
            Prefetch("events", queryset=latest, to_attr="latest_events")
        )
    return {item.question_key: item for item in items}


def plan_of(
    review: LensReview, *, history: bool = False
) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """The lens's pillars as (id, name) and the plan: risky questions in plan order, each with
    its pillar, missing practices, item, `overdue` and `still_risky` (a fixed number of
    queries)."""
    [snapshot] = snapshots.snapshots_of([review])
    items = _open_items(review, history=history)
    today = timezone.localdate()
    entries = []
    prioritised = prioritised_in(review.workload, review.lens.alias)
    for entry in snapshots.improvement_plan(
        snapshot, review.workload.pillar_priorities, prioritised
    ):
        # A risky question always has an open item; None only for answers older than items.
        item = items.get(entry["question"]["id"])
        entry["item"] = item
        entry["overdue"] = item is not None and is_overdue(item, today)
        entry["still_risky"] = item is not None and complete_but_risky(item)
        entries.append(entry)
    return [(pillar["id"], pillar["name"]) for pillar in snapshot["pillars"]], entries


def risk_counts_of(workload_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per workload: how many questions of its active lens reviews have each risk (one query)."""
    rows = (
        Answer.objects.filter(lens_review__workload__in=workload_ids, lens_review__is_active=True)
        .values_list("lens_review__workload_id", "risk")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[int, dict[str, int]] = {}
    for workload_id, risk, n in rows:
        counts.setdefault(workload_id, {})[risk] = n
    return counts


def active_lenses_of(workload_ids: list[int]) -> dict[int, list[Lens]]:
    """Per workload: the lenses its active lens reviews review, built-in first (one query)."""
    reviews = (
        LensReview.objects.filter(workload__in=workload_ids, is_active=True)
        .select_related("lens")
        .order_by("-lens__is_builtin", "lens__name")
    )
    lenses: dict[int, list[Lens]] = {}
    for review in reviews:
        lenses.setdefault(review.workload_id, []).append(review.lens)
    return lenses


def risk_counts_of_reviews(review_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per lens review: how many of its questions have each risk (one query)."""
    rows = (
        Answer.objects.filter(lens_review__in=review_ids)
        .values_list("lens_review_id", "risk")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[int, dict[str, int]] = {}
    for review_id, risk, n in rows:
        counts.setdefault(review_id, {})[risk] = n
    return counts
