"""The activity log of a workload, for its owner: sharing, hand-overs, milestones, upgrades
and exports, newest first."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from reviews.activity import activity_sentence
from reviews.selectors import activity_of
from reviews.views.access import get_workload_for_user

PER_PAGE = 50


@require_GET
@login_required
def activity(request: HttpRequest, public_id: str) -> HttpResponse:
    workload = get_workload_for_user(request, public_id, owner=True)
    page = Paginator(activity_of(workload), PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for entry in page.object_list:
        entry.sentence = activity_sentence(entry)
    return render(request, "reviews/activity.html", {"workload": workload, "page": page})
