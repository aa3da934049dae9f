"""The login page's choices, and single sign-on's own pages when something is wrong.

The provider here is an address where nothing listens: these pages must not need it (the
login page) or must say that it is down (starting a sign-in).
"""

import logging
import socket

import pytest
from django.urls import reverse

from people.services import invitation_create
from sso.checks import sso_configured
from tests.sso.conftest import PROVIDER_NAME, sso_settings

SSO_URLS = ["sso:sign_in", "sso:callback"]


@pytest.fixture
def nothing_listening() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def sso_down(settings, nothing_listening, admin_user):
    sso_settings(settings, nothing_listening)


def sso_log_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "archlens.sso"]


def test_without_an_issuer_the_login_page_has_no_single_sign_on(client, alice):
    page = client.get(reverse("login")).content.decode()

    assert "Sign in with" not in page
    assert 'name="password"' in page


@pytest.mark.parametrize("name", SSO_URLS)
def test_without_an_issuer_the_single_sign_on_addresses_do_not_exist(client, alice, name):
    assert client.get(reverse(name)).status_code == 404
    client.force_login(alice)
    assert client.get(reverse(name)).status_code == 404


@pytest.mark.parametrize("name", SSO_URLS)
def test_the_single_sign_on_addresses_refuse_post(client, sso_down, name):
    assert client.post(reverse(name)).status_code == 405


def test_the_login_page_offers_the_provider_and_the_password(client, sso_down):
    page = client.get(reverse("login") + "?next=/dashboard/").content.decode()

    assert f"Sign in with {PROVIDER_NAME}" in page
    assert 'href="/oidc/authenticate/?next=/dashboard/"' in page
    assert 'name="password"' in page


def test_password_login_off_hides_the_form_but_keeps_the_emergency_path(
    client, settings, sso_down, admin_user
):
    settings.PASSWORD_LOGIN = False

    assert 'name="password"' not in client.get(reverse("login")).content.decode()
    emergency = client.get(reverse("login") + "?password=1").content.decode()
    assert 'name="password"' in emergency
    response = client.post(
        reverse("login") + "?password=1", {"username": "sam", "password": "pw-for-tests-9"}
    )
    assert response.status_code == 302
    assert client.get(reverse("reviews:workload_list")).status_code == 200


def test_a_provider_that_is_down_gets_our_page_and_one_log_line(client, sso_down, caplog):
    caplog.set_level(logging.WARNING, logger="archlens.sso")

    response = client.get(reverse("sso:sign_in"))

    assert response.status_code == 502
    assert f"{PROVIDER_NAME} is not answering" in response.content.decode()
    (line,) = sso_log_lines(caplog)
    assert line.startswith("single sign-on failed reason=unreachable")


def test_a_callback_that_no_sign_in_here_started_is_refused(client, sso_down, caplog):
    caplog.set_level(logging.WARNING, logger="archlens.sso")

    response = client.get(reverse("sso:callback"), {"code": "abc", "state": "xyz"})

    assert response.status_code == 400
    assert "This sign-in cannot be completed" in response.content.decode()
    assert len(sso_log_lines(caplog)) == 1


def test_a_callback_with_the_providers_error_says_it_did_not_sign_you_in(client, sso_down):
    response = client.get(reverse("sso:callback"), {"error": "access_denied", "state": "xyz"})

    assert response.status_code == 400
    assert f"{PROVIDER_NAME} did not sign you in" in response.content.decode()


def test_the_failure_page_escapes_the_provider_name(client, settings, sso_down):
    settings.OIDC_PROVIDER_NAME = "<b>Corp</b>"

    page = client.get(reverse("sso:callback")).content.decode()

    assert "&lt;b&gt;Corp&lt;/b&gt;" in page and "<b>Corp</b>" not in page


def test_a_single_sign_on_session_ends_when_the_account_is_deactivated(client, sso_down, bob):
    client.force_login(bob, backend="sso.oidc.OIDCBackend")
    assert client.get(reverse("reviews:workload_list")).status_code == 200

    bob.is_active = False
    bob.save()

    assert client.get(reverse("reviews:workload_list")).status_code == 302


def test_an_issuer_without_client_credentials_fails_the_checks(settings):
    settings.OIDC_ISSUER = "https://id.example.com"
    settings.OIDC_RP_CLIENT_ID = ""
    settings.OIDC_RP_CLIENT_SECRET = "s"

    assert [message.id for message in sso_configured()] == ["archlens.E101"]


def test_password_login_off_without_an_issuer_is_a_warning(settings):
    settings.OIDC_ISSUER = ""
    settings.PASSWORD_LOGIN = False

    assert [message.id for message in sso_configured()] == ["archlens.W101"]


def test_the_invitation_page_offers_the_provider_only_with_single_sign_on(
    client, settings, admin_user, nothing_listening
):
    _, token = invitation_create(email="dana@example.com", invited_by=admin_user)
    url = reverse("invitation_accept", args=[token])
    assert "Sign in with" not in client.get(url).content.decode()

    sso_settings(settings, nothing_listening)

    page = client.get(url).content.decode()
    assert f"Sign in with {PROVIDER_NAME}" in page
    assert "must have the address dana@example.com" in page
