"""The dashboard and the workload list filtered by team, and their cost with many shares.

A team's workloads are the ones it works on: shared with the team, or owned by one of its
members. The filter only narrows what the user sees anyway.
"""

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from people.models import Team, TeamMember
from reviews.models import Role, Workload
from reviews.services import workload_create, workload_share
from tests.personas import make_viewer, team_with

HTMX = {"HTTP_HX_REQUEST": "true"}


def make_workload(owner, name) -> Workload:
    return workload_create(
        owner=owner,
        name=name,
        description=f"About {name}.",
        environment=Workload.Environment.PRODUCTION,
        review_owner="Someone",
    )


@pytest.fixture
def teams(workload, alice, bob, carol, mallory):
    """Alice sees four workloads. Platform (bob) owns Search and has Billing shared with it;
    Payments API (alice's) is shared with bob himself, not with the team; Intranet is carol's."""
    search = make_workload(bob, "Search")
    workload_share(workload=search, user=alice, role=Role.READONLY)
    billing = make_workload(carol, "Billing")
    team_with(billing, "Platform", Role.CONTRIBUTOR, bob)
    team_with(billing, "Finance", Role.READONLY, alice)
    intranet = make_workload(carol, "Intranet")
    workload_share(workload=intranet, user=alice, role=Role.READONLY)
    return {"search": search, "billing": billing, "intranet": intranet}


def listed(client, name, **params) -> list[str]:
    response = client.get(reverse(f"reviews:{name}"), params)
    assert response.status_code == 200
    if name == "dashboard":
        return sorted(row.name for row in response.context["data"].rows)
    return sorted(workload.name for workload in response.context["workloads"])


@pytest.mark.parametrize("page", ["dashboard", "workload_list"])
def test_a_team_filter_shows_the_workloads_shared_with_it_or_owned_by_its_members(
    client, alice, teams, page
):
    client.force_login(alice)

    assert listed(client, page) == ["Billing", "Intranet", "Payments API", "Search"]
    assert listed(client, page, team="Platform") == ["Billing", "Search"]
    assert listed(client, page, team="  platform ") == ["Billing", "Search"]
    # Alice is in Finance: her own workload is one the team works on.
    assert listed(client, page, team="Finance") == ["Billing", "Payments API"]
    assert listed(client, page, team="Nobody's team") == []


@pytest.mark.parametrize("page", ["dashboard", "workload_list"])
def test_the_team_filter_never_shows_more_than_the_user_sees(client, mallory, teams, page):
    client.force_login(mallory)
    assert listed(client, page, team="Platform") == []

    make_viewer(mallory)
    assert listed(client, page, team="Platform") == ["Billing", "Search"]


@pytest.mark.parametrize("page", ["dashboard", "workload_list"])
def test_the_filter_offers_every_team_and_keeps_the_choice(client, alice, teams, page):
    client.force_login(alice)

    body = client.get(reverse(f"reviews:{page}"), {"team": "Platform"}).content.decode()

    assert '<option value="Finance">Finance</option>' in body
    assert '<option value="Platform" selected>Platform</option>' in body


def test_the_workload_list_keeps_the_team_filter_in_its_sort_links(client, alice, teams):
    client.force_login(alice)

    response = client.get(reverse("reviews:workload_list"), {"team": "Platform"})

    links = [column["url"] for column in response.context["columns"] if column["url"]]
    assert links and all("team=Platform" in link for link in links)


def test_a_team_name_is_escaped_in_the_filter(client, alice, teams):
    Team.objects.create(name="<script>alert(1)</script>")
    client.force_login(alice)

    body = client.get(reverse("reviews:dashboard")).content.decode()

    assert "<script>alert(1)</script>" not in body


def count(client, url, params, **extra) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params, **extra).status_code == 200
    return len(captured)


REQUESTS = [
    (reverse("reviews:dashboard"), {}, {}),
    (reverse("reviews:dashboard"), {"team": "Platform"}, {}),
    (reverse("reviews:dashboard"), {"team": "Platform"}, HTMX),
    (reverse("reviews:workload_list"), {}, {}),
    (reverse("reviews:workload_list"), {"team": "Platform"}, {}),
    (reverse("reviews:workload_list"), {"team": "Platform"}, HTMX),
]


@pytest.mark.parametrize("viewer", [False, True])
def test_the_list_and_the_dashboard_cost_no_query_per_team_or_share(
    client, alice, bob, teams, viewer
):
    if viewer:
        make_viewer(alice)
    client.force_login(alice)
    before = [count(client, url, params, **extra) for url, params, extra in REQUESTS]

    people = [
        User.objects.create_user(f"p{n}", f"p{n}@example.com", "pw-for-tests-9") for n in range(6)
    ]
    for n in range(8):
        shared = make_workload(people[n % 6], f"Team workload {n}")
        team = team_with(shared, f"Team {n}", Role.READONLY, *people[:3])
        TeamMember.objects.create(team=team, user=alice)
        team_with(shared, f"Other team {n}", Role.CONTRIBUTOR, alice, bob)
        workload_share(workload=shared, user=alice, role=Role.READONLY)
    TeamMember.objects.create(team=Team.objects.get(name="Platform"), user=alice)

    after = [count(client, url, params, **extra) for url, params, extra in REQUESTS]
    assert after == before
    assert len(client.get(reverse("reviews:workload_list")).context["workloads"]) == 12
