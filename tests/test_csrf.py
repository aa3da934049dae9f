"""Every state-changing URL refuses a POST without the CSRF token and takes one with it.

The URLs come from the access walk's RULES, so a new POST URL is covered as soon as it is
classified there.
"""

import pytest
from django.test import Client
from django.urls import reverse

from lenses.models import LensVersion
from reviews.milestones import milestone_create
from tests.test_access import RULES, personas, url_for  # noqa: F401 (personas: a fixture)

POSTS = sorted(
    (name, rule) for name, rules in RULES.items() for method, rule in rules if method == "POST"
)
PERSONA = {
    "public": "alice",
    "staff": "admin_user",
    "user": "alice",
    "read": "carol",
    "write": "bob",
    "owner": "alice",
    "template_read": "carol",
    "template_write": "bob",
    "template_owner": "alice",
}


@pytest.fixture
def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def csrf_token(client: Client) -> str:
    # Every page puts the token in <body hx-headers>, which sets the cookie.
    assert client.get(reverse("reviews:workload_list")).status_code == 200
    return client.cookies["csrftoken"].value


@pytest.mark.parametrize(("name", "rule"), POSTS)
@pytest.mark.usefixtures("personas")  # the walk's people, the workload's team share too
def test_a_post_without_the_csrf_token_is_refused(
    csrf_client, request, name, rule, workload, admin_user, carol, bob, alice, people_targets
):
    version = LensVersion.objects.get(lens__alias="wellarchitected")
    milestone_create(workload=workload, name="Baseline", user=alice)
    url = url_for(name, workload, version, bob, people_targets)
    csrf_client.force_login(request.getfixturevalue(PERSONA[rule]))
    csrf_token(csrf_client)  # the cookie alone is not enough: the token must be sent too

    assert csrf_client.post(url).status_code == 403


@pytest.mark.parametrize(("name", "rule"), POSTS)
@pytest.mark.usefixtures("personas")  # the walk's people, the workload's team share too
def test_a_post_with_the_csrf_token_is_accepted(
    csrf_client, request, name, rule, workload, admin_user, carol, bob, alice, people_targets
):
    version = LensVersion.objects.get(lens__alias="wellarchitected")
    milestone_create(workload=workload, name="Baseline", user=alice)
    url = url_for(name, workload, version, bob, people_targets)
    csrf_client.force_login(request.getfixturevalue(PERSONA[rule]))

    # As htmx sends it: the X-CSRFToken header from <body hx-headers>.
    response = csrf_client.post(url, HTTP_X_CSRFTOKEN=csrf_token(csrf_client))

    # Not 403: it reached the view, which saved, redirected or re-rendered its form.
    assert response.status_code in (200, 204, 302), response.status_code


def test_login_needs_the_csrf_token(csrf_client, alice):
    credentials = {"username": "alice", "password": "pw-for-tests-9"}
    assert csrf_client.post(reverse("login"), credentials).status_code == 403

    csrf_client.get(reverse("login"))
    token = csrf_client.cookies["csrftoken"].value
    response = csrf_client.post(reverse("login"), {**credentials, "csrfmiddlewaretoken": token})

    assert response.status_code == 302


def test_logout_needs_the_csrf_token(csrf_client, alice):
    csrf_client.force_login(alice)
    assert csrf_client.post(reverse("logout")).status_code == 403

    token = csrf_token(csrf_client)
    response = csrf_client.post(reverse("logout"), {"csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert "_auth_user_id" not in csrf_client.session
