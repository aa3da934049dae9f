import logging
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from people.models import Invitation, PeopleEvent, token_hash
from people.services import PeopleError, invitation_accept, invitation_create, invitation_join

LINK = re.compile(r"http://testserver/invitations/[A-Za-z0-9_-]+/")


def invite(client, email="dana@example.com", name="Dana Diaz"):
    return client.post(reverse("people:invite"), {"email": email, "name": name})


def accept(client, link, username="dana", password="a-long-pass-42"):
    return client.post(
        link,
        {
            "first_name": "Dana",
            "last_name": "Diaz",
            "username": username,
            "password1": password,
            "password2": password,
        },
    )


def test_an_invitation_mailed_through_smtp_lets_the_person_join_and_signs_them_in(
    client, admin_user, smtp_server
):
    client.force_login(admin_user)

    response = invite(client)

    assert response.status_code == 302
    assert response.url == reverse("people:people")
    [mail] = smtp_server.messages
    assert mail["To"] == "dana@example.com"
    body = mail.get_body().get_content()
    assert "Dana Diaz" in body
    link = LINK.search(body).group(0)

    client.logout()
    page = client.get(link)
    assert page.status_code == 200
    assert "dana@example.com" in page.content.decode()
    response = accept(client, link)

    assert response.status_code == 302
    dana = User.objects.get(username="dana")
    assert (dana.email, dana.get_full_name()) == ("dana@example.com", "Dana Diaz")
    assert client.session["_auth_user_id"] == str(dana.pk)
    invitation = Invitation.objects.get()
    assert invitation.user == dana and invitation.accepted_at is not None
    assert [e.action for e in PeopleEvent.objects.order_by("at")] == ["INVITED", "JOINED"]


def test_the_link_works_once(client, admin_user, smtp_server):
    client.force_login(admin_user)
    invite(client)
    link = LINK.search(smtp_server.messages[0].get_body().get_content()).group(0)
    client.logout()
    accept(client, link)
    client.logout()

    again = client.get(link)
    reused = accept(client, link, username="dana2")

    assert again.status_code == 404
    assert "not valid any more" in again.content.decode()
    assert reused.status_code == 404
    assert User.objects.filter(email="dana@example.com").count() == 1


def test_the_token_is_stored_only_as_its_hash(admin_user):
    invitation, token = invitation_create(email="dana@example.com", invited_by=admin_user)

    assert invitation.token_hash == token_hash(token)
    assert token not in str(Invitation.objects.filter(pk=invitation.pk).values().get())


def test_without_mail_the_link_is_shown_to_the_inviter(client, admin_user, no_mail, mailoutbox):
    client.force_login(admin_user)

    response = invite(client)

    assert response.status_code == 200
    link = LINK.search(response.content.decode()).group(0)
    assert "Mail is not set up here" in response.content.decode()
    client.logout()
    assert accept(client, link).status_code == 302


def test_a_mail_server_that_is_down_keeps_the_invitation_and_shows_the_link(
    client, admin_user, smtp_down, caplog
):
    client.force_login(admin_user)

    with caplog.at_level(logging.WARNING, logger="archlens.mail"):
        response = invite(client)

    assert response.status_code == 200
    assert "could not take the invitation" in response.content.decode()
    assert LINK.search(response.content.decode())
    assert Invitation.objects.pending().count() == 1
    [record] = [r for r in caplog.records if r.name == "archlens.mail"]
    assert record.exc_info is None
    assert "dana@example.com" in record.getMessage()


def test_an_email_that_has_an_account_is_refused_with_a_clear_message(client, admin_user, alice):
    client.force_login(admin_user)

    response = invite(client, email="ALICE@example.com")

    assert response.status_code == 200
    assert "alice@example.com already has an account" in response.content.decode().replace(
        "ALICE", "alice"
    )
    assert not Invitation.objects.exists()


def test_a_second_invitation_to_a_pending_address_is_refused(admin_user):
    invitation_create(email="dana@example.com", invited_by=admin_user)

    with pytest.raises(PeopleError, match="invited already"):
        invitation_create(email="Dana@Example.com", invited_by=admin_user)


def test_an_invalid_email_is_refused_and_creates_nothing(client, admin_user):
    client.force_login(admin_user)

    response = invite(client, email="not-an-address")

    assert response.status_code == 200
    assert "valid email" in response.content.decode()
    assert not Invitation.objects.exists()


def test_an_expired_invitation_does_not_open(client, admin_user):
    invitation, token = invitation_create(email="dana@example.com", invited_by=admin_user)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    response = client.get(reverse("invitation_accept", args=[token]))

    assert response.status_code == 404
    assert "expired" in response.content.decode()


def test_a_revoked_invitation_does_not_open(client, admin_user):
    invitation, token = invitation_create(email="dana@example.com", invited_by=admin_user)
    client.force_login(admin_user)

    client.post(reverse("people:invitation_revoke", args=[invitation.pk]))

    assert Invitation.objects.get().revoked
    client.logout()
    assert client.get(reverse("invitation_accept", args=[token])).status_code == 404


def test_resending_replaces_the_link(client, admin_user, smtp_server):
    invitation, old_token = invitation_create(email="dana@example.com", invited_by=admin_user)
    client.force_login(admin_user)

    response = client.post(reverse("people:invitation_resend", args=[invitation.pk]))

    assert response.status_code == 302
    new_link = LINK.search(smtp_server.messages[0].get_body().get_content()).group(0)
    client.logout()
    assert client.get(reverse("invitation_accept", args=[old_token])).status_code == 404
    assert client.get(new_link).status_code == 200


def test_a_weak_password_is_refused_and_creates_no_account(client, admin_user):
    _, token = invitation_create(email="dana@example.com", invited_by=admin_user)

    response = accept(client, reverse("invitation_accept", args=[token]), password="dana")

    assert response.status_code == 200
    assert "too short" in response.content.decode()
    assert not User.objects.filter(username="dana").exists()
    assert Invitation.objects.pending().count() == 1


def test_a_taken_username_is_refused(client, admin_user, alice):
    _, token = invitation_create(email="dana@example.com", invited_by=admin_user)

    response = accept(client, reverse("invitation_accept", args=[token]), username="Alice")

    assert response.status_code == 200
    assert "username is taken" in response.content.decode()


def test_mismatched_passwords_are_refused(client, admin_user):
    _, token = invitation_create(email="dana@example.com", invited_by=admin_user)
    link = reverse("invitation_accept", args=[token])

    response = client.post(
        link, {"username": "dana", "password1": "a-long-pass-42", "password2": "other-pass-42"}
    )

    assert "two passwords differ" in response.content.decode()
    assert not User.objects.filter(username="dana").exists()


def test_an_account_created_meanwhile_with_that_email_stops_the_invitation(admin_user):
    _, token = invitation_create(email="dana@example.com", invited_by=admin_user)
    User.objects.create_user("dana-sso", "dana@example.com")

    with pytest.raises(PeopleError, match="has an account already"):
        invitation_accept(token=token, username="dana", password="a-long-pass-42")


def test_only_staff_invite(client, alice):
    client.force_login(alice)

    assert client.get(reverse("people:invite")).status_code == 403
    assert invite(client).status_code == 403
    assert not Invitation.objects.exists()


def test_an_account_that_came_by_single_sign_on_takes_up_its_invitation(admin_user):
    invitation, token = invitation_create(email="dana@example.com", invited_by=admin_user)
    dana = User.objects.create_user("dana", "Dana@Example.com")

    assert invitation_join(user=dana) == invitation

    invitation.refresh_from_db()
    assert invitation.user == dana and not invitation.is_pending
    assert PeopleEvent.objects.filter(action="JOINED", target_user="dana").exists()
    assert invitation_join(user=dana) is None
