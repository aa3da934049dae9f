"""PDF reports: Django templates (templates/reports/pdf/) turned into PDF by WeasyPrint.

Everything people typed goes through the template engine's escaping, and the charts are the
web pages' own SVG (reviews.charts), which escape their labels. WeasyPrint may only load data:
URLs: the logo is embedded as one, and nothing in a report can make the worker fetch a URL.
"""

from __future__ import annotations

import base64
import datetime
import functools
import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.template.loader import render_to_string
from django.utils import timezone

from profiles.selectors import prioritised_in
from reviews.charts import Bar, Point, risk_bars, trend_lines
from reviews.errors import NOT_FOUND
from reviews.models import AnswerRisk, Branding, ChoiceAnswer, LensReview, Report, Workload
from reviews.reports.consolidated import consolidated_data, requester
from reviews.reports.services import PAPER_SIZES, ReportError
from reviews.score_selectors import lens_score, snapshot_practices
from reviews.snapshots import improvement_plan, missing_practices, snapshots_of

if TYPE_CHECKING:
    from weasyprint import CSS
    from weasyprint.urls import URLFetcher

logger = logging.getLogger(__name__)

IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
# The consolidated report's chart of workloads shows this many, the most at risk first.
CHART_WORKLOADS = 15


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    return render_pdf_string(render_to_string(template, context), paper=context["paper"])


def render_pdf_string(html: str, *, paper: str = "A4") -> bytes:
    # Imported here: loading WeasyPrint takes about two seconds, which every web process would
    # otherwise pay on its first request, whatever the page (this module is imported with the
    # URLs).
    from weasyprint import HTML

    with _garbage_collected_afterwards():
        return HTML(string=html, url_fetcher=_fetcher()).write_pdf(
            stylesheets=[report_stylesheet(paper)]
        )


@contextmanager
def _garbage_collected_afterwards() -> Iterator[None]:
    """Run the block without Python's cyclic garbage collector, then collect what it left.

    WeasyPrint builds hundreds of thousands of objects that live until the PDF is written, so
    while it runs the collector keeps promoting them and walking every object of the process
    (Django's and WeasyPrint's too) without finding anything to free: a fifth of a lens review
    report's time. What is garbage afterwards (about 140,000 objects in reference cycles for
    that report) is all young, so one collection of the youngest generation frees it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # As it was found: of two renders at once in one process, the one that turned the
        # collector off turns it on again.
        if enabled:
            gc.enable()
        gc.collect(0)


def report_stylesheet(paper: str) -> CSS:
    """The reports' stylesheet for this paper size, parsed by WeasyPrint once per process.

    Parsing it took about a fiftieth of a second in every report. The cache is keyed on the
    stylesheet's text, so an edited template is picked up; nothing in it comes from a report
    (the branding is in the HTML), so reports can share it. WeasyPrint takes it as a user
    stylesheet, which gives way to the HTML's own presentation attributes unless !important
    (the charts' width="100%": see svg.chart in styles.css).
    """
    return _parsed_stylesheet(render_to_string("reports/pdf/styles.css", {"paper": paper}))


@functools.lru_cache(maxsize=4)
def _parsed_stylesheet(text: str) -> CSS:
    from weasyprint import CSS

    return CSS(string=text, url_fetcher=_fetcher())


def _fetcher() -> URLFetcher:
    """WeasyPrint may only load data: URLs: nothing in a report can make the worker fetch one."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=("data",))


def logo_data_uri(branding: Branding) -> str:
    """The logo as a data: URL ("" when there is none or it cannot be read)."""
    if not branding.logo:
        return ""
    try:
        with branding.logo.open("rb") as file:
            data = file.read()
    except (OSError, ValueError):
        logger.warning("cannot read the logo %s", branding.logo.name, exc_info=True)
        return ""
    mime = next((kind for magic, kind in IMAGE_TYPES.items() if data.startswith(magic)), None)
    if mime is None:
        return ""
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _common(report: Report, title: str) -> dict[str, Any]:
    branding = Branding.current()
    return {
        "report": report,
        "doc_title": title,
        "organisation": branding.organisation_name,
        "logo": logo_data_uri(branding),
        "generated_at": timezone.now(),
        "requested_by": report.requested_by.get_username() if report.requested_by else "",
        "paper": PAPER_SIZES.get(report.filters.get("paper", "A4"), "A4"),
    }


# -- lens review report --------------------------------------------------------------------------


def _snapshot(report: Report, workload: Workload) -> dict[str, Any]:
    alias = report.lens.alias
    if report.milestone_id is not None:
        for snapshot in report.milestone.data.get("lens_reviews", []):
            if snapshot["lens"]["alias"] == alias:
                return snapshot
        raise ReportError(
            f"“{report.lens.name}” was not reviewed when milestone {report.milestone.number} "
            "was saved.",
            NOT_FOUND,
        )
    review = (
        LensReview.objects.select_related("lens", "lens_version")
        .filter(workload=workload, lens=report.lens, is_active=True)
        .first()
    )
    if review is None:
        raise ReportError(
            f"“{report.lens.name}” is no longer reviewed in this workload.", NOT_FOUND
        )
    [snapshot] = snapshots_of([review])
    return snapshot


def _trend(report: Report, workload: Workload, snapshot: dict[str, Any]) -> str:
    """High and medium risks of this lens at each milestone (up to the report's), then now."""
    alias = report.lens.alias
    milestones = workload.milestones.order_by("number")
    if report.milestone_id is not None:
        milestones = milestones.filter(number__lte=report.milestone.number)
    points = []
    for number, data in milestones.values_list("number", "data"):
        for frozen in (data or {}).get("lens_reviews", []):
            if frozen["lens"]["alias"] == alias:
                counts = frozen["counts"]
                score = lens_score(snapshot_practices(frozen))
                points.append(Point(f"M{number}", counts["high"], counts["medium"], score))
    if report.milestone_id is None:
        counts, score = snapshot["counts"], lens_score(snapshot_practices(snapshot))
        points.append(Point("Now", counts["high"], counts["medium"], score))
    if len(points) < 2:
        return ""
    return trend_lines(
        points, title=f"High and medium risks and score of {snapshot['lens']['name']}"
    )


def _question_view(question: dict[str, Any]) -> dict[str, Any]:
    practices = [choice for choice in question["choices"] if not choice["is_none"]]
    by_status: dict[str, list[dict[str, Any]]] = {}
    for choice in question["choices"]:
        by_status.setdefault(choice["status"], []).append(choice)
    return {
        **question,
        "selected": by_status.get(ChoiceAnswer.Status.SELECTED, []),
        "not_applicable": by_status.get(ChoiceAnswer.Status.NOT_APPLICABLE, []),
        "none_selected": any(
            choice["is_none"] and choice["status"] == ChoiceAnswer.Status.SELECTED
            for choice in question["choices"]
        ),
        "missing": missing_practices(question),
        "practice_count": len(practices),
        "followed_count": sum(
            1 for choice in practices if choice["status"] == ChoiceAnswer.Status.SELECTED
        ),
    }


def lens_review_context(report: Report) -> dict[str, Any]:
    workload = Workload.objects.select_related("owner").get(pk=report.workload_id)
    snapshot = _snapshot(report, workload)
    milestone = report.milestone if report.milestone_id is not None else None
    state = f"Milestone {milestone.number}: {milestone.name}" if milestone else "Current state"
    practices = snapshot_practices(snapshot)
    pillars = [
        {
            **pillar,
            "score": practices[pillar["id"]].score,
            "anchor": f"pillar-{index}",
            "questions": [_question_view(question) for question in pillar["questions"]],
        }
        for index, pillar in enumerate(snapshot["pillars"], start=1)
    ]
    anchors = {pillar["id"]: pillar["anchor"] for pillar in pillars}
    prioritised = prioritised_in(workload, snapshot["lens"]["alias"])
    plan = improvement_plan(snapshot, workload.pillar_priorities, prioritised)
    for entry in plan:
        entry["anchor"] = anchors.get(entry["pillar"]["id"], "")
        due = (entry["question"]["improvement"] or {}).get("due_date")
        entry["due"] = datetime.date.fromisoformat(due) if due else None
    bars = [
        Bar(pillar["name"], pillar["counts"]["high"], pillar["counts"]["medium"])
        for pillar in snapshot["pillars"]
    ]
    counts = snapshot["counts"]
    return {
        **_common(report, f"{snapshot['lens']['name']} review of {workload.name}"),
        "workload": workload,
        "snapshot": snapshot,
        "lens": snapshot["lens"],
        "milestone": milestone,
        "state": state,
        "as_of": milestone.recorded_at if milestone else None,
        "counts": counts,
        "score": lens_score(practices),
        "answered_percent": round(100 * counts["answered"] / counts["total"])
        if counts["total"]
        else 0,
        "pillars": pillars,
        "plan": plan,
        "high_plan": sum(1 for e in plan if e["question"]["risk"] == AnswerRisk.HIGH),
        "prioritised_plan": sum(1 for e in plan if e["prioritised"]),
        "bars": risk_bars(bars, title="High and medium risks per pillar"),
        "trend": _trend(report, workload, snapshot),
        "priorities": [
            next((p["name"] for p in snapshot["pillars"] if p["id"] == pid), pid)
            for pid in workload.pillar_priorities
        ],
    }


def lens_review_pdf(report: Report) -> bytes:
    return render_pdf("reports/pdf/lens_review.html", lens_review_context(report))


# -- consolidated report -------------------------------------------------------------------------


def consolidated_context(report: Report) -> dict[str, Any]:
    data = consolidated_data(user=requester(report), filters=report.filters)
    at_risk = sorted(
        (w for w in data["workloads"] if w["high"] or w["medium"]),
        key=lambda w: (-w["high"], -w["medium"], w["name"].casefold()),
    )[:CHART_WORKLOADS]
    # One chart and one matrix per lens, headed with its name: its pillars across (by their own
    # names, which fit the chart), the workloads reviewing it down.
    lenses = []
    for lens in data["lenses"]:
        rows = []
        for workload in data["workloads"]:
            mine = next((g for g in workload["lenses"] if g["alias"] == lens["alias"]), None)
            if mine is None:
                continue
            cells = {pillar["id"]: pillar for pillar in mine["pillars"]}
            rows.append(
                {
                    "workload": workload,
                    "cells": [cells.get(p["id"]) for p in lens["pillars"]],
                    "score": mine["score"],
                }
            )
        lenses.append(
            {
                **lens,
                "chart": risk_bars(
                    [Bar(p["name"], p["high"], p["medium"]) for p in lens["pillars"]],
                    title=f"High and medium risks per pillar of {lens['name']}",
                ),
                "rows": rows,
            }
        )
    filters = data["filters"]
    return {
        **_common(report, "Architecture risk across workloads"),
        "data": data,
        "totals": data["totals"],
        "filters": filters,
        "lenses": lenses,
        "workload_bars": risk_bars(
            [Bar(w["name"], w["high"], w["medium"]) for w in at_risk],
            title="Workloads with the most risks",
        )
        if at_risk
        else "",
        "chart_workloads": CHART_WORKLOADS,
        "answered_percent": round(100 * data["totals"]["answered"] / data["totals"]["questions"])
        if data["totals"]["questions"]
        else 0,
    }


def consolidated_pdf(report: Report) -> bytes:
    return render_pdf("reports/pdf/consolidated.html", consolidated_context(report))
