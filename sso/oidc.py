"""The authentication backend for OpenID Connect sign-ins (mozilla-django-oidc underneath).

mozilla-django-oidc runs the code flow: it exchanges the code (with PKCE) for tokens, checks
the ID token's signature and nonce, and reads the userinfo endpoint. This subclass adds what it
leaves out (the token's issuer and audience, a bounded clock skew), takes its endpoints from
discovery only when a sign-in needs them, and hands the claims to `sso_sign_in`.
"""

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from sso.discovery import oidc_setting, provider_metadata
from sso.services import Reason, SignInFailed, sso_sign_in


def _from_settings(name: str, *default):
    return property(lambda self: oidc_setting(name, *default))


class OIDCBackend(OIDCAuthenticationBackend):
    get_settings = staticmethod(oidc_setting)

    # Django builds every backend for each password login and for each request of a signed-in
    # user (get_user): read nothing from the provider until a sign-in needs it.
    OIDC_OP_TOKEN_ENDPOINT = _from_settings("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = _from_settings("OIDC_OP_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = _from_settings("OIDC_OP_JWKS_ENDPOINT")
    OIDC_RP_CLIENT_ID = _from_settings("OIDC_RP_CLIENT_ID")
    OIDC_RP_CLIENT_SECRET = _from_settings("OIDC_RP_CLIENT_SECRET")
    OIDC_RP_SIGN_ALGO = _from_settings("OIDC_RP_SIGN_ALGO", "RS256")
    OIDC_RP_IDP_SIGN_KEY = None

    def __init__(self, *args, **kwargs) -> None:
        self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        # Only the callback view passes a nonce; password logins ask every backend too.
        if request is None or kwargs.get("nonce") is None:
            return None
        return super().authenticate(request, **kwargs)

    def _verify_jws(self, payload, key):
        header = jwt.get_unverified_header(payload)
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SignInFailed(Reason.TOKEN, f"ID token signed with {header.get('alg')!r}")
        return jwt.decode(
            payload,
            key,
            algorithms=[self.OIDC_RP_SIGN_ALGO],
            audience=self.OIDC_RP_CLIENT_ID,
            issuer=provider_metadata()["issuer"],
            leeway=settings.OIDC_CLOCK_SKEW_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )

    def get_or_create_user(self, access_token, id_token, payload):
        userinfo = self.get_userinfo(access_token, id_token, payload)
        # OpenID Connect Core 5.3.2: userinfo answers for the token's subject or not at all.
        if str(userinfo.get("sub")) != str(payload.get("sub")):
            raise SignInFailed(Reason.TOKEN, "userinfo is about another subject")
        return sso_sign_in(
            issuer=settings.OIDC_ISSUER,
            claims={**payload, **userinfo},
            groups_claim=settings.OIDC_GROUPS_CLAIM,
        )

    def get_user(self, user_id):
        # ModelBackend's: a deactivated user's session ends at their next request.
        return ModelBackend.get_user(self, user_id)
