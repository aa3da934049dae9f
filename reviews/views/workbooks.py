"""Excel downloads (reviews.workbooks builds the files): a workload's answers, a lens review's
improvement plan and the dashboard's workload table. Each is read like its page or its CSV
sibling, with the same access; the consolidated report's workbook is a report format
(reviews.reports).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from profiles.selectors import prioritised_questions
from reviews import snapshots, workbooks
from reviews.activity import Action, activity_record
from reviews.dashboard import portfolio
from reviews.models import Workload
from reviews.selectors import plan_of
from reviews.views.access import get_lens_review_for_user, get_workload_for_user
from reviews.views.dashboard import FILTER_KEYS, DashboardFilterForm
from reviews.views.improvements import filter_entries, plan_filters


def _response(filename: str, content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type=workbooks.CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    # The files hold review answers: no shared caches.
    response["Cache-Control"] = "private, no-store"
    return response


def _name(workload: Workload) -> str:
    return slugify(workload.name) or "workload"


@require_GET
@login_required
def answers_xlsx(request: HttpRequest, public_id: str) -> HttpResponse:
    """Every active lens review of the workload, a sheet each, a row per question."""
    workload = get_workload_for_user(request, public_id)
    content = workbooks.answers_workbook(
        snapshots.workload_snapshots(workload), prioritised_questions(workload)
    )
    activity_record(
        workload=workload,
        user=request.user,
        action=Action.EXPORTED,
        what="the answers of every lens as Excel",
    )
    return _response(f"{_name(workload)}-answers.xlsx", content)


@require_GET
@login_required
def improvement_xlsx(request: HttpRequest, public_id: str, alias: str) -> HttpResponse:
    """The plan in plan order, with the same filters as the plan page (and its CSV)."""
    review = get_lens_review_for_user(request, public_id, alias)
    pillars, entries = plan_of(review)
    content = workbooks.plan_workbook(filter_entries(entries, plan_filters(request, pillars)))
    activity_record(
        workload=review.workload,
        user=request.user,
        action=Action.EXPORTED,
        what=f"the improvement plan of {review.lens.name} as Excel",
    )
    return _response(f"{_name(review.workload)}-{review.lens.alias}-improvement-plan.xlsx", content)


ALL_WORKLOADS = 2**31 - 1


@require_GET
@login_required
def dashboard_xlsx(request: HttpRequest) -> HttpResponse:
    """The dashboard's workload table, every page of it, under the dashboard's filters."""
    form = DashboardFilterForm(request.GET)
    chosen = form.filters()
    # One page holding every workload: the dashboard reads its pages from the kept counts.
    data = portfolio(request.user, chosen, per_page=ALL_WORKLOADS)
    filters = {key: form.value(key) for key in FILTER_KEYS}
    # As on the page: a question filter that names no question filters nothing.
    filters["question"] = ":".join(chosen.question) if chosen.question else ""
    content = workbooks.dashboard_workbook(data, filters)
    return _response(f"archlens-dashboard-{timezone.localdate().isoformat()}.xlsx", content)
