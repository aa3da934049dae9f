"""Deployment settings, security headers, login throttling, /healthz and request ids."""

import logging
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.db import OperationalError
from django.http import HttpRequest
from django.test import RequestFactory
from django.urls import reverse

from config import views
from config.celery import app as celery_app
from config.middleware import client_ip
from tests.reports.conftest import point_celery_at

BASE_DIR = Path(__file__).resolve().parents[1]
EXPECTED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    # Settings exported by an operator, or by the browser tests' conftest (which allows
    # async-unsafe calls, a deploy warning), must not colour the result.
    unset = ("SECURE_", "SESSION_", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC")
    clean = {key: value for key, value in os.environ.items() if not key.startswith(unset)}
    clean |= {"ARCHLENS_VAR_DIR": str(tmp_path), **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_is_clean_with_production_settings(tmp_path):
    env = {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(60)[:60],
        "ALLOWED_HOSTS": "archlens.example.com",
    }
    collected = manage("collectstatic", "--no-input", env=env, tmp_path=tmp_path)
    assert collected.returncode == 0, collected.stderr

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in output
    assert "security.W" not in output


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off(tmp_path):
    result = manage("check", env={"DEBUG": "0"}, tmp_path=tmp_path)

    assert result.returncode != 0
    assert "DEBUG is off: set SECRET_KEY or SECRET_KEY_FILE." in result.stderr


def csp_directives(header: str) -> dict[str, str]:
    parts = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


def test_pages_send_a_strict_content_security_policy(client, workload, alice):
    client.force_login(alice)
    response = client.get(reverse("reviews:workload_detail", args=[workload.public_id]))

    assert response.status_code == 200
    assert csp_directives(response["Content-Security-Policy"]) == EXPECTED_CSP


def test_the_login_page_sends_the_security_headers(client, alice):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert csp_directives(response["Content-Security-Policy"]) == EXPECTED_CSP
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_base_page_keeps_htmx_from_injecting_inline_styles(client, alice):
    content = client.get(reverse("login")).content.decode()

    assert '"includeIndicatorStyles": false' in content


def failed_login(client, username="alice", **extra):
    return client.post(
        reverse("login"), {"username": username, "password": "wrong-password"}, **extra
    )


def test_five_failed_logins_lock_the_username_from_that_address(client, alice):
    for _ in range(4):
        response = failed_login(client)
        assert response.status_code == 200
        assert b"Too many failed" not in response.content

    locked = failed_login(client)

    assert locked.status_code == 429
    assert "Too many failed login attempts. Try again in 15 minutes." in locked.content.decode()
    assert b'name="username"' in locked.content  # the login form again, not a bare error page

    # Even the right password is refused while locked.
    response = client.post(reverse("login"), {"username": "alice", "password": "pw-for-tests-9"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_lockout_does_not_lock_the_same_user_elsewhere(client, alice):
    for _ in range(5):
        failed_login(client)

    response = client.post(
        reverse("login"),
        {"username": "alice", "password": "pw-for-tests-9"},
        REMOTE_ADDR="10.0.0.9",
    )

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_the_lockout_ends_after_15_minutes(client, alice):
    for _ in range(5):
        failed_login(client)
    attempt = AccessAttempt.objects.get(username="alice")
    attempt.attempt_time -= timedelta(minutes=16)
    attempt.save()

    response = client.post(reverse("login"), {"username": "alice", "password": "pw-for-tests-9"})

    assert response.status_code == 302


def test_test_client_login_works_when_given_a_request(client, alice):
    # django-axes needs the request; force_login does not authenticate and needs nothing.
    assert client.login(request=HttpRequest(), username="alice", password="pw-for-tests-9")


@pytest.mark.parametrize(
    ("forwarded", "count", "expected"),
    [
        ("", 0, "192.0.2.1"),
        ("198.51.100.7", 0, "192.0.2.1"),
        ("198.51.100.7", 1, "198.51.100.7"),
        ("6.6.6.6, 198.51.100.7", 1, "198.51.100.7"),
        ("6.6.6.6, 198.51.100.7, 10.0.0.2", 2, "198.51.100.7"),
        ("", 1, "192.0.2.1"),
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(settings, forwarded, count, expected):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected


def test_healthz_reports_ok_without_login(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_is_503_when_the_database_fails(client, db):
    refused = OperationalError("connection refused")
    with mock.patch.object(views.connection, "cursor", side_effect=refused):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == "error"


def test_healthz_reports_a_missing_broker(client, db, settings):
    settings.CELERY_BROKER_URL = ""

    assert client.get("/healthz").json() == {"database": "ok", "broker": "not configured"}


def test_healthz_does_not_hang_on_a_broker_that_never_answers(client, db, monkeypatch):
    # A server that accepts connections and says nothing: the worst case for a client.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        point_celery_at(monkeypatch, celery_app, f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        started = time.monotonic()
        response = client.get("/healthz")
        elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "error"}
    assert elapsed < 2


def test_healthz_bounds_a_slow_broker_check(client, db, monkeypatch):
    monkeypatch.setattr(views, "_broker_ping", lambda: time.sleep(5) or True)
    monkeypatch.setattr(views, "BROKER_TIMEOUT", 0.2)

    started = time.monotonic()
    response = client.get("/healthz")

    assert time.monotonic() - started < 1
    assert response.json()["broker"] == "error"


def test_healthz_answers_probes_by_address_over_plain_http(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["archlens.example.com"]

    assert client.get("/healthz", HTTP_HOST="127.0.0.1:8000").status_code == 200
    assert client.get(reverse("login"), HTTP_HOST="127.0.0.1:8000").status_code == 400
    assert client.get(reverse("login"), HTTP_HOST="archlens.example.com").status_code == 301


def test_healthz_refuses_post(client, db):
    assert client.post("/healthz").status_code == 405


def test_every_response_has_a_request_id_that_is_logged(client, alice, caplog):
    client.force_login(alice)
    with caplog.at_level(logging.INFO, logger="archlens.requests"):
        response = client.get(reverse("lenses:catalogue"))

    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    [record] = [r for r in caplog.records if r.name == "archlens.requests"]
    line = record.getMessage()
    assert line.startswith("GET /lenses/ 200 duration_ms=")
    assert re.search(r" duration_ms=\d+ cpu_ms=\d+\.\d user_id=", line)  # what it cost the server
    assert f"user_id={alice.pk} request_id={request_id}" in line
    assert record.request_id == request_id


def test_a_callers_request_id_is_kept(client, db, caplog):
    with caplog.at_level(logging.INFO, logger="archlens.requests"):
        response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-4f2a.17")

    assert response["X-Request-ID"] == "lb-4f2a.17"
    assert "user_id=- request_id=lb-4f2a.17" in caplog.records[-1].getMessage()


def test_a_request_id_that_could_forge_log_lines_is_replaced(client, db):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="x request_id=admin")

    assert response["X-Request-ID"] != "x request_id=admin"
    assert len(response["X-Request-ID"]) == 32


def test_redirects_get_a_request_id_too(client, db):
    response = client.get(reverse("reviews:workload_list"))

    assert response.status_code == 302
    assert response["X-Request-ID"]
