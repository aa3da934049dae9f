"""Milestones: save one, read one back as it was, compare two states, see the trend."""

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from profiles.selectors import prioritised_in
from reviews.charts import Point, trend_lines
from reviews.milestones import NOW, MilestoneError, compare_states, milestone_create
from reviews.models import Milestone, Role, Workload
from reviews.score_selectors import lens_score, snapshot_practices, snapshots_score
from reviews.snapshots import improvement_plan, total_counts, workload_snapshots
from reviews.views.access import get_workload_for_user


@require_http_methods(["GET", "POST"])
@login_required
def milestones(request: HttpRequest, public_id: str) -> HttpResponse:
    """The milestone list with the risk trend; the owner saves a new milestone here."""
    workload = get_workload_for_user(request, public_id, owner=request.method == "POST")
    error = ""
    if request.method == "POST":
        try:
            milestone = milestone_create(
                workload=workload, name=request.POST.get("name", ""), user=request.user
            )
        except MilestoneError as exc:
            error = str(exc)
        else:
            messages.success(request, f"Saved milestone {milestone.number}: {milestone.name}.")
            return redirect("reviews:milestones", public_id=public_id)
    saved = list(workload.milestones.defer("data").select_related("recorded_by").order_by("number"))
    current = workload_snapshots(workload)
    now = total_counts(s["counts"] for s in current)
    points = [Point(f"M{m.number}", m.high_count, m.medium_count, m.score) for m in saved]
    points.append(Point("Now", now["high"], now["medium"], snapshots_score(current)))
    context = {
        "workload": workload,
        "milestones": saved,
        "now": now,
        "trend": trend_lines(points, title=f"High and medium risks and score of {workload.name}"),
        "error": error,
        "name": request.POST.get("name", "") if error else "",
        "is_owner": workload.role == Role.OWNER,
    }
    return render(request, "reviews/milestones.html", context, status=200)


def _get_milestone(workload: Workload, number: int) -> Milestone:
    milestone = workload.milestones.filter(number=number).first()
    if milestone is None:
        raise Http404("No such milestone.")
    return milestone


def _frozen_review(milestone: Milestone, alias: str) -> dict[str, Any]:
    for snapshot in milestone.data["lens_reviews"]:
        if snapshot["lens"]["alias"] == alias:
            return snapshot
    raise Http404("This lens was not reviewed when the milestone was saved.")


def _frozen_context(request: HttpRequest, public_id: str, number: int, alias: str) -> dict:
    workload = get_workload_for_user(request, public_id)
    milestone = _get_milestone(workload, number)
    snapshot = _frozen_review(milestone, alias)
    practices = snapshot_practices(snapshot)
    pillars = [{**pillar, "score": practices[pillar["id"]].score} for pillar in snapshot["pillars"]]
    return {
        "workload": workload,
        "milestone": milestone,
        "snapshot": snapshot,
        "score": lens_score(practices),
        "pillars": pillars,
        "lens_reviews": milestone.data["lens_reviews"],
    }


@require_GET
@login_required
def milestone_overview(
    request: HttpRequest, public_id: str, number: int, alias: str
) -> HttpResponse:
    context = _frozen_context(request, public_id, number, alias)
    context["shown_pillars"] = context["pillars"]
    return render(request, "reviews/milestone_review.html", context)


@require_GET
@login_required
def milestone_pillar(
    request: HttpRequest, public_id: str, number: int, alias: str, pillar_id: str
) -> HttpResponse:
    context = _frozen_context(request, public_id, number, alias)
    pillar = next((p for p in context["pillars"] if p["id"] == pillar_id), None)
    if pillar is None:
        raise Http404("No such pillar in this milestone.")
    context.update(pillar=pillar, shown_pillars=[pillar])
    return render(request, "reviews/milestone_review.html", context)


@require_GET
@login_required
def milestone_improvements(
    request: HttpRequest, public_id: str, number: int, alias: str
) -> HttpResponse:
    context = _frozen_context(request, public_id, number, alias)
    workload, snapshot = context["workload"], context["snapshot"]
    # Ordered as the live plan is: by the workload's profile and pillar priorities as they are.
    prioritised = prioritised_in(workload, snapshot["lens"]["alias"])
    context["plan"] = improvement_plan(snapshot, workload.pillar_priorities, prioritised)
    return render(request, "reviews/milestone_review.html", context)


@require_GET
@login_required
def milestone_question(
    request: HttpRequest, public_id: str, number: int, alias: str, question_id: str
) -> HttpResponse:
    context = _frozen_context(request, public_id, number, alias)
    flat = [(pillar, q) for pillar in context["pillars"] for q in pillar["questions"]]
    index = next((i for i, (_, q) in enumerate(flat) if q["id"] == question_id), None)
    if index is None:
        raise Http404("No such question in this milestone.")
    context.update(
        pillar=flat[index][0],
        question=flat[index][1],
        previous_question=flat[index - 1][1] if index > 0 else None,
        next_question=flat[index + 1][1] if index + 1 < len(flat) else None,
    )
    return render(request, "reviews/milestone_question.html", context)


def _state(workload: Workload, which: str):
    """(label, snapshots) for "now" or a milestone number; None when it does not exist."""
    if which == NOW:
        return "Now", workload_snapshots(workload)
    # ASCII digits only: `isdigit()` also holds for "²", which `int()` then refuses.
    number = int(which) if re.fullmatch(r"[0-9]{1,9}", which) else None
    milestone = workload.milestones.filter(number=number).first() if number else None
    if milestone is None:
        return None
    return f"Milestone {milestone.number}: {milestone.name}", milestone.data["lens_reviews"]


@require_GET
@login_required
def compare(request: HttpRequest, public_id: str) -> HttpResponse:
    """Compare two states: milestone with milestone, or a milestone with now."""
    workload = get_workload_for_user(request, public_id)
    saved = list(workload.milestones.defer("data").order_by("number"))
    first = request.GET.get("from") or (str(saved[-1].number) if saved else NOW)
    second = request.GET.get("to") or NOW
    before, after = _state(workload, first), _state(workload, second)
    context = {
        "workload": workload,
        "milestones": saved,
        "first": first,
        "second": second,
        "error": "" if before and after else "Pick two saved milestones or “now”.",
    }
    if before and after:
        context.update(
            before_label=before[0],
            after_label=after[0],
            lenses=compare_states(before[1], after[1]),
        )
    return render(request, "reviews/compare.html", context)
