"""The improvement plan of a lens review: its risky questions and the work tracked on each.

The plan comes from the live snapshot (reviews.snapshots), so it is ordered exactly like the
plan frozen in a milestone: the questions the workload's profile prioritises first, then high
risk, then the workload's pillar priorities, then lens order. Every member reads it; the owner
and contributors edit the items inline.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reviews.forms_improvements import BulkForm, ItemForm
from reviews.improvements import (
    ImprovementError,
    complete_but_risky,
    improvement_item_update,
    improvement_items_bulk_update,
)
from reviews.models import (
    WRITE_ROLES,
    AnswerRisk,
    ImprovementItem,
    ImprovementStatus,
    LensReview,
    sharing_users,
)
from reviews.selectors import plan_of
from reviews.views.access import get_lens_review_for_user
from reviews.views.htmx import wants_partial

OVERDUE = "OVERDUE"
RISK_FILTERS = [(AnswerRisk.HIGH, "High risk"), (AnswerRisk.MEDIUM, "Medium risk")]
STATUS_FILTERS = [*ImprovementStatus.choices, (OVERDUE, "Overdue")]


# -- the plan ------------------------------------------------------------------------------------


def plan_pillars(review: LensReview) -> list[tuple[str, str]]:
    return list(review.lens_version.pillars.order_by("order").values_list("pillar_id", "name"))


def plan_filters(request: HttpRequest, pillars: list[tuple[str, str]]) -> dict[str, str]:
    """The pillar, risk and status asked for; unknown values count as no filter."""
    allowed = {
        "pillar": {pillar_id for pillar_id, _ in pillars},
        "risk": {value for value, _ in RISK_FILTERS},
        "status": {value for value, _ in STATUS_FILTERS},
        # "1": only the questions the workload's profile prioritises
        "prioritised": {"1"},
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
        if filters["prioritised"] and not entry["prioritised"]:
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
        "prioritised": sum(1 for e in entries if e["prioritised"]),
        "total": len(entries),
    }


# -- views ---------------------------------------------------------------------------------------


def assignable_people(review: LensReview) -> list[AbstractBaseUser]:
    """Everyone the workload is shared with, themselves or through a team: the people an item
    may be assigned to."""
    return list(sharing_users(review.workload_id))


def _mark_assignees(entries: list[dict[str, Any]], people: list[AbstractBaseUser]) -> None:
    """Flag the entries whose assignee lost access to the workload since being assigned."""
    ids = {person.pk for person in people}
    for entry in entries:
        item = entry["item"]
        entry["assignee_gone"] = bool(item and item.assignee_id and item.assignee_id not in ids)


def _plan_context(
    request: HttpRequest,
    review: LensReview,
    *,
    bulk_form: BulkForm | None = None,
    notices: list[tuple[str, str]] = (),
) -> dict[str, Any]:
    workload = review.workload
    can_write = workload.role in WRITE_ROLES
    pillars, entries = plan_of(review, history=True)
    people = assignable_people(review)
    filters = plan_filters(request, pillars)
    shown = filter_entries(entries, filters)
    _mark_assignees(shown, people)
    if can_write and bulk_form is None:
        bulk_form = BulkForm(people=people)
    query = filter_query(filters)
    return {
        "workload": workload,
        "review": review,
        "pillars": pillars,
        "filters": filters,
        "filter_query": query,
        "plan_url": _plan_url(review),
        "bulk_url": _with_query(
            reverse("reviews:improvement_bulk", args=[workload.public_id, review.lens.alias]),
            query,
        ),
        "is_filtered": any(filters.values()),
        "risk_filters": RISK_FILTERS,
        "status_filters": STATUS_FILTERS,
        "entries": shown,
        "summary": plan_summary(entries),
        "can_write": can_write,
        "bulk_form": bulk_form,
        "ticked": bulk_form.ticked() if bulk_form is not None else set(),
        "notices": notices,
    }


@require_GET
@login_required
def improvement_plan(request: HttpRequest, public_id: str, alias: str) -> HttpResponse:
    """The plan as a table: every member reads it, owners and contributors edit it in place."""
    review = get_lens_review_for_user(request, public_id, alias)
    context = _plan_context(request, review)
    if wants_partial(request):
        return render(request, "reviews/improvement_plan.html#items", context)
    return render(request, "reviews/improvement_plan.html", context)


CLOSED_MESSAGE = (
    "This question is no longer high or medium risk, so its item closed by itself. "
    "Reload the plan to see where things stand."
)


def still_risky_message(item: ImprovementItem) -> str:
    risk = AnswerRisk(item.answer.risk).label.lower()
    return (
        f"“{item.answer.question.title}” is marked complete but is still {risk}: "
        "it stays in the plan until its answers show the improvement."
    )


def _plan_url(review: LensReview) -> str:
    return reverse("reviews:improvement_plan", args=[review.workload.public_id, review.lens.alias])


def _with_query(url: str, query: str) -> str:
    return f"{url}?{query}" if query else url


def _back_to_plan(request: HttpRequest, review: LensReview) -> str:
    """The plan's URL with the filters the form was posted with (they ride on its action)."""
    query = filter_query(plan_filters(request, plan_pillars(review)))
    return _with_query(_plan_url(review), query)


def _item_of(review: LensReview, item_id: int) -> ImprovementItem:
    item = (
        ImprovementItem.objects.filter(pk=item_id, answer__lens_review=review)
        .select_related("answer__question")
        .first()
    )
    if item is None:
        raise Http404("No such improvement item in this review.")
    return item


def _entry_of(entries: list[dict[str, Any]], item: ImprovementItem) -> dict[str, Any] | None:
    return next((e for e in entries if e["item"] and e["item"].pk == item.pk), None)


def _closed(request: HttpRequest, review: LensReview, item: ImprovementItem) -> HttpResponse:
    """Someone changed the answer while the form was open: the item is not in the plan now."""
    if not request.htmx:
        messages.error(request, CLOSED_MESSAGE)
        return redirect(_back_to_plan(request, review))
    context = {"item": item, "closed_message": CLOSED_MESSAGE, "can_write": True}
    return render(request, "reviews/improvement_plan.html#closed-row", context)


def _row_context(
    request: HttpRequest, review: LensReview, entry: dict[str, Any], pillars: list[tuple[str, str]]
) -> dict[str, Any]:
    return {
        "workload": review.workload,
        "review": review,
        "can_write": review.workload.role in WRITE_ROLES,
        "filter_query": filter_query(plan_filters(request, pillars)),
        "entry": entry,
    }


def _edit_response(
    request: HttpRequest, review: LensReview, item: ImprovementItem, form: ItemForm
) -> HttpResponse:
    """The item's form: in place of its row for htmx, else on a page of its own."""
    pillars, entries = plan_of(review, history=True)
    entry = _entry_of(entries, item)
    if entry is None:
        return _closed(request, review, item)
    context = {**_row_context(request, review, entry, pillars), "form": form}
    if wants_partial(request):
        return render(request, "reviews/improvement_plan.html#edit-row", context)
    context["plan_url"] = _back_to_plan(request, review)
    return render(request, "reviews/improvement_item.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def improvement_update(
    request: HttpRequest, public_id: str, alias: str, item_id: int
) -> HttpResponse:
    """Edit one item's status, assignee, due date and comment (owner and contributors).

    GET gives the form: for htmx a table row that replaces the item's row, else a page. A saved
    change gives htmx the item's row back (and the summary, out of band); a plain post goes back
    to the plan. Invalid input comes back with 200 and the typed values, so htmx swaps it in.
    """
    review = get_lens_review_for_user(request, public_id, alias, write=True)
    item = _item_of(review, item_id)
    if not item.is_open:
        return _closed(request, review, item)
    people = assignable_people(review)
    if request.method == "GET":
        return _edit_response(request, review, item, ItemForm(item=item, people=people))
    data = request.POST.copy()
    data["comment"] = data.get("comment", "").replace("\r\n", "\n")
    form = ItemForm(data, item=item, people=people)
    if form.is_valid():
        try:
            item = improvement_item_update(item=item, change=form.change(), user=request.user)
        except ImprovementError as exc:
            form.add_error(None, str(exc))
    if form.errors:
        return _edit_response(request, review, form.item, form)
    item = _item_of(review, item_id)
    warning = still_risky_message(item) if complete_but_risky(item) else ""
    if not request.htmx:
        messages.success(request, f"Saved the improvement item of “{item.answer.question.title}”.")
        if warning:
            messages.warning(request, warning)
        return redirect(f"{_back_to_plan(request, review)}#item-{item.pk}")
    pillars, entries = plan_of(review, history=True)
    entry = _entry_of(entries, item)
    if entry is None:
        return _closed(request, review, item)
    _mark_assignees([entry], people)
    context = {
        **_row_context(request, review, entry, pillars),
        "summary": plan_summary(entries),
        "saved": True,
        "notices": [("warning", warning)] if warning else [],
    }
    return render(request, "reviews/improvement_plan.html#row-response", context)


@require_GET
@login_required
def improvement_row(request: HttpRequest, public_id: str, alias: str, item_id: int) -> HttpResponse:
    """One item's row as the plan shows it: what "Cancel" puts back in place of the form."""
    review = get_lens_review_for_user(request, public_id, alias)
    item = _item_of(review, item_id)
    if not wants_partial(request):
        return redirect(f"{_back_to_plan(request, review)}#item-{item.pk}")
    pillars, entries = plan_of(review, history=True)
    entry = _entry_of(entries, item)
    if entry is None:
        return _closed(request, review, item)
    _mark_assignees([entry], assignable_people(review))
    return render(
        request,
        "reviews/improvement_plan.html#row",
        _row_context(request, review, entry, pillars),
    )


@require_POST
@login_required
def improvement_bulk(request: HttpRequest, public_id: str, alias: str) -> HttpResponse:
    """One change (status, assignee, due date) for the ticked items: all of them or none."""
    review = get_lens_review_for_user(request, public_id, alias, write=True)
    people = assignable_people(review)
    form = BulkForm(request.POST, people=people)
    changed: list[ImprovementItem] = []
    if form.is_valid():
        try:
            changed = improvement_items_bulk_update(
                review=review,
                item_ids=form.cleaned_data["items"],
                change=form.change(),
                user=request.user,
            )
        except ImprovementError as exc:
            form.add_error(None, str(exc))
    if form.errors:
        notices = [("error", "Nothing was changed. " + " ".join(_form_errors(form)))]
        context = _plan_context(request, review, bulk_form=form, notices=notices)
        template = "#items" if wants_partial(request) else ""
        return render(request, f"reviews/improvement_plan.html{template}", context)
    count = len(form.cleaned_data["items"])
    if not changed:
        said = "Nothing to change: the ticked items have these values already."
    elif len(changed) < count:
        said = (
            f"Changed {len(changed)} of {count} ticked items; the others had these values already."
        )
    else:
        said = f"Changed {count} item{'s' if count != 1 else ''}."
    notices = [("success", said)]
    notices += [
        ("warning", still_risky_message(item)) for item in changed if complete_but_risky(item)
    ]
    if not request.htmx:
        for level, text in notices:
            getattr(messages, level)(request, text)
        return redirect(_back_to_plan(request, review))
    context = _plan_context(request, review, notices=notices)
    return render(request, "reviews/improvement_plan.html#bulk-response", context)


def _form_errors(form: BulkForm) -> list[str]:
    """Every message of the form; each one reads on its own, without its field's name."""
    return [error for errors in form.errors.values() for error in errors]
