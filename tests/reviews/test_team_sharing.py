"""Sharing a workload with teams on the sharing page, and what the page says about access."""

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from people.models import Team, TeamMember
from reviews.errors import NOT_FOUND
from reviews.models import Role, WorkloadActivity, WorkloadTeamShare
from reviews.services import ReviewError, workload_share_team, workload_unshare_team
from tests.personas import make_viewer, team_with

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def platform(db) -> Team:
    team = Team.objects.create(name="Platform")
    for name, full in (("tina", "Tina Turner"), ("tom", "")):
        user = User.objects.create_user(name, f"{name}@example.com", "pw-9", first_name=full)
        TeamMember.objects.create(team=team, user=user)
    return team


def sharing_url(workload) -> str:
    return reverse("reviews:sharing", args=[workload.public_id])


def team_share_url(workload) -> str:
    return reverse("reviews:team_share", args=[workload.public_id])


def team_update_url(workload, team) -> str:
    return reverse("reviews:team_share_update", args=[workload.public_id, team.pk])


def team_roles(workload) -> dict[str, str]:
    return dict(
        WorkloadTeamShare.objects.filter(workload=workload).values_list("team__name", "role")
    )


# -- the page ------------------------------------------------------------------------------------


def test_the_page_shows_each_team_with_the_people_who_get_access_through_it(
    client, carol, workload, platform
):
    workload_share_team(workload=workload, team=platform, role=Role.CONTRIBUTOR)
    gone = User.objects.create_user("gone", "gone@example.com", "pw-9", is_active=False)
    TeamMember.objects.create(team=platform, user=gone)
    team_with(workload, "Empty team", Role.READONLY)
    client.force_login(carol)

    body = client.get(sharing_url(workload)).content.decode()

    row = body[body.index(f'id="team-{platform.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Platform" in row and "Contributor" in row
    assert 'tina <span class="muted">(Tina Turner)</span>, tom' in row
    assert "gone" not in row
    assert "Nobody yet: the team has no members." in body
    assert "Change role" not in body and "Share with a team" not in body


def test_the_page_says_how_many_portfolio_viewers_read_the_workload(client, alice, workload):
    client.force_login(alice)
    assert "No portfolio viewers" in client.get(sharing_url(workload)).content.decode()

    for name in ("vera", "vic"):
        make_viewer(User.objects.create_user(name, f"{name}@example.com", "pw-9"))
    make_viewer(User.objects.create_user("old", "old@example.com", "pw-9", is_active=False))

    body = client.get(sharing_url(workload)).content.decode()
    assert "<strong>2 portfolio viewers</strong> can read this workload" in body


def test_a_workload_shared_with_no_team_says_so(client, alice, workload):
    client.force_login(alice)

    body = client.get(sharing_url(workload)).content.decode()

    assert "Not shared with any team." in body
    assert "Share with a team" in body


def test_the_page_takes_the_same_queries_for_one_team_or_many(
    client, alice, workload, platform, django_assert_num_queries
):
    workload_share_team(workload=workload, team=platform, role=Role.READONLY)
    client.force_login(alice)
    with CaptureQueriesContext(connection) as first:
        client.get(sharing_url(workload))
    for number in range(6):
        members = [
            User.objects.create_user(f"u{number}{m}", f"u{number}{m}@example.com", "pw-9")
            for m in range(3)
        ]
        team_with(workload, f"Team {number}", Role.CONTRIBUTOR, *members)

    with django_assert_num_queries(len(first)):
        response = client.get(sharing_url(workload))
    assert len(response.context["team_shares"]) == 7


# -- sharing with a team ----------------------------------------------------------------------


def test_the_owner_shares_with_a_team(client, alice, workload, platform):
    client.force_login(alice)

    response = client.post(team_share_url(workload), {"team": platform.pk, "role": "CONTRIBUTOR"})

    assert response.status_code == 302 and response.url == sharing_url(workload)
    assert team_roles(workload) == {"Platform": Role.CONTRIBUTOR}
    body = client.get(response.url).content.decode()
    assert "The team Platform now has contributor access." in body
    tina = User.objects.get(username="tina")
    client.force_login(tina)
    assert client.get(reverse("reviews:workload_list")).context["workloads"][0] == workload


def test_sharing_with_a_team_again_changes_its_role(client, alice, workload, platform):
    workload_share_team(workload=workload, team=platform, role=Role.CONTRIBUTOR)
    client.force_login(alice)

    client.post(team_share_url(workload), {"team": platform.pk, "role": "READONLY"})

    assert team_roles(workload) == {"Platform": Role.READONLY}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"team": "", "role": "READONLY"}, "Choose a team."),
        ({"team": "999999", "role": "READONLY"}, "There is no such team"),
        ({"team": "x'; --", "role": "READONLY"}, "There is no such team"),
        ({"team": "PLATFORM", "role": "OWNER"}, "Select a valid choice"),
    ],
)
def test_a_team_share_needs_a_team_and_a_role(client, alice, workload, platform, data, message):
    client.force_login(alice)
    if data["team"] == "PLATFORM":
        data = {**data, "team": platform.pk}

    response = client.post(team_share_url(workload), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert team_roles(workload) == {}
    assert not WorkloadActivity.objects.filter(action__startswith="TEAM").exists()


def test_only_the_owner_shares_with_a_team(client, bob, carol, mallory, workload, platform):
    data = {"team": platform.pk, "role": "CONTRIBUTOR"}
    for user, status in ((bob, 403), (carol, 403), (mallory, 404)):
        client.force_login(user)
        assert client.post(team_share_url(workload), data).status_code == status
    assert team_roles(workload) == {}


def test_an_htmx_team_share_gets_the_member_list_back(client, alice, workload, platform):
    client.force_login(alice)

    response = client.post(
        team_share_url(workload), {"team": platform.pk, "role": "READONLY"}, **HTMX
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="members">')
    assert "The team Platform now has read-only access." in body
    assert f'id="team-{platform.pk}"' in body


# -- changing and revoking ---------------------------------------------------------------------


def test_the_owner_changes_a_team_role_and_revokes_it(client, alice, workload, platform):
    workload_share_team(workload=workload, team=platform, role=Role.READONLY)
    client.force_login(alice)

    response = client.post(
        team_update_url(workload, platform), {"action": "role", "role": "CONTRIBUTOR"}
    )
    assert response.status_code == 302
    assert team_roles(workload) == {"Platform": Role.CONTRIBUTOR}

    response = client.post(team_update_url(workload, platform), {"action": "revoke"}, **HTMX)
    assert "The team Platform no longer has access." in response.content.decode()
    assert team_roles(workload) == {}


def test_a_team_role_change_needs_a_valid_role(client, alice, workload, platform):
    workload_share_team(workload=workload, team=platform, role=Role.READONLY)
    client.force_login(alice)

    response = client.post(team_update_url(workload, platform), {"action": "role", "role": "X"})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert team_roles(workload) == {"Platform": Role.READONLY}


def test_changing_a_team_the_workload_is_not_shared_with_is_not_found(
    client, alice, workload, platform
):
    client.force_login(alice)

    response = client.post(team_update_url(workload, platform), {"action": "revoke"})

    assert response.status_code == 404


def test_only_the_owner_changes_a_team_share(client, bob, carol, mallory, workload, platform):
    workload_share_team(workload=workload, team=platform, role=Role.READONLY)
    for user, status in ((bob, 403), (carol, 403), (mallory, 404)):
        client.force_login(user)
        assert client.post(
            team_update_url(workload, platform), {"action": "revoke"}
        ).status_code == (status)
    assert team_roles(workload) == {"Platform": Role.READONLY}


def test_the_services_refuse_an_owner_role_and_a_share_that_is_not_there(workload, platform):
    with pytest.raises(ReviewError, match="contributor or read-only"):
        workload_share_team(workload=workload, team=platform, role=Role.OWNER)
    with pytest.raises(ReviewError) as caught:
        workload_unshare_team(workload=workload, team=platform)
    assert caught.value.kind == NOT_FOUND
    assert team_roles(workload) == {}


def test_the_page_escapes_team_and_member_names(client, alice, workload):
    eve = User.objects.create_user("eve", "eve@example.com", "pw-9", first_name="<b>Eve</b>")
    team_with(workload, "<script>alert(1)</script>", Role.READONLY, eve)
    client.force_login(alice)

    body = client.get(sharing_url(workload)).content.decode()

    assert "<script>alert(1)</script>" not in body and "<b>Eve</b>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "&lt;b&gt;Eve&lt;/b&gt;" in body
