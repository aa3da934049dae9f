"""Report pages: ask for a report, watch it being built, download it, retry it.

Who may do what: every member of a workload (read-only ones too) may ask for, download and
retry its lens review reports — a report shows nothing its reader cannot already see on the
review pages. A consolidated report covers the workloads of the person who asked for it, so
only that person sees, downloads or retries it. Anyone else gets a 404, as for workloads.
Retrying is asking again: it counts against the limit of reports waiting of whoever retries,
and the report is theirs from then on.

Pending reports poll their own row (htmx, every 2 s); the row stops polling once the report is
done or failed, because only QUEUED and RUNNING rows carry the polling attributes.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lenses.models import Lens
from reviews import workbooks
from reviews.forms_reports import ConsolidatedReportForm, LensReportForm
from reviews.models import LensReview, Report, Workload
from reviews.reports.services import (
    PENDING,
    ReportError,
    report_request,
    report_retry,
    reports_recover_stale,
)
from reviews.views.access import get_workload_for_user
from reviews.views.htmx import wants_partial

logger = logging.getLogger(__name__)

# The lists show the newest reports.
LIST_LIMIT = 50
# A report queued for longer than this probably waits for a worker that is not running.
WAITING_HINT_AFTER = timedelta(minutes=2)
CONTENT_TYPES = {
    Report.Format.PDF: "application/pdf",
    Report.Format.JSON: "application/json",
    Report.Format.XLSX: workbooks.CONTENT_TYPE,
}
EXTENSIONS = {Report.Format.PDF: "pdf", Report.Format.JSON: "json", Report.Format.XLSX: "xlsx"}


def _reports(queryset: QuerySet[Report]) -> QuerySet[Report]:
    # The milestone's frozen data is large and not needed to list reports.
    return queryset.select_related("requested_by", "lens", "milestone").defer("milestone__data")


def _decorate(report: Report) -> Report:
    """Add what the row template needs: its URLs, labels and hints."""
    if report.kind == Report.Kind.LENS_REVIEW:
        args = [report.workload.public_id, report.pk]
        names = ("report", "report_download", "report_retry")
        state = (
            f"Milestone {report.milestone.number}: {report.milestone.name}"
            if report.milestone_id
            else "Current state"
        )
        report.title = f"{report.lens.name} · {state}" if report.lens else state
    else:
        args = [report.pk]
        names = ("consolidated_report", "consolidated_download", "consolidated_retry")
        described = ", ".join(
            f"{key} {value}" for key, value in report.filters.items() if key != "paper"
        )
        report.title = f"Consolidated {report.get_format_display()}" + (
            f" ({described})" if described else ""
        )
    report.status_url, report.download_url, report.retry_url = (
        reverse(f"reviews:{name}", args=args) for name in names
    )
    report.is_pending = report.status in PENDING
    report.build_time = (
        _duration(report.finished_at - report.started_at)
        if report.status == Report.Status.DONE and report.started_at and report.finished_at
        else ""
    )
    report.waiting_long = (
        report.status == Report.Status.QUEUED
        and timezone.now() - report.created_at > WAITING_HINT_AFTER
        and not report.attempts
    )
    return report


def _duration(elapsed: timedelta) -> str:
    seconds = max(1, round(elapsed.total_seconds()))
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60} s"


def _recovered(report: Report) -> bool:
    """Whether the report was stale (its worker died, or the queue lost it) and has been
    queued again or failed."""
    if report.status not in PENDING:
        return False
    counts = reports_recover_stale(reports=Report.objects.filter(pk=report.pk))
    return any(counts.values())


def _row(request: HttpRequest, report: Report) -> HttpResponse:
    return render(request, "reports/_report_row.html", {"report": _decorate(report)})


def _download(report: Report, filename: str) -> HttpResponse:
    if report.status != Report.Status.DONE or not report.file:
        raise Http404("This report has no file yet.")
    try:
        file = report.file.open("rb")
    except FileNotFoundError:
        raise Http404("The report's file is missing; ask for the report again.") from None
    except OSError:  # the disk or the bucket (config.file_storage.StorageUnavailable)
        logger.warning("cannot open %s", report.file.name, exc_info=True)
        response = HttpResponse(
            "The report files cannot be reached at the moment. Try again in a minute.",
            content_type="text/plain; charset=utf-8",
            status=503,
        )
        response["Retry-After"] = "30"
        return response
    response = FileResponse(file, content_type=CONTENT_TYPES[report.format])
    if not response.has_header("Content-Length"):
        # An object streamed from the bucket cannot seek to its end; its size came with it.
        response["Content-Length"] = file.file.size
    response["Content-Disposition"] = content_disposition_header(True, filename)
    # Reports hold review answers: no shared caches.
    response["Cache-Control"] = "private, no-store"
    return response


def _extension(report: Report) -> str:
    return EXTENSIONS[report.format]


# -- lens review reports -------------------------------------------------------------------------


def _lens_review_form(
    request: HttpRequest, workload: Workload, *, bound: bool = True
) -> LensReportForm:
    reviews = list(
        LensReview.objects.filter(workload=workload, is_active=True).select_related("lens")
    )
    milestones = list(workload.milestones.defer("data").order_by("number"))
    initial = {"lens": next((r.lens.alias for r in reviews if r.lens.is_builtin), None)}
    form = LensReportForm(
        request.POST if bound and request.method == "POST" else None,
        lens_reviews=reviews,
        milestones=milestones,
        initial=initial,
    )
    form.milestone_objects = {m.number: m for m in milestones}
    return form


def _ask_for_lens_review(request: HttpRequest, workload: Workload, form: LensReportForm):
    """Validate the choice and ask for the report; None (with form errors) when refused."""
    lens = Lens.objects.filter(alias=form.cleaned_data["lens"]).first()
    milestone = form.milestone_objects.get(form.cleaned_data["milestone"])
    if lens is None:
        form.add_error("lens", "There is no such lens.")
        return None
    if milestone is not None:
        frozen = workload.milestones.filter(pk=milestone.pk).values_list("data", flat=True)[0]
        aliases = {s["lens"]["alias"] for s in (frozen or {}).get("lens_reviews", [])}
        if lens.alias not in aliases:
            form.add_error(
                "milestone", f"“{lens.name}” was not reviewed when this milestone was saved."
            )
            return None
    try:
        return report_request(
            user=request.user,
            kind=Report.Kind.LENS_REVIEW,
            workload=workload,
            lens=lens,
            milestone=milestone,
            filters={"paper": form.cleaned_data["paper"]},
        )
    except ReportError as exc:
        form.add_error(None, str(exc))
        return None


@require_http_methods(["GET", "POST"])
@login_required
def workload_reports(request: HttpRequest, public_id: str) -> HttpResponse:
    """The workload's reports, newest first, and the form to ask for one (any member)."""
    workload = get_workload_for_user(request, public_id)
    form = _lens_review_form(request, workload)
    notice = error = ""
    if request.method == "POST" and form.is_valid():
        report = _ask_for_lens_review(request, workload, form)
        if report is not None:
            if report.status == Report.Status.FAILED:
                error = report.error
            else:
                notice = "Report queued. It appears below when it is ready."
            if not request.htmx:
                if error:
                    messages.error(request, error)
                else:
                    messages.success(request, notice)
                return redirect("reviews:reports", public_id=public_id)
            form = _lens_review_form(request, workload, bound=False)
    reports_recover_stale(reports=Report.objects.filter(workload=workload))
    reports = _reports(workload.reports.filter(kind=Report.Kind.LENS_REVIEW))[:LIST_LIMIT]
    for report in reports:
        report.workload = workload
        _decorate(report)
    context = {
        "workload": workload,
        "form": form,
        "reports": reports,
        "notice": notice,
        "error": error,
    }
    if wants_partial(request):
        return render(request, "reports/workload_reports.html#reports", context)
    return render(request, "reports/workload_reports.html", context)


def _workload_report(request: HttpRequest, public_id: str, report_id: int) -> Report:
    workload = get_workload_for_user(request, public_id)
    report = (
        _reports(Report.objects.filter(workload=workload, kind=Report.Kind.LENS_REVIEW))
        .filter(pk=report_id)
        .first()
    )
    if report is None:
        raise Http404("No such report.")
    report.workload = workload
    return report


@require_GET
@login_required
def report(request: HttpRequest, public_id: str, report_id: int) -> HttpResponse:
    """One report's status: the page, or for htmx (polling) its row of the list."""
    report = _workload_report(request, public_id, report_id)
    if _recovered(report):
        report = _workload_report(request, public_id, report_id)
    if wants_partial(request):
        return _row(request, report)
    context = {"workload": report.workload, "report": _decorate(report)}
    return render(request, "reports/report_detail.html", context)


@require_GET
@login_required
def report_download(request: HttpRequest, public_id: str, report_id: int) -> HttpResponse:
    report = _workload_report(request, public_id, report_id)
    state = f"milestone-{report.milestone.number}" if report.milestone_id else "current"
    date = (report.finished_at or report.created_at).strftime("%Y-%m-%d")
    name = f"{slugify(report.workload.name) or 'workload'}-{report.lens.alias}-{state}-{date}"
    return _download(report, f"{name}.{_extension(report)}")


@require_POST
@login_required
def report_retry_view(request: HttpRequest, public_id: str, report_id: int) -> HttpResponse:
    report = _workload_report(request, public_id, report_id)
    return _retry(request, report, reverse("reviews:reports", args=[public_id]))


def _retry(request: HttpRequest, report: Report, back: str) -> HttpResponse:
    try:
        retried = report_retry(report=report, user=request.user)
    except ReportError as exc:
        if not request.htmx:
            messages.error(request, str(exc))
            return redirect(back)
        report.refusal = str(exc)
        return _row(request, report)
    if retried.status == Report.Status.FAILED and not request.htmx:
        messages.error(request, retried.error)
    elif not request.htmx:
        messages.success(request, "Report queued again.")
    if not request.htmx:
        return redirect(back)
    # Keep what the list shows about the report (the lens, the milestone); who asked is now
    # whoever retried.
    for field in ("status", "error", "attempts", "started_at", "finished_at", "requested_by"):
        setattr(report, field, getattr(retried, field))
    return _row(request, report)


# -- consolidated reports ------------------------------------------------------------------------


def _owners(user: Any) -> list[str]:
    owners = Workload.objects.for_user(user).values_list("owner__username", flat=True)
    return sorted(set(owners), key=str.casefold)


@require_http_methods(["GET", "POST"])
@login_required
def consolidated_reports(request: HttpRequest) -> HttpResponse:
    """Your consolidated reports, and the form to ask for one over the workloads you see."""
    owners = _owners(request.user)
    form = ConsolidatedReportForm(
        request.POST if request.method == "POST" else None,
        owners=owners,
        # The dashboard links here with its filters in the query string.
        initial={
            key: request.GET.get(key, "")
            for key in ("environment", "tag", "owner", "question", "team")
        },
    )
    notice = error = ""
    if request.method == "POST" and form.is_valid():
        try:
            report = report_request(
                user=request.user,
                kind=Report.Kind.CONSOLIDATED,
                format=form.cleaned_data["format"],
                filters=form.filters(),
            )
        except ReportError as exc:
            form.add_error(None, str(exc))
        else:
            if report.status == Report.Status.FAILED:
                error = report.error
            else:
                notice = "Report queued. It appears below when it is ready."
            if not request.htmx:
                if error:
                    messages.error(request, error)
                else:
                    messages.success(request, notice)
                return redirect("reviews:consolidated_reports")
            form = ConsolidatedReportForm(owners=owners)
    mine = Report.objects.filter(kind=Report.Kind.CONSOLIDATED, requested_by=request.user)
    reports_recover_stale(reports=mine)
    reports = [_decorate(r) for r in _reports(mine)[:LIST_LIMIT]]
    context = {"form": form, "reports": reports, "notice": notice, "error": error}
    if wants_partial(request):
        return render(request, "reports/consolidated_reports.html#reports", context)
    return render(request, "reports/consolidated_reports.html", context)


def _consolidated_report(request: HttpRequest, report_id: int) -> Report:
    report = (
        _reports(Report.objects.filter(kind=Report.Kind.CONSOLIDATED, requested_by=request.user))
        .filter(pk=report_id)
        .first()
    )
    if report is None:
        raise Http404("No such report.")
    return report


@require_GET
@login_required
def consolidated_report(request: HttpRequest, report_id: int) -> HttpResponse:
    report = _consolidated_report(request, report_id)
    if _recovered(report):
        report = _consolidated_report(request, report_id)
    if wants_partial(request):
        return _row(request, report)
    return render(request, "reports/report_detail.html", {"report": _decorate(report)})


@require_GET
@login_required
def consolidated_download(request: HttpRequest, report_id: int) -> HttpResponse:
    report = _consolidated_report(request, report_id)
    date = (report.finished_at or report.created_at).strftime("%Y-%m-%d")
    return _download(report, f"archlens-consolidated-{date}.{_extension(report)}")


@require_POST
@login_required
def consolidated_retry(request: HttpRequest, report_id: int) -> HttpResponse:
    report = _consolidated_report(request, report_id)
    return _retry(request, report, reverse("reviews:consolidated_reports"))
