"""Which account a sign-in through the provider lands in, and what its groups claim changes.

These call the service with the claims a provider sends; tests/sso/test_sign_in_browser.py
gets the same claims from the real provider.
"""

import pytest
from django.contrib.auth.models import User

from people.models import Invitation, PeopleEvent, Team, TeamMember, token_hash
from people.services import team_member_add
from sso.models import Identity
from sso.services import Reason, SignInFailed, sso_sign_in

ISSUER = "http://127.0.0.1:9"
pytestmark = pytest.mark.django_db


def sign_in(**claims) -> User:
    claims = {"sub": "s-1", "email": "dana@example.com", "email_verified": True, **claims}
    return sso_sign_in(issuer=ISSUER, claims=claims, groups_claim="groups")


def teams_of(user: User) -> list[str]:
    return sorted(TeamMember.objects.filter(user=user).values_list("team__name", flat=True))


def test_a_first_sign_in_creates_an_account_without_a_password():
    dana = sign_in(name="Dana Scully", preferred_username="dscully")

    assert (dana.username, dana.email, dana.first_name, dana.last_name) == (
        "dscully",
        "dana@example.com",
        "Dana",
        "Scully",
    )
    assert not dana.has_usable_password()
    event = PeopleEvent.objects.get(action=PeopleEvent.Action.JOINED)
    assert (event.actor, event.target_user, event.detail["via"]) == (
        dana,
        "dscully",
        "single sign-on",
    )


def test_the_same_subject_signs_in_to_the_same_account_even_with_a_new_email():
    dana = sign_in()

    again = sign_in(email="dana.scully@example.com", given_name="Dana", family_name="Katherine")

    assert again == dana
    assert User.objects.count() == 1
    assert again.last_name == "Katherine"


def test_a_username_taken_already_gets_a_number(alice):
    first = sign_in(sub="a", email="alice@other.example", preferred_username="Alice")
    second = sign_in(sub="b", email="alice@third.example", preferred_username="alice")

    assert (first.username, second.username) == ("Alice-2", "alice-3")


def test_a_username_keeps_only_the_characters_django_allows():
    user = sign_in(preferred_username="", email="o'brien (ops)@example.com")

    assert user.username == "obrienops"


def test_a_verified_email_joins_the_existing_account(bob):
    user = sign_in(email="BOB@example.com")

    assert user == bob
    assert bob.has_usable_password()  # their password still works too
    assert Identity.objects.get(user=bob).subject == "s-1"
    assert not PeopleEvent.objects.filter(action=PeopleEvent.Action.JOINED).exists()


def test_an_unverified_email_never_joins_an_existing_account(bob):
    with pytest.raises(SignInFailed) as refused:
        sign_in(email="bob@example.com", email_verified=False)

    assert refused.value.reason == Reason.UNVERIFIED
    assert not Identity.objects.exists()
    assert User.objects.count() == 1


def test_a_verified_email_takes_up_the_pending_invitation(admin_user):
    invitation = Invitation.objects.create(
        email="dana@example.com",
        name="Dana Scully",
        token_hash=token_hash("t"),
        invited_by=admin_user,
    )

    dana = sign_in(email="Dana@Example.com")

    invitation.refresh_from_db()
    assert invitation.user == dana and invitation.accepted_at is not None
    assert (dana.first_name, dana.last_name) == ("Dana", "Scully")
    event = PeopleEvent.objects.get(action=PeopleEvent.Action.JOINED)
    assert event.detail == {"via": "single sign-on", "invited_by": "sam"}


def test_an_unverified_email_does_not_take_up_an_invitation(admin_user):
    Invitation.objects.create(
        email="dana@example.com", token_hash=token_hash("t"), invited_by=admin_user
    )

    with pytest.raises(SignInFailed) as refused:
        sign_in(email_verified="false")

    assert refused.value.reason == Reason.UNVERIFIED
    assert not User.objects.filter(email="dana@example.com").exists()


def test_a_deactivated_account_is_refused_and_nothing_changes(bob):
    sign_in(sub="bob", email="bob@example.com")
    bob.is_active = False
    bob.save()

    with pytest.raises(SignInFailed) as refused:
        sign_in(sub="bob", email="bob@example.com", name="Robert Other", groups=["Platform"])

    assert refused.value.reason == Reason.DEACTIVATED
    bob.refresh_from_db()
    assert bob.first_name == ""


def test_a_sign_in_without_an_email_is_refused():
    with pytest.raises(SignInFailed) as refused:
        sign_in(email="")

    assert refused.value.reason == Reason.NO_EMAIL
    assert not User.objects.exists()


def test_groups_put_the_person_in_the_teams_of_the_same_name_only():
    Team.objects.create(name="Platform")
    Team.objects.create(name="Payments  Team")

    dana = sign_in(groups=["platform", "PAYMENTS TEAM", "No such team"])

    assert teams_of(dana) == ["Payments  Team", "Platform"]
    assert not Team.objects.filter(name="No such team").exists()
    added = PeopleEvent.objects.filter(action=PeopleEvent.Action.MEMBER_ADDED)
    assert sorted(added.values_list("target_team", flat=True)) == ["Payments  Team", "Platform"]
    assert {event.actor for event in added} == {None}


def test_a_group_dropped_at_the_provider_takes_the_person_out_of_its_team_only(admin_user):
    Team.objects.create(name="Platform")
    Team.objects.create(name="Payments")
    security = Team.objects.create(name="Security")
    dana = sign_in(groups=["Platform", "Payments"])
    team_member_add(team=security, user=dana, actor=admin_user)  # by hand, not by a claim

    sign_in(groups=["Platform"])

    assert teams_of(dana) == ["Platform", "Security"]
    removed = PeopleEvent.objects.get(action=PeopleEvent.Action.MEMBER_REMOVED)
    assert (removed.target_team, removed.actor) == ("Payments", None)


def test_a_team_created_after_the_first_sign_in_is_joined_at_the_next():
    dana = sign_in(groups=["Platform"])
    Team.objects.create(name="Platform")

    sign_in(groups=["Platform"])

    assert teams_of(dana) == ["Platform"]


def test_a_sign_in_without_the_groups_claim_leaves_the_teams_alone():
    Team.objects.create(name="Platform")
    dana = sign_in(groups=["Platform"])

    sign_in()

    assert teams_of(dana) == ["Platform"]


def test_an_empty_groups_claim_takes_the_person_out_of_the_teams_it_gave():
    Team.objects.create(name="Platform")
    dana = sign_in(groups="Platform")  # some providers send one group as a string

    sign_in(groups=[])

    assert teams_of(dana) == []
