"""A user's role on a workload: the strongest of their own share, their teams' shares and the
portfolio-viewer flag, read in the one query that checks access."""

import pytest
from django.urls import reverse

from people.models import TeamMember
from reviews.access import AccessError, answer_for, lens_review_for, workload_for
from reviews.dashboard import Filters, portfolio
from reviews.errors import FORBIDDEN, NOT_FOUND
from reviews.models import ChoiceAnswer, Role, Workload
from reviews.services import workload_create, workload_share, workload_unshare_team
from tests.personas import make_viewer, team_with

CONTRIBUTOR, READONLY = Role.CONTRIBUTOR, Role.READONLY


def role_of(user, workload) -> str:
    return workload_for(user, workload.public_id).role


def refused(user, workload, **kwargs) -> str:
    with pytest.raises(AccessError) as caught:
        workload_for(user, workload.public_id, **kwargs)
    return caught.value.kind


def test_a_read_only_share_and_a_contributing_team_make_a_contributor(workload, carol):
    team_with(workload, "Platform", CONTRIBUTOR, carol)

    assert role_of(carol, workload) == CONTRIBUTOR
    assert workload_for(carol, workload.public_id, write=True).role == CONTRIBUTOR


def test_a_read_only_team_leaves_a_contributor_share_as_it_is(workload, bob):
    team_with(workload, "Auditors", READONLY, bob)

    assert role_of(bob, workload) == CONTRIBUTOR


def test_of_two_teams_the_stronger_counts(workload, mallory):
    team_with(workload, "Auditors", READONLY, mallory)
    assert role_of(mallory, workload) == READONLY

    team_with(workload, "Platform", CONTRIBUTOR, mallory)
    team_with(workload, "Readers", READONLY, mallory)

    assert role_of(mallory, workload) == CONTRIBUTOR


def test_a_team_share_never_makes_an_owner_and_the_owner_stays_owner(workload, alice, mallory):
    team_with(workload, "Everyone", CONTRIBUTOR, alice, mallory)

    assert role_of(alice, workload) == Role.OWNER
    assert refused(mallory, workload, owner=True) == FORBIDDEN


def test_leaving_the_team_or_revoking_its_share_ends_the_access(workload, mallory):
    team = team_with(workload, "Platform", CONTRIBUTOR, mallory)
    TeamMember.objects.filter(team=team, user=mallory).delete()
    assert refused(mallory, workload) == NOT_FOUND

    TeamMember.objects.create(team=team, user=mallory)
    assert role_of(mallory, workload) == CONTRIBUTOR
    workload_unshare_team(workload=workload, team=team)
    assert refused(mallory, workload) == NOT_FOUND


def test_a_portfolio_viewer_reads_every_workload_and_writes_none(workload, mallory):
    make_viewer(mallory)

    assert role_of(mallory, workload) == READONLY
    assert refused(mallory, workload, write=True) == FORBIDDEN
    with pytest.raises(AccessError):
        answer_for(mallory, workload.public_id, "wellarchitected", "sec1", write=True)
    assert answer_for(mallory, workload.public_id, "wellarchitected", "sec1").question_id


def test_a_portfolio_viewer_with_a_contributor_share_writes(workload, mallory):
    make_viewer(mallory)
    workload_share(workload=workload, user=mallory, role=CONTRIBUTOR)

    assert workload_for(mallory, workload.public_id, write=True).role == CONTRIBUTOR
    answer = answer_for(mallory, workload.public_id, "wellarchitected", "sec1", write=True)
    assert answer.lens_review.workload.role == CONTRIBUTOR


def test_a_portfolio_viewer_on_a_contributing_team_writes(workload, mallory):
    make_viewer(mallory)
    team_with(workload, "Platform", CONTRIBUTOR, mallory)

    assert lens_review_for(mallory, workload.public_id, "wellarchitected", write=True)


def test_staff_without_the_viewer_flag_see_nothing_that_was_not_shared(workload, admin_user):
    assert refused(admin_user, workload) == NOT_FOUND
    assert not Workload.objects.for_user(admin_user).exists()


def test_a_deactivated_user_reaches_nothing_they_were_given(workload, bob, carol):
    team_with(workload, "Platform", CONTRIBUTOR, bob)
    make_viewer(carol)
    for user in (bob, carol):
        user.is_active = False
        user.save()

        assert refused(user, workload) == NOT_FOUND
        assert not Workload.objects.for_user(user).exists()
        with pytest.raises(AccessError):
            answer_for(user, workload.public_id, "wellarchitected", "sec1")


def test_several_shares_list_a_workload_once(workload, carol, mallory):
    team_with(workload, "Platform", CONTRIBUTOR, carol)
    team_with(workload, "Auditors", READONLY, carol)
    make_viewer(carol)

    assert list(Workload.objects.with_role(carol).values_list("pk", "role")) == [
        (workload.pk, CONTRIBUTOR)
    ]
    assert portfolio(carol, Filters()).summary.workloads == 1


def test_the_role_is_one_query_however_many_shares(
    workload, carol, django_assert_num_queries, other_workloads
):
    for number in range(4):
        team_with(workload, f"Team {number}", READONLY, carol)
    team_with(workload, "Writers", CONTRIBUTOR, carol)
    make_viewer(carol)

    with django_assert_num_queries(1):
        assert workload_for(carol, workload.public_id, write=True).role == CONTRIBUTOR
    with django_assert_num_queries(1):
        answer_for(carol, workload.public_id, "wellarchitected", "sec1", write=True)


@pytest.fixture
def other_workloads(workload, alice):
    for number in range(3):
        workload_create(
            owner=alice,
            name=f"Other {number}",
            description="Another workload.",
            environment=Workload.Environment.PRODUCTION,
            review_owner="Alice",
        )


def test_a_team_contributor_answers_through_the_browser(client, workload, mallory):
    team_with(workload, "Platform", CONTRIBUTOR, mallory)
    client.force_login(mallory)
    url = reverse(
        "reviews:choice_update",
        args=[workload.public_id, "wellarchitected", "sec1", "sec1_bp1"],
    )

    assert client.post(url, {"status": "SELECTED"}).status_code == 302
    ticked = ChoiceAnswer.objects.get(
        answer__lens_review__workload=workload, choice__choice_id="sec1_bp1"
    )
    assert ticked.status == ChoiceAnswer.Status.SELECTED


def test_a_portfolio_viewer_reads_the_pages_and_cannot_answer(client, workload, mallory):
    make_viewer(mallory)
    client.force_login(mallory)
    question = reverse("reviews:question", args=[workload.public_id, "wellarchitected", "sec1"])
    choice = reverse(
        "reviews:choice_update",
        args=[workload.public_id, "wellarchitected", "sec1", "sec1_bp1"],
    )

    assert client.get(question).status_code == 200
    assert client.get(reverse("reviews:dashboard")).context["data"].summary.workloads == 1
    assert client.post(choice, {"status": "SELECTED"}).status_code == 403
    assert not ChoiceAnswer.objects.filter(answer__lens_review__workload=workload).exists()
