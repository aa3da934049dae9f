"""Upgrading a workload's review of a lens to a newer version of that lens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from lenses.models import LensVersion
from reviews.forms_upgrades import UpgradeForm
from reviews.milestones import MilestoneError
from reviews.upgrades import (
    UpgradeError,
    default_milestone_name,
    lens_review_upgrade,
    lens_review_upgrade_plan,
    newer_versions,
)
from reviews.views.access import get_lens_review_for_user


@require_http_methods(["GET", "POST"])
@login_required
def lens_review_upgrade_view(request: HttpRequest, public_id: str, alias: str) -> HttpResponse:
    """What the upgrade does to this review (GET; `?version=` picks the target), then do it."""
    review = get_lens_review_for_user(request, public_id, alias, write=True)
    versions = newer_versions(review)
    if not versions:
        messages.info(request, f"This review is on the newest version of {review.lens.name}.")
        return redirect("reviews:overview", public_id=public_id, alias=alias)
    if request.method == "POST":
        form = UpgradeForm(request.POST, versions=versions)
        if form.is_valid():
            try:
                result = lens_review_upgrade(
                    lens_review=review,
                    target=form.target,
                    milestone_name=form.cleaned_data["milestone_name"],
                    user=request.user,
                )
            except (UpgradeError, MilestoneError) as exc:
                form.add_error(None, str(exc))
            else:
                added = len(result.plan.added)
                messages.success(
                    request,
                    f"Upgraded to {review.lens.name} {form.target.label}. Milestone "
                    f"{result.milestone.number} “{result.milestone.name}” keeps the state before; "
                    f"{added} new question{'s' if added != 1 else ''} to answer.",
                )
                return redirect("reviews:overview", public_id=public_id, alias=alias)
        target = form.versions.get(form.cleaned_data.get("version"), versions[0])
    else:
        target = _picked(request, form_versions=versions)
        initial = {"version": target.pk, "milestone_name": default_milestone_name(review, target)}
        form = UpgradeForm(initial=initial, versions=versions)
    try:
        plan = lens_review_upgrade_plan(lens_review=review, target=target)
    except UpgradeError as exc:  # moved on meanwhile, by another upgrade
        messages.error(request, str(exc))
        return redirect("reviews:overview", public_id=public_id, alias=alias)
    context = {"review": review, "workload": review.workload, "plan": plan, "form": form}
    return render(request, "reviews/upgrade.html", context)


def _picked(request: HttpRequest, *, form_versions: list[LensVersion]) -> LensVersion:
    """The version `?version=` names, the newest when it names none; 404 for anything else."""
    raw = request.GET.get("version")
    if not raw:
        return form_versions[0]
    field = UpgradeForm(versions=form_versions).fields["version"]
    try:
        return {v.pk: v for v in form_versions}[field.clean(raw)]
    except ValidationError as exc:
        raise Http404("No such newer version of this lens.") from exc
