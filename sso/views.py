"""Starting a sign-in at the provider, and the provider's way back (the callback).

A sign-in that fails for any reason ends on our own page saying what happened and what to do,
with one log line for the operator; the person never sees a 500 or the library's bare redirect.
"""

import logging

import jwt
import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from sso.discovery import ProviderUnavailable, oidc_setting
from sso.services import Reason, SignInFailed

logger = logging.getLogger("archlens.sso")

# Starting again cannot help with these: someone has to change the account.
FINAL = {Reason.DEACTIVATED, Reason.AMBIGUOUS, Reason.NO_EMAIL}
STATUS = {
    Reason.UNREACHABLE: 502,
    Reason.DEACTIVATED: 403,
    Reason.UNVERIFIED: 403,
    Reason.AMBIGUOUS: 403,
    Reason.NO_EMAIL: 403,
}


def sign_in_failed(request: HttpRequest, reason: Reason, detail: str) -> HttpResponse:
    # One line: provider answers can hold newlines.
    logger.warning("single sign-on failed reason=%s %s", reason, " ".join(detail.split())[:500])
    context = {
        "reason": reason.value,
        "provider_name": settings.OIDC_PROVIDER_NAME,
        "can_retry": reason not in FINAL,
    }
    return render(request, "sso/sign_in_failed.html", context, status=STATUS.get(reason, 400))


def _require_sso() -> None:
    if not settings.OIDC_ISSUER:
        raise Http404("Single sign-on is not set up here.")


class SignInView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider, with a fresh state, nonce and PKCE challenge."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, **kwargs) -> None:
        # The library reads the endpoints here; get() does, so that a provider that is down
        # gets our page instead of an exception while the view is built.
        View.__init__(self, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        _require_sso()
        try:
            self.OIDC_OP_AUTH_ENDPOINT = oidc_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except ProviderUnavailable as error:
            return sign_in_failed(request, Reason.UNREACHABLE, str(error))
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


class CallbackView(OIDCAuthenticationCallbackView):
    """Where the provider sends the browser back with a code (or an error)."""

    get_settings = staticmethod(oidc_setting)

    def get(self, request: HttpRequest) -> HttpResponse:
        _require_sso()
        if error := request.GET.get("error"):
            super().get(request)  # forgets the state and logs out whoever was logged in
            return sign_in_failed(request, Reason.PROVIDER, f"provider answered error={error!r}")
        state = request.GET.get("state")
        # A state we did not issue in this session: forged, from another browser, or a
        # callback address used before (its state was spent then).
        if not request.GET.get("code") or state not in request.session.get("oidc_states", {}):
            return sign_in_failed(request, Reason.STATE, f"state {state!r} unknown in session")
        try:
            return super().get(request)
        except SignInFailed as failure:
            return sign_in_failed(request, failure.reason, failure.detail)
        except ProviderUnavailable as error:
            return sign_in_failed(request, Reason.UNREACHABLE, str(error))
        except requests.HTTPError as error:
            # The token endpoint refuses an expired or spent code with 400 invalid_grant.
            return sign_in_failed(request, Reason.REFUSED, str(error))
        except requests.RequestException as error:
            return sign_in_failed(request, Reason.UNREACHABLE, str(error))
        except (SuspiciousOperation, jwt.InvalidTokenError) as error:
            return sign_in_failed(request, Reason.TOKEN, f"{type(error).__name__}: {error}")

    def login_failure(self) -> HttpResponse:
        # Left for the library's own refusals (no user came back): nothing more is known.
        return sign_in_failed(self.request, Reason.REFUSED, "no user was authenticated")
