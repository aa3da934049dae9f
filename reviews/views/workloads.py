"""Workload pages: the list, create, edit, delete, the detail page and its lenses.

Who may do what: every member reads; the owner and contributors edit the properties and add
lenses; only the owner removes a lens (its answers stay and come back when it is added again)
and deletes the workload.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db import IntegrityError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from lenses.models import Lens, LensVersion, Pillar
from review_templates.selectors import templates_for_list
from review_templates.services import (
    TemplateError,
    templates_asked,
    workload_create_with_templates,
)
from reviews import services
from reviews.dashboard import (
    Filters,
    cached,
    filter_workloads,
    portfolio_stamp,
    team_choices,
    workloads_only,
)
from reviews.errors import NOT_FOUND
from reviews.forms import LensChangeForm, WorkloadFilterForm, WorkloadForm
from reviews.models import (
    MAX_EXTRA_LENSES,
    WRITE_ROLES,
    Role,
    Workload,
)
from reviews.score_selectors import lens_score, review_practices
from reviews.scores import mean_score
from reviews.selectors import (
    add_list_counts,
    builtin_pillars,
    first_unanswered_questions,
    lens_reviews_with_counts,
    members_of,
    sort_annotations,
    with_improvement_status,
    workloads_for_list,
)
from reviews.services import ReviewError
from reviews.upgrades import upgrade_notices
from reviews.views.access import get_workload_for_user
from reviews.views.htmx import wants_partial

# -- list ----------------------------------------------------------------------------------------

COLUMNS = [
    ("name", "Name"),
    ("owner", "Owner"),
    ("environment", "Environment"),
    ("answered", "Questions answered"),
    ("high", "High risks"),
    ("medium", "Medium risks"),
    ("score", "Score"),
    ("improvement", "Improvement status"),
    ("updated", "Last updated"),
]
# Numbers and dates sort the largest or newest first on the first click.
DESCENDING_FIRST = {"answered", "high", "medium", "updated"}
PER_PAGE = 50
FILTERS = ("environment", "tag", "team")


def _filter_params(filters: WorkloadFilterForm) -> dict[str, str]:
    """The current filters, without the sort order and the page."""
    return {key: filters.value(key) for key in FILTERS if filters.value(key)}


def _columns(filters: WorkloadFilterForm) -> list[dict[str, Any]]:
    """Table headers, each with the URL that sorts by it (keeping the filters, from page 1)."""
    current = filters.value("sort") or "name"
    params = _filter_params(filters)
    base = reverse("reviews:workload_list")
    columns = []
    for key, label in COLUMNS:
        column: dict[str, Any] = {
            "key": key,
            "label": label,
            "url": None,
            "sorted": None,
            "num": key in {"answered", "high", "medium", "score"},
        }
        if key in WorkloadFilterForm.SORTS:
            if current.lstrip("-") == key:
                descending = current.startswith("-")
                column["sorted"] = "descending" if descending else "ascending"
                sort = key if descending else f"-{key}"
            else:
                sort = f"-{key}" if key in DESCENDING_FIRST else key
            column["url"] = f"{base}?{urlencode({**params, 'sort': sort})}"
        columns.append(column)
    return columns


def _page_links(page: Page, filters: WorkloadFilterForm) -> dict[str, Any]:
    """URLs of the previous, next and nearby pages, keeping the filters and the sort order."""
    params = _filter_params(filters)
    if sort := filters.value("sort"):
        params["sort"] = sort
    base = reverse("reviews:workload_list")

    def page_url(number: int) -> str:
        return f"{base}?{urlencode({**params, 'page': number})}"

    numbers = []
    for number in page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1):
        if isinstance(number, int):
            numbers.append({"number": number, "url": page_url(number)})
        else:
            numbers.append({"number": None, "url": None})  # the gap between far-apart pages
    return {
        "previous": page_url(page.previous_page_number()) if page.has_previous() else None,
        "next": page_url(page.next_page_number()) if page.has_next() else None,
        "numbers": numbers,
    }


@require_GET
@login_required
def workload_list(request: HttpRequest) -> HttpResponse:
    filters = WorkloadFilterForm(request.GET)
    chosen = Filters(
        environment=filters.value("environment"),
        tag=filters.tag_filter(),
        team=filters.value("team").strip(),
    )
    order = filters.order_by()
    by_counts = sort_annotations(order)

    def matching() -> QuerySet[Workload]:
        workloads = filter_workloads(workloads_for_list(request.user), chosen)
        return workloads.annotate(**by_counts).order_by(*order)

    # How many workloads match and which a page holds change only with the workloads, their
    # shares and, sorted by a count, their lens reviews: cached under the stamps of those, so
    # that a view works out whom the user may see only after one of them changed.
    known = portfolio_stamp(reviews=bool(by_counts))
    what = ("workload list", request.user.pk, chosen, tuple(order))
    total = cached((*what, "count"), lambda: matching().count(), known=known)
    # A page number past the end shows the last page, one that is no number the first; the
    # workloads of the page are then read by their ids.
    page = Paginator(range(total), PER_PAGE).get_page(filters.value("page") or 1)
    first = (page.number - 1) * PER_PAGE
    ids = cached(
        (*what, "page", page.number),
        lambda: list(matching().values_list("pk", flat=True)[first : first + PER_PAGE]),
        known=known,
    )
    found = Workload.objects.with_role_among(request.user, ids).select_related("owner")
    by_pk = {workload.pk: workload for workload in found}
    # Only the workloads on the page are counted.
    page.object_list = add_list_counts([by_pk[pk] for pk in ids if pk in by_pk])
    context = {
        "workloads": page.object_list,
        "page": page,
        "pages": _page_links(page, filters),
        "filters": filters,
        "columns": _columns(filters),
        "is_filtered": any(filters.value(key) for key in FILTERS),
    }
    if wants_partial(request):
        return render(request, "reviews/workload_list.html#rows", context)
    context["known_tags"] = _known_tags(request.user, workloads_only(known))
    context["teams"] = team_choices()
    return render(request, "reviews/workload_list.html", context)


def _known_tags(user: Any, known: tuple) -> list[str]:
    """Tags in use on the user's workloads, offered as suggestions in the tag filter.

    Each set of tags once: far fewer rows than workloads in a large portfolio. Cached under
    `known`, the stamp of the workloads without their lens reviews (reviews.dashboard.cached):
    no query, one to read them again.
    """
    return cached(
        ("known tags", user.pk),
        lambda: _tags_of(Workload.objects.for_user(user)),
        known=known,
        reviews=False,
    )


def _tags_of(visible: QuerySet[Workload]) -> list[str]:
    seen: set[str] = set()
    for tags in visible.order_by().values_list("tags", flat=True).distinct():
        for key, value in (tags or {}).items():
            seen.add(key)
            seen.add(f"{key}={value}")
    return sorted(seen)[:200]


# -- create, edit, delete ------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def workload_create(request: HttpRequest) -> HttpResponse:
    form = WorkloadForm(request.POST or None, pillars=builtin_pillars())
    if request.method == "POST" and form.is_valid():
        try:
            # Review templates to apply at once (review_templates; read access is checked).
            templates = templates_asked(request.user, request.POST.getlist("templates"))
            workload = workload_create_with_templates(
                owner=request.user, templates=templates, **form.workload_fields()
            )
        except (ReviewError, TemplateError) as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        except IntegrityError:
            # Someone took the name between the check and the insert.
            form.add_error("name", services.NAME_TAKEN)
        else:
            messages.success(request, f"Created the workload “{workload.name}”.")
            url = reverse("reviews:workload_detail", args=[workload.public_id])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return _render_form(request, form, None)


@require_http_methods(["GET", "POST"])
@login_required
def workload_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    workload = get_workload_for_user(request, public_id, write=True)
    # The form writes into a copy, so the page still shows the saved name after an error.
    form = WorkloadForm(
        request.POST or None, instance=copy.copy(workload), pillars=builtin_pillars()
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.workload_update(workload=workload, user=request.user, **form.workload_fields())
        except ReviewError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Saved the workload properties.")
            url = reverse("reviews:workload_detail", args=[public_id])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return _render_form(request, form, workload)


def _render_form(
    request: HttpRequest, form: WorkloadForm, workload: Workload | None
) -> HttpResponse:
    context = {"form": form, "workload": workload}
    if workload is None:
        context["templates_to_apply"] = templates_for_list(request.user)
        context["templates_asked"] = request.POST.getlist("templates")
    if wants_partial(request):
        return render(request, "reviews/workload_form.html#form", context)
    return render(request, "reviews/workload_form.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def workload_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    workload = get_workload_for_user(request, public_id, owner=True)
    if request.method == "POST":
        name = workload.name
        services.workload_delete(workload=workload, user=request.user)
        messages.success(request, f"Deleted the workload “{name}” and all its answers.")
        url = reverse("reviews:workload_list")
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    [counts] = add_list_counts([workload])
    return render(
        request, "reviews/workload_confirm_delete.html", {"workload": workload, "counts": counts}
    )


# -- detail and lenses ---------------------------------------------------------------------------


@require_GET
@login_required
def workload_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    workload = get_workload_for_user(request, public_id)
    return _render_detail(request, workload, LensChangeForm())


@require_POST
@login_required
def workload_lenses(request: HttpRequest, public_id: str) -> HttpResponse:
    """Add a published lens (owner, contributor) or remove one (owner only)."""
    removing = request.POST.get("action") == "remove"
    workload = get_workload_for_user(request, public_id, write=True, owner=removing)
    form = LensChangeForm(request.POST)
    notice = None
    if form.is_valid():
        lens = _visible_lens(request.user, form.cleaned_data["lens"])
        try:
            if lens is None:
                raise ReviewError("There is no such lens.", NOT_FOUND)
            if form.cleaned_data["action"] == "remove":
                services.workload_remove_lens(workload=workload, lens=lens)
                notice = f"Removed “{lens.name}”. Its answers are kept if you add it again."
            else:
                services.workload_add_lens(workload=workload, lens=lens)
                notice = f"Added “{lens.name}”."
        except ReviewError as exc:
            form.add_error(None, str(exc))
    if notice and not request.htmx:
        messages.success(request, notice)
        return redirect("reviews:workload_detail", public_id=public_id)
    return _render_detail(request, workload, form if form.errors else LensChangeForm(), notice)


def _visible_lens(user, alias: str) -> Lens | None:
    """The lens as the lens pages find it: only staff see a lens that has nothing but a draft.

    Anyone else is told there is no such lens, as those pages say, rather than a message
    naming the draft. Every lens a workload reviews has a version past draft, so this finds
    all of them.
    """
    with_visible_version = LensVersion.objects.visible_to(user).values("lens")
    return Lens.objects.filter(alias=alias, pk__in=with_visible_version).first()


def _render_detail(
    request: HttpRequest,
    workload: Workload,
    lens_form: LensChangeForm,
    notice: str | None = None,
) -> HttpResponse:
    reviews = [with_improvement_status(r) for r in lens_reviews_with_counts(workload)]
    active = [review for review in reviews if review.is_active]
    continue_at = first_unanswered_questions(workload, active)
    for review in active:
        review.continue_question_id = continue_at.get(review.pk)
    practices = review_practices(active)
    for review in active:
        review.score = lens_score(practices.get(review.pk, {}))
    removed = {review.lens_id for review in reviews if not review.is_active}
    can_write = workload.role in WRITE_ROLES
    notices = upgrade_notices(active) if can_write else {}
    for review in active:
        review.workload = workload
        review.upgrade_notice = notices.get(review.pk)
    extra = sum(1 for review in active if not review.lens.is_builtin)
    addable = []
    if can_write:
        addable = list(
            Lens.objects.filter(is_builtin=False, versions__status=LensVersion.Status.PUBLISHED)
            .exclude(pk__in=[review.lens_id for review in active])
            .distinct()
            .order_by("name")
        )
        for lens in addable:
            lens.was_removed = lens.pk in removed
    totals = {
        key: sum(getattr(review, key) for review in active)
        for key in ("items", "not_started", "in_progress", "acknowledged")
    }
    context = {
        "workload": workload,
        "lens_reviews": active,
        "workload_score": mean_score(review.score for review in active),
        "improvement_totals": with_improvement_status(SimpleNamespace(**totals)),
        "addable_lenses": addable,
        "lens_form": lens_form,
        "notice": notice,
        "can_write": can_write,
        "is_owner": workload.role == Role.OWNER,
        "extra_lenses": extra,
        "max_extra_lenses": MAX_EXTRA_LENSES,
        "at_lens_limit": extra >= MAX_EXTRA_LENSES,
    }
    if wants_partial(request):
        return render(request, "reviews/workload_detail.html#lenses", context)
    # As in add_list_counts: answers and notes move their lens review's time, not the workload's
    # (a tick locks no workload row), so the page shows the latest of them all.
    context["last_updated"] = max([workload.updated_at, *(r.updated_at for r in reviews)])
    builtin = next((review for review in active if review.lens.is_builtin), None)
    names = {}
    if builtin is not None:
        names = dict(
            Pillar.objects.filter(lens_version=builtin.lens_version_id).values_list(
                "pillar_id", "name"
            )
        )
    context["priorities"] = [names.get(pid, pid) for pid in workload.pillar_priorities]
    members = list(members_of(workload))
    context["members"] = members
    # The owner comes with the members, which saves a query for `workload.owner`.
    context["owner"] = next((m.user for m in members if m.role == Role.OWNER), None)
    return render(request, "reviews/workload_detail.html", context)
