"""An htmx request after the session ended sends the whole page to the login form."""

import pytest
from django.shortcuts import redirect
from django.urls import reverse

from config.middleware import HtmxLoginMiddleware

pytestmark = pytest.mark.django_db


def question_url(workload) -> str:
    return reverse("reviews:question", args=[workload.public_id, "wellarchitected", "sec2"])


def test_a_poll_after_the_session_ended_sends_the_page_to_the_login_form(client, workload):
    page = "http://testserver" + question_url(workload)

    response = client.get(
        question_url(workload) + "poll/?v=1.1",
        headers={"HX-Request": "true", "HX-Current-URL": page},
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=" + question_url(workload).replace(
        "/", "%2F"
    )
    assert b"<form" not in response.content


def test_a_plain_request_after_the_session_ended_is_redirected_as_usual(client, workload):
    response = client.get(question_url(workload))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_other_redirects_of_htmx_requests_are_left_to_htmx(rf):
    request = rf.get("/workloads/new/", headers={"HX-Request": "true"})
    middleware = HtmxLoginMiddleware(lambda request: redirect("/workloads/"))

    response = middleware(request)

    assert (response.status_code, response["Location"]) == (302, "/workloads/")
