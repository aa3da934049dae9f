"""The provider's endpoints, read from its discovery document when first needed.

mozilla-django-oidc wants each endpoint as a setting. Operators give only the issuer: the
endpoints come from `<issuer>/.well-known/openid-configuration`, fetched at the first sign-in
rather than at start-up, so Archlens starts (and password login works) while the provider is
down. A document is kept for an hour; a failed fetch is not kept, so the next sign-in tries again.
"""

import time

import requests
from django.conf import settings
from mozilla_django_oidc.utils import import_from_settings

CACHE_SECONDS = 60 * 60

# mozilla-django-oidc setting -> discovery document field
ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}

_documents: dict[str, tuple[float, dict]] = {}


class ProviderUnavailable(Exception):
    """The provider's discovery document could not be read or does not fit the issuer."""


def provider_metadata() -> dict:
    issuer = settings.OIDC_ISSUER
    cached = _documents.get(issuer)
    if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        raise ProviderUnavailable(f"discovery at {url} failed: {error}") from error
    # OpenID Connect Discovery 1.0, section 4.3: the document must name the issuer we asked.
    if not isinstance(document, dict) or str(document.get("issuer", "")).rstrip("/") != issuer:
        raise ProviderUnavailable(f"discovery at {url} names another issuer")
    missing = [field for field in ENDPOINTS.values() if not document.get(field)]
    if missing:
        raise ProviderUnavailable(f"discovery at {url} lacks {', '.join(missing)}")
    _documents[issuer] = (time.monotonic(), document)
    return document


def oidc_setting(name: str, *default):
    """A mozilla-django-oidc setting; endpoints not set explicitly come from discovery."""
    if name in ENDPOINTS and not getattr(settings, name, None):
        return provider_metadata()[ENDPOINTS[name]]
    return import_from_settings(name, *default)
