"""The activity log of a workload: what the services write, and the owner's page."""

import datetime
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse

from lenses.services import lens_import, lens_version_publish
from people.models import Team
from reviews.activity import activity_sentence
from reviews.milestones import milestone_create
from reviews.models import Role, WorkloadActivity
from reviews.services import (
    ReviewError,
    workload_add_lens,
    workload_share,
    workload_share_team,
    workload_transfer,
    workload_unshare,
    workload_unshare_team,
)
from reviews.upgrades import lens_review_upgrade
from reviews.views.activity import PER_PAGE
from tests.factories import lens_bytes, lens_document
from tests.personas import make_viewer, team_with

Action = WorkloadActivity.Action


def log(workload) -> list[tuple[str, str | None, str]]:
    """(action, who, sentence) of each line, oldest first."""
    return [
        (entry.action, entry.user.username if entry.user else None, activity_sentence(entry))
        for entry in WorkloadActivity.objects.filter(workload=workload)
        .select_related("user")
        .order_by("at", "pk")
    ]


def activity_url(workload) -> str:
    return reverse("reviews:activity", args=[workload.public_id])


@pytest.fixture
def fresh(workload):
    """The fixture's workload with the log of its set-up cleared."""
    WorkloadActivity.objects.filter(workload=workload).delete()
    return workload


# -- what is written ------------------------------------------------------------------------------


def test_sharing_changing_and_revoking_are_logged_with_who_did_it(fresh, alice, mallory):
    workload_share(workload=fresh, user=mallory, role=Role.READONLY, by=alice)
    workload_share(workload=fresh, user=mallory, role=Role.READONLY, by=alice)  # no change
    workload_share(workload=fresh, user=mallory, role=Role.CONTRIBUTOR, by=alice)
    workload_unshare(workload=fresh, user=mallory, by=alice)
    workload_unshare(workload=fresh, user=mallory, by=alice)  # nothing left to revoke

    assert log(fresh) == [
        (Action.SHARED, "alice", "Shared with mallory as read-only."),
        (Action.SHARE_CHANGED, "alice", "Changed mallory from read-only to contributor."),
        (Action.UNSHARED, "alice", "Revoked the contributor access of mallory."),
    ]


def test_team_shares_are_logged(fresh, alice):
    team = Team.objects.create(name="Platform")
    workload_share_team(workload=fresh, team=team, role=Role.READONLY, by=alice)
    workload_share_team(workload=fresh, team=team, role=Role.CONTRIBUTOR, by=alice)
    workload_unshare_team(workload=fresh, team=team, by=alice)

    assert [sentence for _, _, sentence in log(fresh)] == [
        "Shared with the team Platform as read-only.",
        "Changed the team Platform from read-only to contributor.",
        "Revoked the contributor access of the team Platform.",
    ]


def test_a_refused_change_leaves_no_line(fresh, alice):
    with pytest.raises(ReviewError):
        workload_share(workload=fresh, user=alice, role=Role.READONLY, by=alice)
    with pytest.raises(ReviewError):
        workload_transfer(workload=fresh, new_owner=alice, by=alice)

    assert log(fresh) == []


def test_a_hand_over_through_the_page_is_logged(client, fresh, alice, bob):
    client.force_login(alice)

    client.post(
        reverse("reviews:transfer", args=[fresh.public_id]), {"user": "bob", "confirm": "on"}
    )

    assert log(fresh) == [(Action.TRANSFERRED, "alice", "Handed ownership over from alice to bob.")]


def test_milestones_and_lens_upgrades_are_logged(fresh, alice, admin_user):
    document = lens_document(name="Team Lens")
    first = lens_import(raw=lens_bytes(document), user=admin_user, alias="team-lens")
    first = lens_version_publish(lens_version=first, version="1.0")
    review = workload_add_lens(workload=fresh, lens=first.lens)
    document["pillars"][0]["questions"][0]["title"] = "A better question?"
    second = lens_import(raw=lens_bytes(document), user=admin_user, alias="team-lens")
    second = lens_version_publish(lens_version=second, version="1.1")

    milestone_create(workload=fresh, name="Baseline", user=alice)
    lens_review_upgrade(lens_review=review, target=second, milestone_name="Before", user=alice)

    assert log(fresh) == [
        (Action.MILESTONE, "alice", "Saved milestone 1, “Baseline”."),
        (Action.MILESTONE, "alice", "Saved milestone 2, “Before”."),
        (Action.LENS_UPGRADED, "alice", "Upgraded Team Lens from version 1.0 to 1.1."),
    ]


def test_csv_exports_are_logged_with_whoever_read_them(client, fresh, carol, mallory):
    make_viewer(mallory)
    for user, what in ((carol, "answers_csv"), (mallory, "improvement_csv")):
        client.force_login(user)
        url = reverse(f"reviews:{what}", args=[fresh.public_id, "wellarchitected"])
        assert client.get(url).status_code == 200

    assert [(who, sentence) for _, who, sentence in log(fresh)] == [
        ("carol", "Exported the answers of Well-Architected Framework as CSV."),
        ("mallory", "Exported the improvement plan of Well-Architected Framework as CSV."),
    ]


def test_the_export_command_is_logged_as_run_on_the_server(fresh):
    call_command("export_workload", fresh.public_id, stdout=StringIO())

    [(action, who, sentence)] = log(fresh)
    assert (action, who) == (Action.EXPORTED, None)
    assert "export_workload" in sentence


# -- the page --------------------------------------------------------------------------------------


def test_the_owner_reads_the_log_newest_first(client, fresh, alice, mallory):
    workload_share(workload=fresh, user=mallory, role=Role.READONLY, by=alice)
    workload_unshare(workload=fresh, user=mallory, by=alice)
    call_command("export_workload", fresh.public_id, stdout=StringIO())
    client.force_login(alice)

    response = client.get(activity_url(fresh))

    assert response.status_code == 200
    body = response.content.decode()
    places = [
        body.index("Exported the whole workload"),
        body.index("Revoked the read-only access of mallory."),
        body.index("Shared with mallory as read-only."),
    ]
    assert places == sorted(places)
    assert "a command on the server" in body


def test_the_log_is_the_owners_alone(client, fresh, bob, carol, mallory, admin_user):
    team_with(fresh, "Platform", Role.CONTRIBUTOR, mallory)
    viewer = make_viewer(User.objects.create_user("vera", "vera@example.com", "pw-9"))
    for user, status in (
        (bob, 403),
        (carol, 403),
        (mallory, 403),
        (viewer, 403),
        (admin_user, 404),
    ):
        client.force_login(user)
        assert client.get(activity_url(fresh)).status_code == status


def test_the_log_is_paged_in_a_constant_number_of_queries(
    client, fresh, alice, django_assert_num_queries
):
    at = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    entries = WorkloadActivity.objects.bulk_create(
        WorkloadActivity(workload=fresh, user=alice, action=Action.EXPORTED, detail={"what": n})
        for n in range(PER_PAGE + 3)
    )
    for n, entry in enumerate(entries):
        entry.at = at + datetime.timedelta(minutes=n)
    WorkloadActivity.objects.bulk_update(entries, ["at"])
    client.force_login(alice)

    # session, user, workload with role, how many lines, the page's lines with their users
    with django_assert_num_queries(5):
        first = client.get(activity_url(fresh))
    with django_assert_num_queries(5):
        second = client.get(activity_url(fresh), {"page": "2"})

    assert [e.detail["what"] for e in first.context["page"].object_list][:2] == [52, 51]
    assert [e.detail["what"] for e in second.context["page"].object_list] == [2, 1, 0]
    assert 'rel="next" href="?page=2"' in first.content.decode()
    assert client.get(activity_url(fresh), {"page": "nope"}).status_code == 200


def test_the_log_escapes_names(client, fresh, alice):
    team = Team.objects.create(name="<script>alert(1)</script>")
    workload_share_team(workload=fresh, team=team, role=Role.READONLY, by=alice)
    client.force_login(alice)

    body = client.get(activity_url(fresh)).content.decode()

    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_the_overview_and_the_sharing_page_link_the_log_for_the_owner_only(
    client, fresh, alice, bob
):
    for user, shown in ((alice, True), (bob, False)):
        client.force_login(user)
        for page in ("workload_detail", "sharing"):
            body = client.get(reverse(f"reviews:{page}", args=[fresh.public_id])).content.decode()
            assert (activity_url(fresh) in body) is shown, (user, page)
