"""The sharing page: members, sharing, role changes, revoking and handing over ownership."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from reviews.models import Role, Workload, WorkloadMember

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def dave(db) -> User:
    return User.objects.create_user("dave", "Dave@Example.com", "pw-for-tests-9")


def sharing_url(workload) -> str:
    return reverse("reviews:sharing", args=[workload.public_id])


def member_url(workload, user) -> str:
    return reverse("reviews:member_update", args=[workload.public_id, user.pk])


def transfer_url(workload) -> str:
    return reverse("reviews:transfer", args=[workload.public_id])


def roles(workload) -> dict[str, str]:
    return dict(
        WorkloadMember.objects.filter(workload=workload).values_list("user__username", "role")
    )


# -- the page ------------------------------------------------------------------------------------


def test_the_owner_sees_members_with_the_forms_to_change_them(client, alice, workload):
    client.force_login(alice)

    response = client.get(sharing_url(workload))

    body = response.content.decode()
    assert response.status_code == 200
    assert [m.user.username for m in response.context["members"]] == ["alice", "bob", "carol"]
    assert "Share with someone" in body and "Hand over ownership" in body
    assert 'id="member-' in body and "Revoke" in body


def test_other_members_see_the_member_list_read_only(client, carol, workload):
    client.force_login(carol)

    response = client.get(sharing_url(workload))

    body = response.content.decode()
    assert response.status_code == 200
    assert "alice" in body and "bob" in body and "Read-only" in body
    assert "Share with someone" not in body and "Revoke" not in body
    assert "Only the owner, alice, changes who has access." in body


def test_the_sharing_page_requires_login(client, workload):
    response = client.get(sharing_url(workload))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_sharing_page_is_hidden_from_users_without_access(
    client, mallory, admin_user, workload
):
    for user in (mallory, admin_user):
        client.force_login(user)
        assert client.get(sharing_url(workload)).status_code == 404
        assert client.post(sharing_url(workload), {"user": user.username}).status_code == 404
    assert roles(workload) == {"alice": "OWNER", "bob": "CONTRIBUTOR", "carol": "READONLY"}


def test_the_sharing_page_rejects_put(client, alice, workload):
    client.force_login(alice)

    assert client.put(sharing_url(workload)).status_code == 405


# -- sharing -------------------------------------------------------------------------------------


def test_the_owner_shares_by_username(client, alice, mallory, workload):
    client.force_login(alice)

    response = client.post(sharing_url(workload), {"user": "mallory", "role": "READONLY"})

    assert response.status_code == 302
    assert response.url == sharing_url(workload)
    assert roles(workload)["mallory"] == Role.READONLY
    assert "mallory now has read-only access." in client.get(response.url).content.decode()
    client.force_login(mallory)
    assert client.get(reverse("reviews:workload_list")).context["workloads"][0] == workload


def test_the_owner_shares_by_email_ignoring_case(client, alice, dave, workload):
    client.force_login(alice)

    response = client.post(
        sharing_url(workload), {"user": "dave@example.COM", "role": "CONTRIBUTOR"}
    )

    assert response.status_code == 302
    assert roles(workload)["dave"] == Role.CONTRIBUTOR


def test_sharing_with_an_unknown_user_says_so_and_changes_nothing(client, alice, workload):
    client.force_login(alice)

    response = client.post(
        sharing_url(workload), {"user": "nobody@example.com", "role": "READONLY"}
    )

    assert response.status_code == 200
    assert "No user “nobody@example.com”" in response.content.decode()
    assert len(roles(workload)) == 3


def test_an_email_address_of_several_users_needs_the_username(client, alice, dave, workload):
    User.objects.create_user("dave2", "dave@example.com", "pw-for-tests-9")
    client.force_login(alice)

    response = client.post(sharing_url(workload), {"user": "dave@example.com", "role": "READONLY"})

    assert response.status_code == 200
    assert "a shared email address needs the username" in response.content.decode()
    assert "dave" not in roles(workload)


def test_an_inactive_user_cannot_be_added(client, alice, dave, workload):
    User.objects.filter(pk=dave.pk).update(is_active=False)
    client.force_login(alice)

    response = client.post(sharing_url(workload), {"user": "dave", "role": "READONLY"})

    assert response.status_code == 200
    assert "dave" not in roles(workload)


def test_the_owner_cannot_share_with_themselves(client, alice, workload):
    client.force_login(alice)

    response = client.post(sharing_url(workload), {"user": "alice", "role": "READONLY"})

    assert response.status_code == 200
    assert "alice owns this workload already." in response.content.decode()
    assert roles(workload)["alice"] == Role.OWNER


@pytest.mark.parametrize("role", ["OWNER", "ADMIN", ""])
def test_a_share_is_contributor_or_read_only(client, alice, mallory, workload, role):
    client.force_login(alice)

    response = client.post(sharing_url(workload), {"user": "mallory", "role": role})

    assert response.status_code == 200
    assert "mallory" not in roles(workload)


def test_it_requires_owner_access_to_share(client, bob, carol, mallory, workload):
    for user in (bob, carol):
        client.force_login(user)
        response = client.post(sharing_url(workload), {"user": "mallory", "role": "CONTRIBUTOR"})
        assert response.status_code == 403
    assert "mallory" not in roles(workload)


def test_an_htmx_share_gets_the_member_list_back(client, alice, mallory, workload):
    client.force_login(alice)

    response = client.post(
        sharing_url(workload), {"user": "mallory", "role": "CONTRIBUTOR"}, **HTMX
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="members">')
    assert f'id="member-{mallory.pk}"' in body
    assert "mallory now has contributor access." in body
    assert "<html" not in body


def test_an_htmx_request_for_the_sharing_page_gets_the_member_list(client, carol, workload):
    client.force_login(carol)

    response = client.get(sharing_url(workload), **HTMX)

    assert response.content.decode().lstrip().startswith('<div id="members">')


# -- changing and revoking a share ---------------------------------------------------------------


def test_the_owner_changes_a_role(client, alice, bob, workload):
    client.force_login(alice)

    response = client.post(member_url(workload, bob), {"action": "role", "role": "READONLY"})

    assert response.status_code == 302
    assert roles(workload)["bob"] == Role.READONLY
    client.force_login(bob)
    assert client.get(reverse("reviews:workload_edit", args=[workload.public_id])).status_code == (
        403
    )


def test_the_owner_revokes_a_share(client, alice, carol, workload):
    client.force_login(alice)

    response = client.post(member_url(workload, carol), {"action": "revoke"})

    assert response.status_code == 302
    assert "carol" not in roles(workload)
    assert "carol no longer has access." in client.get(response.url).content.decode()
    client.force_login(carol)
    assert client.get(
        reverse("reviews:workload_detail", args=[workload.public_id])
    ).status_code == (404)


def test_the_owner_cannot_revoke_or_demote_themselves(client, alice, workload):
    client.force_login(alice)

    revoke = client.post(member_url(workload, alice), {"action": "revoke"})
    demote = client.post(member_url(workload, alice), {"action": "role", "role": "READONLY"})

    assert revoke.status_code == demote.status_code == 200
    assert "hand over ownership first" in revoke.content.decode()
    assert "alice owns this workload already." in demote.content.decode()
    assert roles(workload)["alice"] == Role.OWNER


def test_a_role_change_needs_a_valid_role(client, alice, bob, workload):
    client.force_login(alice)

    response = client.post(member_url(workload, bob), {"action": "role", "role": "OWNER"})

    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert roles(workload)["bob"] == Role.CONTRIBUTOR


def test_changing_a_user_who_is_not_a_member_is_not_found(client, alice, mallory, workload):
    client.force_login(alice)

    response = client.post(member_url(workload, mallory), {"action": "role", "role": "READONLY"})

    assert response.status_code == 404
    assert "mallory" not in roles(workload)


def test_it_requires_owner_access_to_change_a_share(client, bob, carol, mallory, workload):
    for user, status in ((bob, 403), (carol, 403), (mallory, 404)):
        client.force_login(user)
        assert client.post(member_url(workload, carol), {"action": "revoke"}).status_code == status
    assert "carol" in roles(workload)


def test_changing_a_share_requires_login(client, carol, workload):
    response = client.post(member_url(workload, carol), {"action": "revoke"})

    assert response.status_code == 302
    assert "carol" in roles(workload)


def test_changing_a_share_rejects_get(client, alice, carol, workload):
    client.force_login(alice)

    assert client.get(member_url(workload, carol)).status_code == 405


def test_an_htmx_revoke_gets_the_member_list_back(client, alice, carol, workload):
    client.force_login(alice)

    response = client.post(member_url(workload, carol), {"action": "revoke"}, **HTMX)

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="members">')
    assert f'id="member-{carol.pk}"' not in body


# -- handing over ownership ----------------------------------------------------------------------


def test_the_owner_hands_the_workload_over_and_stays_as_contributor(client, alice, bob, workload):
    client.force_login(alice)

    response = client.post(transfer_url(workload), {"user": "bob", "confirm": "on"})

    workload.refresh_from_db()
    assert response.status_code == 302
    assert workload.owner == bob
    assert roles(workload) == {"alice": "CONTRIBUTOR", "bob": "OWNER", "carol": "READONLY"}
    page = client.get(response.url).content.decode()
    assert "bob owns “Payments API” now" in page
    assert "Share with someone" not in page


def test_ownership_goes_to_a_user_who_was_not_a_member_yet(client, alice, dave, workload):
    client.force_login(alice)

    response = client.post(transfer_url(workload), {"user": "dave@example.com", "confirm": "on"})

    assert response.status_code == 302
    assert Workload.objects.get(pk=workload.pk).owner == dave
    assert roles(workload)["alice"] == Role.CONTRIBUTOR


def test_a_hand_over_needs_the_confirmation(client, alice, workload):
    client.force_login(alice)

    response = client.post(transfer_url(workload), {"user": "bob"})

    assert response.status_code == 200
    assert "Tick the box to confirm the hand-over." in response.content.decode()
    assert Workload.objects.get(pk=workload.pk).owner == alice


def test_a_hand_over_to_an_unknown_user_says_so(client, alice, workload):
    client.force_login(alice)

    response = client.post(transfer_url(workload), {"user": "zed", "confirm": "on"})

    assert response.status_code == 200
    assert "No user “zed”" in response.content.decode()
    assert roles(workload)["alice"] == Role.OWNER


def test_a_hand_over_to_the_owner_says_so(client, alice, workload):
    client.force_login(alice)

    response = client.post(transfer_url(workload), {"user": "alice", "confirm": "on"})

    assert response.status_code == 200
    assert "alice owns this workload already." in response.content.decode()


def test_it_requires_owner_access_to_hand_over(client, bob, carol, mallory, workload):
    for user, status in ((bob, 403), (carol, 403), (mallory, 404)):
        client.force_login(user)
        response = client.post(transfer_url(workload), {"user": user.username, "confirm": "on"})
        assert response.status_code == status
    assert Workload.objects.get(pk=workload.pk).owner.username == "alice"


def test_handing_over_requires_login(client, workload):
    response = client.post(transfer_url(workload), {"user": "bob", "confirm": "on"})

    assert response.status_code == 302
    assert Workload.objects.get(pk=workload.pk).owner.username == "alice"


def test_handing_over_rejects_get(client, alice, workload):
    client.force_login(alice)

    assert client.get(transfer_url(workload)).status_code == 405


def test_an_htmx_hand_over_gets_the_read_only_member_list(client, alice, bob, workload):
    client.force_login(alice)

    response = client.post(transfer_url(workload), {"user": "bob", "confirm": "on"}, **HTMX)

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="members">')
    assert "bob owns “Payments API” now" in body
    assert "Hand over ownership" not in body


def test_the_sharing_page_escapes_names(client, alice, workload):
    User.objects.create_user("eve", "eve@example.com", "pw-for-tests-9", first_name="<b>Eve</b>")
    Workload.objects.filter(pk=workload.pk).update(name="<script>alert(1)</script>")
    client.force_login(alice)
    client.post(sharing_url(workload), {"user": "eve", "role": "READONLY"})

    body = client.get(sharing_url(workload)).content.decode()

    assert "<script>alert(1)</script>" not in body and "<b>Eve</b>" not in body
    assert "&lt;b&gt;Eve&lt;/b&gt;" in body
