"""The error page: 503 with Retry-After while the database is away, 500 otherwise."""

from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def raw_client(settings):
    # The test client re-raises view exceptions by default; a browser gets the error page.
    settings.DEBUG = False
    return Client(raise_request_exception=False)


def test_a_database_outage_answers_503_with_a_retry_hint(raw_client, alice):
    raw_client.force_login(alice)
    outage = OperationalError("connection to server at 127.0.0.1 failed: Connection refused")
    with mock.patch("reviews.views.workloads.workloads_for_list", side_effect=outage):
        response = raw_client.get("/workloads/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "unavailable for a moment" in response.content.decode()
    assert "Connection refused" not in response.content.decode()


def test_any_other_error_answers_500_without_details(raw_client, alice):
    raw_client.force_login(alice)
    with mock.patch(
        "reviews.views.workloads.workloads_for_list", side_effect=ValueError("secret detail")
    ):
        response = raw_client.get("/workloads/")

    assert response.status_code == 500
    assert not response.has_header("Retry-After")
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "secret detail" not in body
