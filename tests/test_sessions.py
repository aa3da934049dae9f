"""Sessions come from the cache when it is shared, and ending them still ends them there."""

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config.settings import session_engine
from people.services import user_deactivate

CACHED = "django.contrib.sessions.backends.cached_db"
PASSWORD = "pw-for-tests-9"


@pytest.fixture
def cached_sessions(settings):
    settings.SESSION_ENGINE = CACHED


def signed_in(username: str) -> Client:
    browser = Client()
    response = browser.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def session_queries(browser: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        browser.get(url)
    return [q["sql"] for q in captured.captured_queries if "django_session" in q["sql"]]


def test_sessions_are_cached_only_where_the_cache_is_shared():
    assert session_engine({"CACHE_URL": "redis://127.0.0.1:6379/0"}) == CACHED
    assert session_engine({}) == "django.contrib.sessions.backends.db"
    assert session_engine({"CACHE_URL": " "}) == "django.contrib.sessions.backends.db"


def test_a_cached_session_is_read_without_the_database(cached_sessions, alice):
    browser = signed_in("alice")

    assert session_queries(browser, reverse("lenses:catalogue")) == []
    assert Session.objects.count() == 1  # and it is kept in the database too


def test_signing_out_everywhere_ends_cached_sessions(cached_sessions, alice):
    here, elsewhere = signed_in("alice"), signed_in("alice")
    assert elsewhere.get(reverse("account:account")).status_code == 200

    here.post(reverse("account:sessions_end"))

    assert elsewhere.get(reverse("account:account")).status_code == 302
    assert here.get(reverse("account:account")).status_code == 200


def test_deactivating_ends_cached_sessions(cached_sessions, alice, admin_user):
    browser = signed_in("alice")
    assert browser.get(reverse("account:account")).status_code == 200

    user_deactivate(user=alice, actor=admin_user)

    assert browser.get(reverse("account:account")).status_code == 302
    assert not Session.objects.exists()
