"""The ID token checks that mozilla-django-oidc leaves out: issuer, audience, times, algorithm.

Tokens are signed here with a key made for the test, as a provider would sign them; the
browser tests get real ones from the test provider.
"""

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from sso import discovery
from sso.oidc import OIDCBackend
from sso.services import Reason, SignInFailed

ISSUER = "https://id.example.com"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(autouse=True)
def configured(settings):
    settings.OIDC_ISSUER = ISSUER
    settings.OIDC_RP_CLIENT_ID = "archlens"
    settings.OIDC_RP_CLIENT_SECRET = "secret"
    settings.OIDC_CLOCK_SKEW_SECONDS = 60
    # As read from the provider's discovery document.
    document = {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks"}
    discovery._documents[ISSUER] = (time.monotonic(), document)
    yield
    discovery._documents.clear()


def token(**changes) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "archlens", "sub": "ada", "iat": now, "exp": now + 300}
    claims.update(changes)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, KEY, algorithm="RS256")


def verify(encoded: str) -> dict:
    return OIDCBackend()._verify_jws(encoded, KEY.public_key())


def test_a_token_for_us_from_our_issuer_is_accepted():
    assert verify(token())["sub"] == "ada"


def test_a_token_expired_within_the_allowed_clock_skew_is_accepted():
    assert verify(token(exp=int(time.time()) - 30))["sub"] == "ada"


def test_an_expired_token_is_refused():
    with pytest.raises(jwt.ExpiredSignatureError):
        verify(token(iat=int(time.time()) - 600, exp=int(time.time()) - 120))


def test_a_token_for_another_client_is_refused():
    with pytest.raises(jwt.InvalidAudienceError):
        verify(token(aud="another-app"))


def test_a_token_from_another_issuer_is_refused():
    with pytest.raises(jwt.InvalidIssuerError):
        verify(token(iss="https://evil.example.com"))


def test_a_token_without_an_expiry_is_refused():
    with pytest.raises(jwt.MissingRequiredClaimError):
        verify(token(exp=None))


def test_a_token_signed_with_the_client_secret_instead_is_refused():
    forged = jwt.encode(
        {"iss": ISSUER, "aud": "archlens", "sub": "ada", "iat": 1, "exp": 2**31},
        "secret-that-is-long-enough-for-hmac-sha256",
        algorithm="HS256",
    )

    with pytest.raises(SignInFailed) as refused:
        verify(forged)

    assert refused.value.reason == Reason.TOKEN
