"""Teams (staff): create, rename and delete them, add and remove members."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from people import selectors, services
from people.forms import TeamForm, TeamMemberForm
from people.models import Team
from people.services import PeopleError
from people.views.staff import require_staff


def _field(error: PeopleError, form) -> str | None:
    return error.field if error.field in form.fields else None


@require_http_methods(["GET", "POST"])
@login_required
def teams(request: HttpRequest) -> HttpResponse:
    """Every team with its number of members; POST creates one."""
    require_staff(request)
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_create(
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                actor=request.user,
            )
        except PeopleError as error:
            form.add_error(_field(error, form), error.message)
        else:
            messages.success(request, f"Created the team {team.name}. Add its members here.")
            return redirect("people:team", team_id=team.pk)
    return render(request, "people/teams.html", {"teams": selectors.teams_list(), "form": form})


@require_http_methods(["GET", "POST"])
@login_required
def team(request: HttpRequest, team_id: int) -> HttpResponse:
    """A team's members; POST renames it or changes its description."""
    require_staff(request)
    team = get_object_or_404(Team, pk=team_id)
    initial = {"name": team.name, "description": team.description}
    form = TeamForm(request.POST or None, initial=initial, prefix="team")
    if request.method == "POST" and form.is_valid():
        try:
            services.team_update(
                team=team,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                actor=request.user,
            )
        except PeopleError as error:
            form.add_error(_field(error, form), error.message)
        else:
            messages.success(request, "Saved the team.")
            return redirect("people:team", team_id=team.pk)
    return _team_page(request, team, form=form)


def _team_page(request, team: Team, *, form=None, member_form=None) -> HttpResponse:
    context = {
        "team": team,
        "form": form
        or TeamForm(initial={"name": team.name, "description": team.description}, prefix="team"),
        "member_form": member_form or TeamMemberForm(),
        "members": selectors.team_members(team),
    }
    return render(request, "people/team.html", context)


@require_POST
@login_required
def team_delete(request: HttpRequest, team_id: int) -> HttpResponse:
    require_staff(request)
    team = get_object_or_404(Team, pk=team_id)
    services.team_delete(team=team, actor=request.user)
    messages.success(request, f"Deleted the team {team.name}.")
    return redirect("people:teams")


@require_POST
@login_required
def member_add(request: HttpRequest, team_id: int) -> HttpResponse:
    require_staff(request)
    team = get_object_or_404(Team, pk=team_id)
    form = TeamMemberForm(request.POST)
    if form.is_valid():
        user = form.cleaned_data["user"]
        try:
            services.team_member_add(team=team, user=user, actor=request.user)
        except PeopleError as error:
            form.add_error("user", error.message)
        else:
            messages.success(request, f"Added {user.get_username()} to {team.name}.")
            return redirect("people:team", team_id=team.pk)
    return _team_page(request, team, member_form=form)


@require_POST
@login_required
def member_remove(request: HttpRequest, team_id: int, user_id: int) -> HttpResponse:
    require_staff(request)
    team = get_object_or_404(Team, pk=team_id)
    user = get_object_or_404(User, pk=user_id)
    try:
        services.team_member_remove(team=team, user=user, actor=request.user)
    except PeopleError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Removed {user.get_username()} from {team.name}.")
    return redirect("people:team", team_id=team.pk)
