"""The People pages (staff): everyone's account, invitations, flags, deactivation.

Each action is a POST that calls one service and comes back to the page it was made on with a
message; a refused change says why and changes nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from people import selectors, services
from people.forms import FlagForm, HandOverForm, InviteForm
from people.mail import Delivery, invitation_mail_send, mail_configured
from people.models import Invitation, profile_of
from people.services import PeopleError
from reviews.models import Workload
from reviews.services import ReviewError, workload_transfer

PER_PAGE = 50


def require_staff(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied("Only staff manage people and teams.")


@require_GET
@login_required
def people(request: HttpRequest) -> HttpResponse:
    require_staff(request)
    search = request.GET.get("q", "")[:100]
    page = Paginator(selectors.people_list(search), PER_PAGE).get_page(request.GET.get("page"))
    for person in page:
        person.sign_in = selectors.sign_in_method(person)
    context = {
        "page": page,
        "search": search,
        "invitations": selectors.invitations_pending(),
        "mail_configured": mail_configured(),
    }
    return render(request, "people/people.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def invite(request: HttpRequest) -> HttpResponse:
    require_staff(request)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, token = services.invitation_create(
                email=form.cleaned_data["email"],
                name=form.cleaned_data["name"],
                invited_by=request.user,
            )
        except PeopleError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return _sent(request, invitation, token)
    context = {"form": form, "mail_configured": mail_configured()}
    return render(request, "people/invite.html", context)


@require_POST
@login_required
def invitation_resend(request: HttpRequest, invitation_id: int) -> HttpResponse:
    require_staff(request)
    invitation = get_object_or_404(Invitation, pk=invitation_id)
    try:
        invitation, token = services.invitation_resend(invitation=invitation, actor=request.user)
    except PeopleError as error:
        messages.error(request, error.message)
        return redirect("people:people")
    return _sent(request, invitation, token)


@require_POST
@login_required
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    require_staff(request)
    invitation = get_object_or_404(Invitation, pk=invitation_id)
    try:
        services.invitation_revoke(invitation=invitation, actor=request.user)
    except PeopleError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Revoked the invitation to {invitation.email}.")
    return redirect("people:people")


def _sent(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse:
    """Mail the link; unless it went out, show it (once: only its hash is stored)."""
    link = request.build_absolute_uri(reverse("invitation_accept", args=[token]))
    delivery = invitation_mail_send(invitation=invitation, link=link)
    if delivery == Delivery.SENT:
        messages.success(request, f"Sent an invitation to {invitation.email}.")
        return redirect("people:people")
    context = {"invitation": invitation, "link": link, "delivery": delivery}
    return render(request, "people/invitation_link.html", context)


@require_GET
@login_required
def person(request: HttpRequest, user_id: int) -> HttpResponse:
    require_staff(request)
    person = get_object_or_404(User.objects.select_related("profile"), pk=user_id)
    workloads = list(selectors.workloads_owned_by(person))
    context = {
        "person": person,
        "profile": profile_of(person),
        "sign_in": selectors.sign_in_method(person),
        "teams": person.teams.order_by("name_key"),
        "workloads": [(w, HandOverForm(initial={"workload": w.public_id})) for w in workloads],
        "sessions": len(services.sessions_live(person)),
        "is_self": person.pk == request.user.pk,
    }
    return render(request, "people/person.html", context)


def _person_action(request: HttpRequest, user_id: int, action) -> HttpResponse:
    require_staff(request)
    person = get_object_or_404(User, pk=user_id)
    try:
        done = action(person)
    except PeopleError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("people:person", user_id=person.pk)


@require_POST
@login_required
def deactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    def action(person: User) -> str:
        services.user_deactivate(user=person, actor=request.user)
        return f"Deactivated {person.get_username()}: they cannot sign in any more."

    return _person_action(request, user_id, action)


@require_POST
@login_required
def reactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    def action(person: User) -> str:
        services.user_reactivate(user=person, actor=request.user)
        return f"Reactivated {person.get_username()}: they can sign in again."

    return _person_action(request, user_id, action)


@require_POST
@login_required
def staff_flag(request: HttpRequest, user_id: int) -> HttpResponse:
    form = FlagForm(request.POST)

    def action(person: User) -> str:
        if not form.is_valid():
            raise PeopleError("Choose whether to grant or remove staff.")
        services.user_staff_set(user=person, actor=request.user, is_staff=form.granted)
        verb = "is staff now" if form.granted else "is no longer staff"
        return f"{person.get_username()} {verb}."

    return _person_action(request, user_id, action)


@require_POST
@login_required
def viewer_flag(request: HttpRequest, user_id: int) -> HttpResponse:
    form = FlagForm(request.POST)

    def action(person: User) -> str:
        if not form.is_valid():
            raise PeopleError("Choose whether to grant or remove the portfolio-viewer flag.")
        services.user_viewer_set(user=person, actor=request.user, is_viewer=form.granted)
        verb = "is a portfolio viewer now" if form.granted else "is no longer a portfolio viewer"
        return f"{person.get_username()} {verb}."

    return _person_action(request, user_id, action)


@require_POST
@login_required
def hand_over(request: HttpRequest, user_id: int) -> HttpResponse:
    """Hand one of the person's workloads to someone else, typically before deactivating them."""
    require_staff(request)
    person = get_object_or_404(User, pk=user_id)
    form = HandOverForm(request.POST)
    if not form.is_valid():
        problems = [e for errors in form.errors.values() for e in errors]
        messages.error(request, " ".join(problems))
        return redirect("people:person", user_id=person.pk)
    workload = get_object_or_404(Workload, public_id=form.cleaned_data["workload"], owner=person)
    new_owner = form.cleaned_data["user"]
    try:
        workload_transfer(workload=workload, new_owner=new_owner, by=request.user)
    except ReviewError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{new_owner.get_username()} owns {workload.name} now.")
    return redirect("people:person", user_id=person.pk)


@require_GET
@login_required
def log(request: HttpRequest) -> HttpResponse:
    require_staff(request)
    page = Paginator(selectors.people_events(), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "people/log.html", {"page": page})
