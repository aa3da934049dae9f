"""Each person's own account: name and email, password, sessions, API keys."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from api.key_views import keys_context
from people import selectors, services
from people.forms import AccountForm
from people.services import PeopleError


def _page(
    request: HttpRequest, *, form=None, password_form=None, status: int = 200
) -> HttpResponse:
    user = request.user
    initial = {"first_name": user.first_name, "last_name": user.last_name, "email": user.email}
    has_password = user.has_usable_password()
    if has_password:
        password_form = password_form or PasswordChangeForm(user)
        # Django focuses the old password; here it is the second form on the page.
        password_form.fields["old_password"].widget.attrs.pop("autofocus", None)
    sessions = services.sessions_live(user)
    for session in sessions:
        session.browser = selectors.browser_of(session.user_agent)
    context = {
        "form": form or AccountForm(initial=initial, prefix="account"),
        "password_form": password_form if has_password else None,
        "sign_in": selectors.sign_in_method(user),
        "sessions": sessions,
        "current_session": request.session.session_key,
        "teams": user.teams.order_by("name_key"),
        **keys_context(request),
    }
    return render(request, "people/account.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The account page; POST changes the person's name and email."""
    if request.method == "GET":
        return _page(request)
    form = AccountForm(request.POST, prefix="account")
    if form.is_valid():
        try:
            services.account_update(user=request.user, **form.cleaned_data)
        except PeopleError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, "Saved your name and email.")
            return redirect("account:account")
    return _page(request, form=form)


@require_POST
@login_required
def password(request: HttpRequest) -> HttpResponse:
    """Change the password and stay signed in here; other sessions end (Django's session hash)."""
    if not request.user.has_usable_password():
        raise PermissionDenied("You sign in with single sign-on: your password is kept there.")
    form = PasswordChangeForm(request.user, request.POST)
    if not form.is_valid():
        return _page(request, password_form=form)
    old_key = request.session.session_key
    user = form.save()
    update_session_auth_hash(request, user)
    services.session_renamed(user=user, old_key=old_key, new_key=request.session.session_key)
    # Sessions elsewhere stopped working with the old password: forget them now.
    services.sessions_end(user=user, keep=request.session.session_key)
    messages.success(request, "Changed your password. Your other sessions have ended.")
    return redirect("account:account")


@require_POST
@login_required
def sessions_end(request: HttpRequest) -> HttpResponse:
    """Sign out everywhere else: every session of this person but the one asking."""
    ended = services.sessions_end(user=request.user, keep=request.session.session_key)
    messages.success(request, f"Signed out of {ended} other session{'s' if ended != 1 else ''}.")
    return redirect("account:account")
