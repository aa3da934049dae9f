"""Sharing a workload: every member sees who has access; only the owner changes it.

The owner shares with another user or with a team as contributor or read-only, changes a
role, revokes a share and hands the workload over (the previous owner stays on as
contributor). The page also says who gets access through each team and how many portfolio
viewers read the workload.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from reviews.forms import MemberForm, ShareForm, TeamShareForm, TransferForm
from reviews.models import Role, Workload, WorkloadMember, WorkloadTeamShare
from reviews.selectors import members_of, portfolio_viewer_count, team_shares_of
from reviews.services import (
    ReviewError,
    workload_share,
    workload_share_team,
    workload_transfer,
    workload_unshare,
    workload_unshare_team,
)
from reviews.views.access import get_workload_for_user
from reviews.views.htmx import wants_partial


@require_http_methods(["GET", "POST"])
@login_required
def sharing(request: HttpRequest, public_id: str) -> HttpResponse:
    """The member list for everyone; POST shares with a user or changes their role."""
    workload = get_workload_for_user(request, public_id, owner=request.method == "POST")
    form = ShareForm(request.POST or None)
    notice = None
    if request.method == "POST" and form.is_valid():
        user, role = form.cleaned_data["user"], form.cleaned_data["role"]
        try:
            workload_share(workload=workload, user=user, role=role, by=request.user)
        except ReviewError as exc:
            form.add_error("user", str(exc))
        else:
            notice = f"{user.get_username()} now has {Role(role).label.lower()} access."
            form = ShareForm()
    return _respond(request, workload, notice=notice, share_form=form)


@require_POST
@login_required
def member_update(request: HttpRequest, public_id: str, user_id: int) -> HttpResponse:
    """Change a member's role or revoke their access."""
    workload = get_workload_for_user(request, public_id, owner=True)
    member = WorkloadMember.objects.filter(workload=workload, user_id=user_id).first()
    if member is None:
        raise Http404("This user is not a member of the workload.")
    form = MemberForm(request.POST)
    notice = error = None
    if form.is_valid():
        username = member.user.get_username()
        try:
            if form.cleaned_data["action"] == "revoke":
                workload_unshare(workload=workload, user=member.user, by=request.user)
                notice = f"{username} no longer has access."
            else:
                role = form.cleaned_data["role"]
                workload_share(workload=workload, user=member.user, role=role, by=request.user)
                notice = f"{username} now has {Role(role).label.lower()} access."
        except ReviewError as exc:
            error = str(exc)
    else:
        error = " ".join(e for errors in form.errors.values() for e in errors)
    return _respond(request, workload, notice=notice, error=error)


@require_POST
@login_required
def team_share(request: HttpRequest, public_id: str) -> HttpResponse:
    """Share with a team, or change the role of a team it is shared with already."""
    workload = get_workload_for_user(request, public_id, owner=True)
    form = TeamShareForm(request.POST)
    notice = None
    if form.is_valid():
        team, role = form.cleaned_data["team"], form.cleaned_data["role"]
        try:
            workload_share_team(workload=workload, team=team, role=role, by=request.user)
        except ReviewError as exc:
            form.add_error("team", str(exc))
        else:
            notice = f"The team {team.name} now has {Role(role).label.lower()} access."
            form = TeamShareForm()
    return _respond(request, workload, notice=notice, team_form=form)


@require_POST
@login_required
def team_share_update(request: HttpRequest, public_id: str, team_id: int) -> HttpResponse:
    """Change a team's role or revoke its access."""
    workload = get_workload_for_user(request, public_id, owner=True)
    share = (
        WorkloadTeamShare.objects.select_related("team")
        .filter(workload=workload, team_id=team_id)
        .first()
    )
    if share is None:
        raise Http404("This workload is not shared with this team.")
    form = MemberForm(request.POST)
    notice = error = None
    if form.is_valid():
        team = share.team
        try:
            if form.cleaned_data["action"] == "revoke":
                workload_unshare_team(workload=workload, team=team, by=request.user)
                notice = f"The team {team.name} no longer has access."
            else:
                role = form.cleaned_data["role"]
                workload_share_team(workload=workload, team=team, role=role, by=request.user)
                notice = f"The team {team.name} now has {Role(role).label.lower()} access."
        except ReviewError as exc:
            error = str(exc)
    else:
        error = " ".join(e for errors in form.errors.values() for e in errors)
    return _respond(request, workload, notice=notice, error=error)


@require_POST
@login_required
def transfer(request: HttpRequest, public_id: str) -> HttpResponse:
    """Hand the workload over to another user after the owner ticked the confirmation."""
    workload = get_workload_for_user(request, public_id, owner=True)
    form = TransferForm(request.POST)
    notice = None
    if form.is_valid():
        new_owner = form.cleaned_data["user"]
        try:
            workload_transfer(workload=workload, new_owner=new_owner, by=request.user)
        except ReviewError as exc:
            form.add_error("user", str(exc))
        else:
            notice = (
                f"{new_owner.get_username()} owns “{workload.name}” now; "
                "you stay on as a contributor."
            )
            # The requester's role changed: read it again for the page.
            workload = get_workload_for_user(request, public_id)
            form = TransferForm()
    return _respond(request, workload, notice=notice, transfer_form=form)


def _respond(
    request: HttpRequest,
    workload: Workload,
    *,
    notice: str | None = None,
    error: str | None = None,
    share_form: ShareForm | None = None,
    team_form: TeamShareForm | None = None,
    transfer_form: TransferForm | None = None,
) -> HttpResponse:
    """After a change: redirect a plain form post, re-render the members for htmx or on error."""
    failed = (
        error
        or (share_form is not None and share_form.errors)
        or (team_form is not None and team_form.errors)
        or (transfer_form is not None and transfer_form.errors)
    )
    if notice and not failed and not request.htmx:
        messages.success(request, notice)
        return redirect("reviews:sharing", public_id=workload.public_id)
    members = list(members_of(workload))
    context = {
        "workload": workload,
        "members": members,
        "team_shares": team_shares_of(workload),
        "viewer_count": portfolio_viewer_count(),
        "owner": next((m.user for m in members if m.role == Role.OWNER), None),
        "is_owner": workload.role == Role.OWNER,
        "share_form": share_form or ShareForm(),
        "team_form": team_form or TeamShareForm(),
        "transfer_form": transfer_form or TransferForm(),
        "notice": notice,
        "error": error,
        "roles": [(Role.CONTRIBUTOR, "Contributor"), (Role.READONLY, "Read-only")],
    }
    if wants_partial(request):
        return render(request, "reviews/sharing.html#members", context)
    return render(request, "reviews/sharing.html", context)
