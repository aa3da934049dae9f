"""The improvement plan of a lens review: its risky questions and the work tracked on each.

The plan comes from the live snapshot (reviews.snapshots), so it is ordered exactly like the
plan frozen in a milestone: high risk first, then the workload's pillar priorities, then lens
order. Every member reads it; the owner and contributors edit the items inline.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from reviews import snapshots
from reviews.improvements import ImprovementError, ItemChange, improvement_item_update, is_overdue
from reviews.models import (
    NOTES_MAX,
    WRITE_ROLES,
    AnswerRisk,
    ImprovementEvent,
    ImprovementItem,
    ImprovementStatus,
    LensReview,
    WorkloadMember,
)
from reviews.views.access import get_lens_review_for_user
from reviews.views.workloads import wants_partial

HISTORY_LINES = 5
OVERDUE = "OVERDUE"
RISK_FILTERS = [(AnswerRisk.HIGH, "High risk"), (AnswerRisk.MEDIUM, "Medium risk")]
STATUS_FILTERS = [*ImprovementStatus.choices, (OVERDUE, "Overdue")]


# -- the plan ------------------------------------------------------------------------------------


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
    its pillar, missing practices, item and `overdue` (a fixed number of queries)."""
    [snapshot] = snapshots.snapshots_of([review])
    items = _open_items(review, history=history)
    today = timezone.localdate()
    entries = []
    for entry in snapshots.improvement_plan(snapshot, review.workload.pillar_priorities):
        # A risky question always has an open item; None only for answers older than items.
        item = items.get(entry["question"]["id"])
        entry["item"] = item
        entry["overdue"] = item is not None and is_overdue(item, today)
        entries.append(entry)
    return [(pillar["id"], pillar["name"]) for pillar in snapshot["pillars"]], entries


def plan_pillars(review: LensReview) -> list[tuple[str, str]]:
    return list(review.lens_version.pillars.order_by("order").values_list("pillar_id", "name"))


def plan_filters(request: HttpRequest, pillars: list[tuple[str, str]]) -> dict[str, str]:
    """The pillar, risk and status asked for; unknown values count as no filter."""
    allowed = {
        "pillar": {pillar_id for pillar_id, _ in pillars},
        "risk": {value for value, _ in RISK_FILTERS},
        "status": {value for value, _ in STATUS_FILTERS},
    }
    return {
        key: value if (value := request.GET.get(key, "")) in values else ""
        for key, values in allowed.items()
    }


def filter_entries(entries: list[dict[str, Any]], filters: dict[str, str]) -> list[dict]:
    def keep(entry: dict[str, Any]) -> bool:
        if filters["pillar"] and entry["pillar"]["id"] != filters["pillar"]:
            return False
        if filters["risk"] and entry["question"]["risk"] != filters["risk"]:
            return False
        if filters["status"] == OVERDUE:
            return entry["overdue"]
        if filters["status"]:
            return entry["item"] is not None and entry["item"].status == filters["status"]
        return True

    return [entry for entry in entries if keep(entry)]


def filter_query(filters: dict[str, str]) -> str:
    return urlencode({key: value for key, value in filters.items() if value})


def plan_summary(entries: list[dict[str, Any]]) -> dict[str, int]:
    return {
        "high": sum(1 for e in entries if e["question"]["risk"] == AnswerRisk.HIGH),
        "medium": sum(1 for e in entries if e["question"]["risk"] == AnswerRisk.MEDIUM),
        "overdue": sum(1 for e in entries if e["overdue"]),
        "total": len(entries),
    }


# -- the item form -------------------------------------------------------------------------------


class ItemForm(forms.Form):
    status = forms.ChoiceField(choices=ImprovementStatus.choices)
    assignee = forms.TypedChoiceField(
        coerce=int,
        empty_value=None,
        required=False,
        error_messages={
            "invalid_choice": "The assignee must be someone this workload is shared with."
        },
    )
    due_date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter the due date as a date, like 2030-06-30."},
    )
    comment = forms.CharField(
        required=False,
        max_length=NOTES_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "max_length": f"The comment is at most {NOTES_MAX:,} characters "
            "(it has %(show_value)d)."
        },
    )

    def __init__(self, *args, item: ImprovementItem, members: list[WorkloadMember], **kwargs):
        self.item = item
        kwargs.setdefault("auto_id", f"item-{item.pk}-%s")
        kwargs.setdefault("label_suffix", "")
        if not args and "data" not in kwargs:
            kwargs["initial"] = {
                "status": item.status,
                "assignee": item.assignee_id,
                "due_date": item.due_date,
                "comment": item.comment,
            }
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", "Nobody"), *_assignee_choices(members)]

    def change(self) -> ItemChange:
        data = self.cleaned_data
        return ItemChange(data["status"], data["assignee"], data["due_date"], data["comment"])


def _assignee_choices(members: list[WorkloadMember]) -> list[tuple[int, str]]:
    choices = []
    for member in members:
        user = member.user
        name = user.get_full_name()
        label = f"{name} ({user.get_username()})" if name else user.get_username()
        choices.append((user.pk, label))
    return choices


def workload_members(review: LensReview) -> list[WorkloadMember]:
    """Everyone the workload is shared with: the people an item may be assigned to."""
    return list(
        WorkloadMember.objects.filter(workload=review.workload_id)
        .select_related("user")
        .order_by("user__username")
    )


# -- views ---------------------------------------------------------------------------------------


def _add_forms(
    entries: list[dict[str, Any]],
    members: list[WorkloadMember],
    bound: ItemForm | None = None,
) -> None:
    """Give each tracked entry its edit form; `bound` (with the typed values) replaces one."""
    member_ids = {member.user_id for member in members}
    for entry in entries:
        item = entry["item"]
        if item is None:
            continue
        if bound is not None and bound.item.pk == item.pk:
            entry["form"] = bound
        else:
            entry["form"] = ItemForm(item=item, members=members)
        entry["assignee_gone"] = bool(item.assignee_id and item.assignee_id not in member_ids)


def _plan_context(
    request: HttpRequest, review: LensReview, bound: ItemForm | None = None
) -> dict[str, Any]:
    workload = review.workload
    can_write = workload.role in WRITE_ROLES
    pillars, entries = plan_of(review, history=True)
    filters = plan_filters(request, pillars)
    shown = filter_entries(entries, filters)
    if can_write:
        _add_forms(shown, workload_members(review), bound)
    return {
        "workload": workload,
        "review": review,
        "pillars": pillars,
        "filters": filters,
        "filter_query": filter_query(filters),
        "plan_url": reverse(
            "reviews:improvement_plan", args=[workload.public_id, review.lens.alias]
        ),
        "is_filtered": any(filters.values()),
        "risk_filters": RISK_FILTERS,
        "status_filters": STATUS_FILTERS,
        "entries": shown,
        "summary": plan_summary(entries),
        "can_write": can_write,
    }


@require_GET
@login_required
def improvement_plan(request: HttpRequest, public_id: str, alias: str) -> HttpResponse:
    review = get_lens_review_for_user(request, public_id, alias)
    context = _plan_context(request, review)
    if wants_partial(request):
        return render(request, "reviews/improvement_plan.html#items", context)
    return render(request, "reviews/improvement_plan.html", context)


CLOSED_MESSAGE = (
    "This question is no longer high or medium risk, so its item closed by itself. "
    "Reload the plan to see where things stand."
)


def _back_to_plan(request: HttpRequest, review: LensReview) -> str:
    """The plan's URL with the filters the form was posted with (they ride on its action)."""
    url = reverse("reviews:improvement_plan", args=[review.workload.public_id, review.lens.alias])
    query = filter_query(plan_filters(request, plan_pillars(review)))
    return f"{url}?{query}" if query else url


def _closed(request: HttpRequest, review: LensReview, item: ImprovementItem) -> HttpResponse:
    """Someone changed the answer while the form was open: the item is not in the plan now."""
    if not request.htmx:
        messages.error(request, CLOSED_MESSAGE)
        return redirect(_back_to_plan(request, review))
    context = {"item": item, "closed_message": CLOSED_MESSAGE}
    return render(request, "reviews/improvement_plan.html#closed-item", context)


@require_POST
@login_required
def improvement_update(
    request: HttpRequest, public_id: str, alias: str, item_id: int
) -> HttpResponse:
    """Save an item's status, assignee, due date and comment (owner and contributors).

    htmx gets the item's card back (and the summary line, out of band); a plain post goes back
    to the plan. Invalid input comes back with 200 and the typed values, so htmx swaps it in.
    """
    review = get_lens_review_for_user(request, public_id, alias, write=True)
    item = (
        ImprovementItem.objects.filter(pk=item_id, answer__lens_review=review)
        .select_related("answer__question")
        .first()
    )
    if item is None:
        raise Http404("No such improvement item in this review.")
    if not item.is_open:
        return _closed(request, review, item)
    members = workload_members(review)
    data = request.POST.copy()
    data["comment"] = data.get("comment", "").replace("\r\n", "\n")
    form = ItemForm(data, item=item, members=members)
    if form.is_valid():
        try:
            improvement_item_update(item=item, change=form.change(), user=request.user)
        except ImprovementError as exc:
            form.add_error(None, str(exc))
    saved = not form.errors
    if not request.htmx:
        if saved:
            title = item.answer.question.title
            messages.success(request, f"Saved the improvement item of “{title}”.")
            return redirect(f"{_back_to_plan(request, review)}#item-{item.pk}")
        context = _plan_context(request, review, form)
        return render(request, "reviews/improvement_plan.html", context)
    pillars, entries = plan_of(review, history=True)
    entry = next((e for e in entries if e["item"] and e["item"].pk == item.pk), None)
    if entry is None:
        return _closed(request, review, item)
    _add_forms([entry], members, None if saved else form)
    context = {
        "workload": review.workload,
        "review": review,
        "can_write": True,
        "filter_query": filter_query(plan_filters(request, pillars)),
        "summary": plan_summary(entries),
        "entry": entry,
        "saved": saved,
    }
    return render(request, "reviews/improvement_plan.html#item-response", context)
