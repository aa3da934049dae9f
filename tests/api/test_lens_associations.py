"""AssociateLenses, DisassociateLenses, UpgradeLensReview, ListNotifications and the lens
shares, through boto3 against the live server."""

import pytest
from botocore.exceptions import ClientError

from api.operations.common import arn_of_lens
from lenses.services import lens_version_deprecate
from reviews.models import AnswerEvent, LensReview, Milestone
from reviews.services import workload_add_lens, workload_remove_lens
from tests.api.lens_setup import publish_lens, publish_next

pytestmark = pytest.mark.django_db(transaction=True)


def code_of(raised) -> str:
    return raised.value.response["Error"]["Code"]


@pytest.fixture
def team_lens(admin_user):
    return publish_lens(admin_user, name="Team Lens")


@pytest.fixture
def reviewed(workload, team_lens):
    """Payments API reviews Team Lens 1.0."""
    return workload_add_lens(workload=workload, lens=team_lens.lens)


def active_aliases(workload) -> set[str]:
    return set(
        LensReview.objects.filter(workload=workload, is_active=True).values_list(
            "lens__alias", flat=True
        )
    )


# -- AssociateLenses and DisassociateLenses -----------------------------------------------------


def test_a_contributor_associates_a_published_lens(wa, bob, workload, team_lens):
    wa(bob).associate_lenses(
        WorkloadId=workload.public_id, LensAliases=[arn_of_lens(team_lens.lens)]
    )
    assert active_aliases(workload) == {"wellarchitected", team_lens.lens.alias}


def test_a_lens_removed_earlier_comes_back_with_its_answers(wa, alice, workload, reviewed):
    workload_remove_lens(workload=workload, lens=reviewed.lens)
    wa(alice).associate_lenses(WorkloadId=workload.public_id, LensAliases=[reviewed.lens.alias])
    assert LensReview.objects.get(pk=reviewed.pk).is_active


def test_associating_stops_at_the_first_unknown_lens_and_changes_nothing(
    wa, alice, workload, team_lens
):
    with pytest.raises(ClientError) as raised:
        wa(alice).associate_lenses(
            WorkloadId=workload.public_id, LensAliases=[team_lens.lens.alias, "no-such-lens"]
        )
    assert code_of(raised) == "ResourceNotFoundException"
    assert raised.value.response["ResourceId"] == "no-such-lens"
    assert active_aliases(workload) == {"wellarchitected"}


def test_a_lens_with_only_a_draft_cannot_be_associated(wa, admin_user, alice, workload):
    from lenses.services import lens_import
    from tests.factories import lens_bytes

    draft = lens_import(raw=lens_bytes(name="Draft Lens"), user=admin_user)
    with pytest.raises(ClientError) as raised:
        wa(alice).associate_lenses(WorkloadId=workload.public_id, LensAliases=[draft.lens.alias])
    assert code_of(raised) == "ResourceNotFoundException"


def test_a_read_only_member_cannot_associate_a_lens(wa, carol, workload, team_lens):
    with pytest.raises(ClientError) as raised:
        wa(carol).associate_lenses(
            WorkloadId=workload.public_id, LensAliases=[team_lens.lens.alias]
        )
    assert code_of(raised) == "AccessDeniedException"
    assert active_aliases(workload) == {"wellarchitected"}


def test_someone_without_access_does_not_find_the_workload(wa, mallory, workload, team_lens):
    with pytest.raises(ClientError) as raised:
        wa(mallory).associate_lenses(
            WorkloadId=workload.public_id, LensAliases=[team_lens.lens.alias]
        )
    assert code_of(raised) == "ResourceNotFoundException"


def test_the_owner_disassociates_a_lens_and_its_review_is_kept(wa, alice, workload, reviewed):
    wa(alice).disassociate_lenses(
        WorkloadId=workload.public_id, LensAliases=[arn_of_lens(reviewed.lens)]
    )
    assert active_aliases(workload) == {"wellarchitected"}
    assert LensReview.objects.filter(pk=reviewed.pk).exists()


def test_only_the_owner_disassociates_a_lens_as_in_the_browser(wa, bob, workload, reviewed):
    with pytest.raises(ClientError) as raised:
        wa(bob).disassociate_lenses(
            WorkloadId=workload.public_id, LensAliases=[reviewed.lens.alias]
        )
    assert code_of(raised) == "AccessDeniedException"
    assert reviewed.lens.alias in active_aliases(workload)


def test_the_built_in_lens_cannot_be_disassociated(wa, alice, workload, reviewed):
    with pytest.raises(ClientError) as raised:
        wa(alice).disassociate_lenses(
            WorkloadId=workload.public_id, LensAliases=[reviewed.lens.alias, "wellarchitected"]
        )
    assert code_of(raised) == "ValidationException"
    assert raised.value.response["Fields"][0]["Name"] == "LensAliases"
    assert active_aliases(workload) == {"wellarchitected", reviewed.lens.alias}


def test_disassociating_a_lens_the_workload_does_not_review_is_not_found(
    wa, alice, workload, team_lens
):
    with pytest.raises(ClientError) as raised:
        wa(alice).disassociate_lenses(
            WorkloadId=workload.public_id, LensAliases=[team_lens.lens.alias]
        )
    assert code_of(raised) == "ResourceNotFoundException"


# -- UpgradeLensReview --------------------------------------------------------------------------


def test_a_contributor_upgrades_a_review_to_the_newest_version(
    wa, bob, admin_user, workload, reviewed, team_lens
):
    publish_next(team_lens, admin_user, name="1.1")
    newest = publish_next(team_lens, admin_user, name="1.2", title="Better still?")
    wa(bob).upgrade_lens_review(
        WorkloadId=workload.public_id,
        LensAlias=arn_of_lens(team_lens.lens),
        MilestoneName="Before 1.2",
    )
    review = LensReview.objects.get(pk=reviewed.pk)
    assert review.lens_version == newest
    assert Milestone.objects.get(workload=workload).name == "Before 1.2"
    assert AnswerEvent.objects.filter(answer__lens_review=review, user=bob).exists()
    assert review.answers.filter(question__question_id="p1_new").exists()


def test_a_review_on_the_newest_version_has_nothing_to_upgrade(wa, alice, workload, reviewed):
    with pytest.raises(ClientError) as raised:
        wa(alice).upgrade_lens_review(
            WorkloadId=workload.public_id, LensAlias=reviewed.lens.alias, MilestoneName="Before"
        )
    assert code_of(raised) == "ConflictException"
    assert not Milestone.objects.exists()


def test_a_taken_milestone_name_stops_the_upgrade(
    wa, alice, admin_user, workload, reviewed, team_lens
):
    from reviews.milestones import milestone_create

    milestone_create(workload=workload, name="Before 1.1", user=alice)
    publish_next(team_lens, admin_user, name="1.1")
    with pytest.raises(ClientError) as raised:
        wa(alice).upgrade_lens_review(
            WorkloadId=workload.public_id, LensAlias=reviewed.lens.alias, MilestoneName="before 1.1"
        )
    assert code_of(raised) == "ConflictException"
    assert LensReview.objects.get(pk=reviewed.pk).lens_version == team_lens


def test_a_read_only_member_cannot_upgrade_a_review(
    wa, carol, admin_user, workload, reviewed, team_lens
):
    publish_next(team_lens, admin_user, name="1.1")
    with pytest.raises(ClientError) as raised:
        wa(carol).upgrade_lens_review(
            WorkloadId=workload.public_id, LensAlias=reviewed.lens.alias, MilestoneName="Before"
        )
    assert code_of(raised) == "AccessDeniedException"
    assert LensReview.objects.get(pk=reviewed.pk).lens_version == team_lens


def test_a_retried_upgrade_with_the_same_token_upgrades_once(
    wa, alice, admin_user, workload, reviewed, team_lens
):
    publish_next(team_lens, admin_user, name="1.1")
    client = wa(alice)
    for _ in range(2):
        client.upgrade_lens_review(
            WorkloadId=workload.public_id,
            LensAlias=reviewed.lens.alias,
            MilestoneName="Before 1.1",
            ClientRequestToken="upgrade-1",
        )
    assert Milestone.objects.filter(workload=workload).count() == 1


# -- ListNotifications --------------------------------------------------------------------------


def test_notifications_name_reviews_with_a_newer_version(
    wa, bob, admin_user, workload, reviewed, team_lens
):
    client = wa(bob)
    assert client.list_notifications()["NotificationSummaries"] == []
    publish_next(team_lens, admin_user, name="1.1")
    (notice,) = client.list_notifications()["NotificationSummaries"]
    assert notice["Type"] == "LENS_VERSION_UPGRADED"
    assert notice["LensUpgradeSummary"] == {
        "WorkloadId": workload.public_id,
        "WorkloadName": "Payments API",
        "LensAlias": arn_of_lens(team_lens.lens),
        "LensArn": arn_of_lens(team_lens.lens),
        "CurrentLensVersion": "1.0",
        "LatestLensVersion": "1.1",
    }
    lens_version_deprecate(lens_version=team_lens)
    (notice,) = client.list_notifications(WorkloadId=workload.public_id)["NotificationSummaries"]
    assert notice["Type"] == "LENS_VERSION_DEPRECATED"


def test_notifications_are_only_for_the_callers_workloads(
    wa, mallory, admin_user, workload, reviewed, team_lens
):
    publish_next(team_lens, admin_user, name="1.1")
    client = wa(mallory)
    assert client.list_notifications()["NotificationSummaries"] == []
    with pytest.raises(ClientError) as raised:
        client.list_notifications(WorkloadId=workload.public_id)
    assert code_of(raised) == "ResourceNotFoundException"


def test_notifications_for_a_review_template_are_refused(wa, alice):
    arn = "arn:aws:wellarchitected:us-east-1:123456789012:review-template/" + "a" * 32
    with pytest.raises(ClientError) as raised:
        wa(alice).list_notifications(ResourceArn=arn)
    assert code_of(raised) == "ValidationException"
    assert raised.value.response["Fields"][0]["Name"] == "ResourceArn"


# -- Lens shares --------------------------------------------------------------------------------


def test_a_lens_has_no_shares_because_every_user_sees_it(wa, alice, admin_user, team_lens):
    client = wa(admin_user)
    arn = arn_of_lens(team_lens.lens)
    assert client.list_lens_shares(LensAlias=arn)["LensShareSummaries"] == []
    with pytest.raises(ClientError) as raised:
        client.create_lens_share(LensAlias=arn, SharedWith="100000000002")
    assert code_of(raised) == "ValidationException"
    assert "visible to every Archlens user" in raised.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as raised:
        client.delete_lens_share(LensAlias=arn, ShareId="a" * 32)
    assert code_of(raised) == "ResourceNotFoundException"


def test_the_shares_of_a_lens_nobody_sees_are_not_found(wa, alice):
    with pytest.raises(ClientError) as raised:
        wa(alice).list_lens_shares(LensAlias="no-such-lens")
    assert code_of(raised) == "ResourceNotFoundException"
