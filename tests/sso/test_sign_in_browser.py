"""Single sign-on in Chromium against the real OpenID provider (tests/oidc/provider.mjs)."""

import logging
import os
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.backends.cached_db import SessionStore

from people.models import Invitation, Team, TeamMember
from people.services import invitation_create
from sso.models import Identity
from tests.browser.conftest import CHROMIUM, LAPTOP, browser, one_request_at_a_time  # noqa: F401
from tests.sso.conftest import ADA, PROVIDER_NAME, callback_address, sso_settings

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]

SHOTS = Path(os.environ.get("ARCHLENS_SHOTS", "/tmp/archlens-shots")) / "sso"
WIDTHS = [{"width": 390, "height": 844}, {"width": 768, "height": 1024}, LAPTOP]


@pytest.fixture
def context(browser, live_server, sso, admin_user):  # noqa: F811
    # Someone has an account already, or the login page sends the visitor to first-run set-up.
    one_request_at_a_time(live_server)
    context = browser.new_context(base_url=live_server.url, viewport=LAPTOP)
    context.set_default_timeout(10_000)
    yield context
    context.close()


def sign_in_at_the_provider(page, login: str) -> None:
    page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("whatever the provider accepts")
    page.get_by_role("button", name="Sign-in").click()


def with_state(url: str, state: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query), state=state)
    return parts._replace(query=urlencode(query)).geturl()


def teams_of(user: User) -> list[str]:
    return sorted(TeamMember.objects.filter(user=user).values_list("team__name", flat=True))


def test_a_first_sign_in_creates_the_account_and_signing_out_ends_it(context, live_server):
    Team.objects.create(name="Platform")
    Team.objects.create(name="payments")
    page = context.new_page()
    page.goto("/accounts/login/")
    sign_in_at_the_provider(page, "ada")

    page.get_by_role("button", name="Log out").wait_for()
    assert urlsplit(page.url).path == "/workloads/"
    ada = User.objects.get(email="ada@example.com")
    assert (ada.username, ada.first_name, ada.last_name) == ("ada", "Ada", "Lovelace")
    assert not ada.has_usable_password()
    assert Identity.objects.get(user=ada).subject == "ada"
    assert teams_of(ada) == ["Platform", "payments"]
    assert page.locator(".account").inner_text().startswith("ada")

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("heading", name="Log in").wait_for()
    page.goto("/workloads/")
    assert urlsplit(page.url).path == "/accounts/login/"


def test_a_second_sign_in_finds_the_same_account_and_follows_its_groups(context, live_server, sso):
    Team.objects.create(name="Platform")
    Team.objects.create(name="Payments")
    page = context.new_page()
    page.goto("/accounts/login/")
    sign_in_at_the_provider(page, "ada")
    page.get_by_role("button", name="Log out").click()
    sso.set_accounts({"ada": {**ADA, "groups": ["Platform"]}})

    page.goto("/accounts/login/")
    # The provider remembers Ada: no login form this time.
    page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()
    page.get_by_role("button", name="Log out").wait_for()

    ada = User.objects.get(email="ada@example.com")
    assert teams_of(ada) == ["Platform"]


def test_a_callback_with_a_wrong_state_is_refused_and_the_right_one_still_works(
    context, live_server
):
    page = context.new_page()
    callback = callback_address(context, live_server.url, "ada")

    page.goto(with_state(callback, "forged-state"))

    page.get_by_role("heading", name="This sign-in cannot be completed").wait_for()
    assert not User.objects.filter(email="ada@example.com").exists()
    page.goto(callback)
    page.get_by_role("button", name="Log out").wait_for()


def test_a_callback_address_used_twice_is_refused_the_second_time(context, live_server):
    page = context.new_page()
    callback = callback_address(context, live_server.url, "ada")
    page.goto(callback)
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("heading", name="Log in").wait_for()

    response = page.goto(callback)

    assert response.status == 400
    page.get_by_role("heading", name="This sign-in cannot be completed").wait_for()
    page.goto("/workloads/")
    assert urlsplit(page.url).path == "/accounts/login/"


def test_an_id_token_not_issued_for_this_sign_in_is_refused(context, live_server, caplog):
    caplog.set_level(logging.WARNING, logger="archlens.sso")
    page = context.new_page()
    callback = callback_address(context, live_server.url, "ada")
    # The nonce the session expects differs from the one the provider puts in the token, as
    # when a token from another sign-in is slipped in.
    (cookie,) = [c for c in context.cookies() if c["name"] == "sessionid"]
    # Written to the table and the cache: the live server's session middleware keeps the
    # engine it started with, which with CACHE_URL reads the cache first.
    session = SessionStore(cookie["value"])
    for state in session["oidc_states"].values():
        state["nonce"] = "another-sign-in"
    session.save()

    response = page.goto(callback)

    assert response.status == 400
    page.get_by_role("heading", name="This sign-in could not be verified").wait_for()
    assert not User.objects.filter(email="ada@example.com").exists()
    lines = [r.getMessage() for r in caplog.records if r.name == "archlens.sso"]
    assert len(lines) == 1 and "reason=token" in lines[0] and "Nonce" in lines[0]


def test_an_expired_code_is_refused(context, live_server, settings, sso):
    # archlens-short's codes last two seconds at the provider.
    sso_settings(settings, sso.issuer, client_id="archlens-short")
    page = context.new_page()
    callback = callback_address(context, live_server.url, "ada")
    time.sleep(3)

    response = page.goto(callback)

    assert response.status == 400
    page.get_by_role("heading", name="This sign-in has expired").wait_for()
    assert not User.objects.filter(email="ada@example.com").exists()


def test_an_invited_person_joins_by_signing_in_with_the_provider(
    context, live_server, sso, admin_user
):
    invitation, token = invitation_create(email="Dana@example.com", invited_by=admin_user)
    sso.set_accounts({"dana": {"email": "dana@example.com", "email_verified": True}})
    page = context.new_page()
    page.goto(f"/invitations/{token}/")

    sign_in_at_the_provider(page, "dana")

    page.get_by_role("button", name="Log out").wait_for()
    invitation.refresh_from_db()
    assert invitation.user.username == "dana" and invitation.accepted_at is not None
    assert not Invitation.objects.pending().exists()


def test_a_deactivated_account_is_refused_with_a_page_that_says_so(context, live_server, sso, bob):
    bob.is_active = False
    bob.save()
    sso.set_accounts({"bob": {"email": "bob@example.com", "email_verified": True}})
    page = context.new_page()
    page.goto("/accounts/login/")

    sign_in_at_the_provider(page, "bob")

    page.get_by_role("heading", name="Your account is deactivated").wait_for()
    assert not page.get_by_role("link", name="Try again").count()
    page.goto("/workloads/")
    assert urlsplit(page.url).path == "/accounts/login/"


def test_an_unverified_email_of_an_existing_account_is_refused(context, live_server, sso, bob):
    sso.set_accounts({"eve": {"email": "bob@example.com", "email_verified": False}})
    page = context.new_page()
    page.goto("/accounts/login/")

    sign_in_at_the_provider(page, "eve")

    page.get_by_role("heading", name="Your email address is not verified").wait_for()
    assert not Identity.objects.exists()


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_login_invitation_and_failure_pages_fit_a_phone_a_tablet_and_a_laptop(
    context, live_server, admin_user
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    _, token = invitation_create(email="dana@example.com", invited_by=admin_user)
    page = context.new_page()
    for size in WIDTHS:
        page.set_viewport_size(size)
        page.goto("/accounts/login/")
        assert fits_the_width(page), f"login at {size['width']} px"
        page.screenshot(path=str(SHOTS / f"login-{size['width']}.png"), full_page=True)
        page.goto("/oidc/callback/?code=x&state=forged")
        assert fits_the_width(page), f"failure page at {size['width']} px"
        page.screenshot(path=str(SHOTS / f"failed-{size['width']}.png"), full_page=True)
        page.goto(f"/invitations/{token}/")
        assert fits_the_width(page), f"invitation at {size['width']} px"
        page.screenshot(path=str(SHOTS / f"invitation-{size['width']}.png"), full_page=True)
