from django.urls import reverse

from people.models import PeopleEvent, Team, TeamMember
from people.services import team_create


def test_staff_create_a_team_and_add_a_member(client, admin_user, alice):
    client.force_login(admin_user)

    response = client.post(
        reverse("people:teams"), {"name": "  Platform   Team ", "description": ""}
    )

    team = Team.objects.get()
    assert response.url == reverse("people:team", args=[team.pk])
    assert team.name == "Platform Team"
    client.post(reverse("people:member_add", args=[team.pk]), {"user": "alice@example.com"})
    assert list(team.users.all()) == [alice]
    page = client.get(reverse("people:team", args=[team.pk])).content.decode()
    assert f'id="member-{alice.pk}"' in page


def test_a_team_name_that_differs_only_in_case_and_spaces_is_refused(client, admin_user):
    team_create(name="Platform Team", actor=admin_user)
    client.force_login(admin_user)

    response = client.post(reverse("people:teams"), {"name": "platformteam"})

    assert response.status_code == 200
    assert "There is a team called platformteam already." in response.content.decode()
    assert Team.objects.count() == 1


def test_a_one_letter_team_name_is_refused(client, admin_user):
    client.force_login(admin_user)

    response = client.post(reverse("people:teams"), {"name": "X"})

    assert "2 to 100 characters" in response.content.decode()
    assert not Team.objects.exists()


def test_renaming_a_team_is_logged_with_its_old_name(client, admin_user):
    team = team_create(name="Platform", actor=admin_user)
    client.force_login(admin_user)

    client.post(
        reverse("people:team", args=[team.pk]), {"team-name": "Core", "team-description": "Us"}
    )

    team.refresh_from_db()
    assert (team.name, team.description) == ("Core", "Us")
    event = PeopleEvent.objects.get(action="TEAM_RENAMED")
    assert (event.target_team, event.detail) == ("Core", {"old_name": "Platform"})


def test_adding_someone_twice_says_so(client, admin_user, alice):
    team = team_create(name="Platform", actor=admin_user)
    TeamMember.objects.create(team=team, user=alice)
    client.force_login(admin_user)

    response = client.post(reverse("people:member_add", args=[team.pk]), {"user": "alice"})

    assert response.status_code == 200
    assert "alice is in Platform already." in response.content.decode()


def test_removing_a_member_and_deleting_the_team(client, admin_user, alice):
    team = team_create(name="Platform", actor=admin_user)
    TeamMember.objects.create(team=team, user=alice)
    client.force_login(admin_user)

    client.post(reverse("people:member_remove", args=[team.pk, alice.pk]))
    assert not team.users.exists()
    response = client.post(reverse("people:team_delete", args=[team.pk]))

    assert response.url == reverse("people:teams")
    assert not Team.objects.exists()
    actions = list(PeopleEvent.objects.order_by("pk").values_list("action", flat=True))
    assert actions == ["TEAM_CREATED", "MEMBER_REMOVED", "TEAM_DELETED"]


def test_team_pages_are_for_staff_only(client, alice):
    team = Team.objects.create(name="Platform")
    client.force_login(alice)

    assert client.get(reverse("people:teams")).status_code == 403
    assert client.post(reverse("people:teams"), {"name": "Mine"}).status_code == 403
    assert (
        client.post(reverse("people:member_add", args=[team.pk]), {"user": "alice"}).status_code
        == 403
    )
    assert not TeamMember.objects.exists()


def test_team_names_are_escaped(client, admin_user):
    team_create(name="<script>x</script>", actor=admin_user)
    client.force_login(admin_user)

    page = client.get(reverse("people:teams")).content.decode()

    assert "<script>x" not in page and "&lt;script&gt;x" in page
