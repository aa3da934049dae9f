import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError

from people.models import Profile, Team, TeamMember, profile_of, token_hash

pytestmark = pytest.mark.django_db


def test_a_new_user_gets_a_profile_that_is_not_a_portfolio_viewer():
    user = User.objects.create_user("newcomer")
    assert user.profile.is_portfolio_viewer is False


def test_profile_of_creates_the_profile_of_an_account_left_without_one():
    user = User.objects.create_user("raw")
    Profile.objects.filter(user=user).delete()
    user = User.objects.get(pk=user.pk)
    assert profile_of(user).pk is not None
    assert Profile.objects.filter(user=user).count() == 1


def test_team_names_are_unique_ignoring_case_and_spaces():
    Team.objects.create(name="Platform Team")
    with pytest.raises(IntegrityError):
        Team.objects.create(name="platformteam")


def test_a_user_is_a_member_of_a_team_once(alice):
    team = Team.objects.create(name="Core")
    TeamMember.objects.create(team=team, user=alice)
    assert list(alice.teams.all()) == [team]
    with pytest.raises(IntegrityError):
        TeamMember.objects.create(team=team, user=alice)


def test_a_token_is_stored_as_its_sha256():
    assert token_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
