"""Pages for people who are not signed in: accepting an invitation, resetting a password."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods

from config.middleware import client_ip
from people import services
from people.forms import InvitationAcceptForm
from people.mail import deliver, mail_configured
from people.services import PeopleError
from people.throttle import throttle_allows

log = logging.getLogger("archlens.people")
HOUR = 60 * 60


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The invited person chooses a username, their name and a password, and is signed in."""
    try:
        invitation = services.invitation_for_token(token)
    except PeopleError as error:
        return render(
            request, "people/invitation_invalid.html", {"message": error.message}, status=404
        )
    first, _, last = invitation.name.partition(" ")
    form = InvitationAcceptForm(
        request.POST or None, initial={"first_name": first, "last_name": last}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.invitation_accept(
                token=token,
                username=data["username"],
                password=data["password1"],
                first_name=data["first_name"],
                last_name=data["last_name"],
            )
        except PeopleError as error:
            form.add_error(InvitationAcceptForm.FIELDS.get(error.field or ""), error.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request, f"Welcome to Archlens, {user.get_short_name() or user.get_username()}."
            )
            return redirect("home")
    context = {
        "form": form,
        "invitation": invitation,
        # Signing in with the provider joins this invitation when the provider's verified
        # email is the invited one (sso.services.sso_sign_in).
        "sso_provider_name": settings.OIDC_PROVIDER_NAME if settings.OIDC_ISSUER else None,
    }
    return render(request, "people/invitation_accept.html", context)


class QuietPasswordResetForm(PasswordResetForm):
    """Django's form, but a mail server that is down is one log line, not a traceback."""

    def send_mail(
        self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs
    ) -> None:
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        body = render_to_string(email_template_name, context)
        deliver(subject=subject, body=body, to=to_email, what="a password reset")


def _require_mail(view):
    """Password reset exists only where mail can reach people; elsewhere its pages are 404."""

    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not mail_configured():
            raise Http404("Password reset needs mail, which is not configured here.")
        return view(request, *args, **kwargs)

    return guarded


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    form_class = QuietPasswordResetForm
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        # Throttled requests get the same answer as the others: the page tells nobody whether
        # an address has an account, nor whether mail went out.
        email = form.cleaned_data["email"].casefold()
        allowed = throttle_allows(
            "password-reset-address", email, limit=settings.PASSWORD_RESET_PER_ADDRESS, seconds=HOUR
        ) and throttle_allows(
            "password-reset", "all", limit=settings.PASSWORD_RESET_PER_HOUR, seconds=HOUR
        )
        if not allowed:
            log.warning("Password reset throttled (from %s)", client_ip(self.request))
            return redirect(self.get_success_url())
        return super().form_valid(form)


password_reset = _require_mail(ThrottledPasswordResetView.as_view())
password_reset_done = _require_mail(auth_views.PasswordResetDoneView.as_view())
password_reset_confirm = _require_mail(auth_views.PasswordResetConfirmView.as_view())
password_reset_complete = _require_mail(auth_views.PasswordResetCompleteView.as_view())
