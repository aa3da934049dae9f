import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from people.models import PeopleEvent, Team, TeamMember, profile_of
from people.services import PeopleError, invitation_create, user_deactivate, user_staff_set
from reviews.models import Role, Workload
from tests.factories import UserFactory


def test_the_people_page_lists_everyone_with_teams_sign_in_and_status(
    client, admin_user, alice, bob
):
    team = Team.objects.create(name="Platform")
    TeamMember.objects.create(team=team, user=alice)
    bob.set_unusable_password()
    bob.is_active = False
    bob.save()
    invitation_create(email="dana@example.com", invited_by=admin_user)
    client.force_login(admin_user)

    page = client.get(reverse("people:people")).content.decode()

    alice_row = page[page.index(f'id="person-{alice.pk}"') :].split("</tr>")[0]
    assert "alice@example.com" in alice_row and "Platform" in alice_row
    assert "Password" in alice_row and "Active" in alice_row
    bob_row = page[page.index(f'id="person-{bob.pk}"') :].split("</tr>")[0]
    assert "Single sign-on" in bob_row and "Deactivated" in bob_row
    assert "dana@example.com" in page


def test_the_people_page_costs_the_same_queries_however_many_people(
    client, admin_user, django_assert_max_num_queries
):
    team = Team.objects.create(name="Platform")

    def add_people(count):
        for user in UserFactory.create_batch(count):
            TeamMember.objects.create(team=team, user=user)
            invitation_create(email=f"x-{user.username}@example.org", invited_by=admin_user)

    client.force_login(admin_user)
    add_people(3)
    with django_assert_max_num_queries(9) as few:
        client.get(reverse("people:people"))
    add_people(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("people:people")).status_code == 200


def test_the_people_page_finds_people_by_name_or_email(client, admin_user, alice, bob):
    client.force_login(admin_user)

    page = client.get(reverse("people:people"), {"q": "ALICE@"}).content.decode()

    assert f'id="person-{alice.pk}"' in page
    assert f'id="person-{bob.pk}"' not in page


def test_people_pages_are_for_staff_only(client, alice):
    client.force_login(alice)

    assert client.get(reverse("people:people")).status_code == 403
    assert client.get(reverse("people:log")).status_code == 403


def test_the_nav_links_people_for_staff_and_account_for_everyone(client, admin_user, alice):
    client.force_login(alice)
    page = client.get(reverse("account:account")).content.decode()
    assert reverse("account:account") in page and reverse("people:people") not in page

    client.force_login(admin_user)
    page = client.get(reverse("account:account")).content.decode()
    assert reverse("people:people") in page and reverse("admin:index") not in page


def test_deactivating_ends_sessions_and_stops_sign_in_but_keeps_the_account(
    client, admin_user, alice
):
    alice_browser = Client()
    alice_browser.post(reverse("login"), {"username": "alice", "password": "pw-for-tests-9"})
    assert alice_browser.get(reverse("account:account")).status_code == 200
    client.force_login(admin_user)

    response = client.post(reverse("people:deactivate", args=[alice.pk]))

    assert response.status_code == 302
    alice.refresh_from_db()
    assert not alice.is_active and alice.username == "alice"
    assert alice_browser.get(reverse("account:account")).status_code == 302
    again = Client().post(reverse("login"), {"username": "alice", "password": "pw-for-tests-9"})
    assert again.status_code == 200  # the form again, no session
    assert PeopleEvent.objects.filter(action="DEACTIVATED", target_user="alice").exists()


def test_a_reactivated_user_signs_in_again(client, admin_user, alice):
    user_deactivate(user=alice, actor=admin_user)
    client.force_login(admin_user)

    client.post(reverse("people:reactivate", args=[alice.pk]))

    response = Client().post(reverse("login"), {"username": "alice", "password": "pw-for-tests-9"})
    assert response.status_code == 302


def test_staff_cannot_deactivate_themselves(client, admin_user):
    client.force_login(admin_user)

    client.post(reverse("people:deactivate", args=[admin_user.pk]))

    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_the_person_page_lists_owned_workloads_to_hand_over_first(
    client, admin_user, workload, alice, bob
):
    client.force_login(admin_user)

    page = client.get(reverse("people:person", args=[alice.pk])).content.decode()
    assert "Payments API" in page and "still own 1 workload" in page

    response = client.post(
        reverse("people:hand_over", args=[alice.pk]),
        {"workload": workload.public_id, "user": "bob"},
    )

    assert response.status_code == 302
    workload.refresh_from_db()
    assert workload.owner == bob
    assert workload.members.get(user=alice).role == Role.CONTRIBUTOR
    page = client.get(reverse("people:person", args=[alice.pk])).content.decode()
    assert f'id="owned-{workload.public_id}"' not in page


def test_a_hand_over_to_nobody_changes_nothing(client, admin_user, workload, alice):
    client.force_login(admin_user)

    response = client.post(
        reverse("people:hand_over", args=[alice.pk]),
        {"workload": workload.public_id, "user": "nobody"},
        follow=True,
    )

    assert "No user “nobody”" in response.content.decode()
    assert Workload.objects.get().owner == alice


def test_staff_grant_staff_and_the_new_staff_sees_people(client, admin_user, alice):
    client.force_login(admin_user)

    client.post(reverse("people:staff_flag", args=[alice.pk]), {"value": "on"})

    client.force_login(User.objects.get(pk=alice.pk))
    assert client.get(reverse("people:people")).status_code == 200
    assert PeopleEvent.objects.filter(action="STAFF_GRANTED", actor=admin_user).exists()


def test_the_last_active_staff_cannot_remove_their_own_staff_flag(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        reverse("people:staff_flag", args=[admin_user.pk]), {"value": "off"}, follow=True
    )

    assert "last active member of staff" in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_staff


def test_staff_remove_their_own_flag_when_someone_else_is_staff(admin_user, stan):
    user_staff_set(user=admin_user, actor=admin_user, is_staff=False)

    admin_user.refresh_from_db()
    assert not admin_user.is_staff and not admin_user.is_superuser


def test_a_deactivated_staff_member_does_not_count_as_the_other_staff(admin_user, stan):
    user_deactivate(user=stan, actor=admin_user)

    with pytest.raises(PeopleError, match="last active"):
        user_staff_set(user=admin_user, actor=admin_user, is_staff=False)


def test_staff_make_a_manager_a_portfolio_viewer_and_back(client, admin_user, alice):
    client.force_login(admin_user)

    client.post(reverse("people:viewer_flag", args=[alice.pk]), {"value": "on"})
    assert profile_of(User.objects.get(pk=alice.pk)).is_portfolio_viewer
    client.post(reverse("people:viewer_flag", args=[alice.pk]), {"value": "off"})

    assert not profile_of(User.objects.get(pk=alice.pk)).is_portfolio_viewer
    actions = list(PeopleEvent.objects.order_by("at", "pk").values_list("action", flat=True))
    assert actions == ["VIEWER_GRANTED", "VIEWER_REMOVED"]


def test_a_flag_without_a_choice_changes_nothing(client, admin_user, alice):
    client.force_login(admin_user)

    response = client.post(reverse("people:viewer_flag", args=[alice.pk]), follow=True)

    assert "Choose whether" in response.content.decode()
    assert not PeopleEvent.objects.exists()


def test_the_log_shows_people_changes_newest_first_in_pages(client, admin_user, alice):
    for number in range(55):
        PeopleEvent.objects.create(
            action="TEAM_CREATED", actor=admin_user, target_team=f"T{number}"
        )
    client.force_login(admin_user)

    first = client.get(reverse("people:log")).content.decode()
    second = client.get(reverse("people:log"), {"page": 2}).content.decode()

    assert first.index("T54") < first.index("T53")
    assert "T4<" not in first and "T4<" in second
    assert "Page 1 of 2" in first


def test_the_team_log_and_person_pages_cost_the_same_queries_however_much_data(
    client, admin_user, alice, workload, django_assert_max_num_queries
):
    everyone = Team.objects.create(name="Everyone")

    def add(count):
        for user in UserFactory.create_batch(count):
            TeamMember.objects.create(team=everyone, user=user)
            team = Team.objects.create(name=f"Team of {user.username}")
            TeamMember.objects.create(team=team, user=user)
            TeamMember.objects.create(team=team, user=alice)
            PeopleEvent.objects.create(
                action="MEMBER_ADDED", actor=admin_user, target_team=team.name
            )

    client.force_login(admin_user)
    urls = [
        reverse("people:teams"),
        reverse("people:log"),
        reverse("people:person", args=[alice.pk]),
    ]
    add(2)
    counts = {}
    for url in urls:
        with django_assert_max_num_queries(12) as few:
            client.get(url)
        counts[url] = len(few.captured_queries)
    add(15)
    for url in urls:
        with django_assert_max_num_queries(counts[url]):
            assert client.get(url).status_code == 200
