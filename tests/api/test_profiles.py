"""The profile operations and prioritised answers, through the real boto3."""

import pytest
from botocore.exceptions import ClientError

from api.operations.profiles import profile_arn
from profiles.models import WorkloadProfile
from profiles.services import builtin_profiles_load, profile_save, workload_profile_set
from reviews.models import Milestone
from tests.profiles.conftest import QUESTIONS, document

LENS = "wellarchitected"


@pytest.fixture
def profile(builtin_lens, admin_user):
    return profile_save(document=document(), user=admin_user)


@pytest.fixture
def builtin_profiles(builtin_lens):
    return [profile for profile, _ in builtin_profiles_load()]


def error_of(caught) -> str:
    return caught.value.response["Error"]["Code"]


def test_a_script_lists_the_profiles_and_reads_one(wa, builtin_profiles, carol):
    client = wa(carol)

    summaries = client.list_profiles()["ProfileSummaries"]
    startup = next(s for s in summaries if s["ProfileName"] == "Startup, first product")
    profile = client.get_profile(ProfileArn=startup["ProfileArn"])["Profile"]

    assert len(summaries) == 5
    assert profile["ProfileVersion"] == "1"
    runway = profile["ProfileQuestions"][0]
    assert runway["QuestionId"] == "runway"
    assert [c["ChoiceId"] for c in runway["QuestionChoices"]] == ["short", "long"]
    assert (runway["MinSelectedChoices"], runway["MaxSelectedChoices"]) == (0, 1)
    assert client.list_profiles(ProfileNamePrefix="iot")["ProfileSummaries"][0]["ProfileName"] == (
        "IoT and industrial"
    )


def test_list_answers_reports_and_filters_prioritised_questions(wa, workload, profile, bob):
    workload_profile_set(
        workload=workload, profile=profile, answers={"data": ["regulated"]}, user=bob
    )
    client = wa(bob)

    every = client.list_answers(WorkloadId=workload.public_id, LensAlias=LENS, MaxResults=50)
    only = client.list_answers(
        WorkloadId=workload.public_id, LensAlias=LENS, QuestionPriority="PRIORITIZED"
    )

    kinds = {s["QuestionId"]: s["QuestionType"] for s in every["AnswerSummaries"]}
    assert kinds["sec2"] == kinds["rel6"] == "PRIORITIZED"
    assert kinds["sec1"] == "NON_PRIORITIZED"
    assert {s["QuestionId"] for s in only["AnswerSummaries"]} == {"sec2", "rel6"}


def test_a_writer_associates_and_disassociates_a_profile(wa, workload, profile, bob):
    client = wa(bob)
    arn = profile_arn(profile)

    client.associate_profiles(WorkloadId=workload.public_id, ProfileArns=[arn])
    assert WorkloadProfile.objects.get(workload=workload).profile == profile
    client.disassociate_profiles(WorkloadId=workload.public_id, ProfileArns=[arn])

    assert not WorkloadProfile.objects.exists()


def test_associating_the_profile_in_use_keeps_its_answers(wa, workload, profile, bob):
    workload_profile_set(workload=workload, profile=profile, answers={"data": ["public"]}, user=bob)

    wa(bob).associate_profiles(WorkloadId=workload.public_id, ProfileArns=[profile_arn(profile)])

    assert WorkloadProfile.objects.get(workload=workload).answers == {"data": ["public"]}


def test_an_edited_profile_is_a_notification_until_the_workload_upgrades(
    wa, workload, profile, alice, admin_user
):
    workload_profile_set(
        workload=workload, profile=profile, answers={"data": ["public"]}, user=alice
    )
    questions = [dict(QUESTIONS[0], choices=QUESTIONS[0]["choices"][:1]), QUESTIONS[1]]
    profile_save(document=document(questions=questions), user=admin_user, profile=profile)
    client = wa(alice)

    [notice] = client.list_profile_notifications()["NotificationSummaries"]
    assert notice["Type"] == "PROFILE_ANSWERS_UPDATED"
    assert (notice["CurrentProfileVersion"], notice["LatestProfileVersion"]) == ("1", "2")
    assert notice["WorkloadId"] == workload.public_id

    client.upgrade_profile_version(
        WorkloadId=workload.public_id,
        ProfileArn=profile_arn(profile),
        MilestoneName="Before the new profile",
    )

    assert client.list_profile_notifications()["NotificationSummaries"] == []
    use = WorkloadProfile.objects.get(workload=workload)
    assert (use.profile_version, use.answers) == (2, {})  # "public" is gone
    assert Milestone.objects.filter(workload=workload, name="Before the new profile").exists()


def test_staff_update_a_description_and_others_may_not(wa, profile, admin_user, carol):
    arn = profile_arn(profile)

    updated = wa(admin_user).update_profile(ProfileArn=arn, ProfileDescription="For clinics.")

    assert updated["Profile"]["ProfileDescription"] == "For clinics."
    with pytest.raises(ClientError) as caught:
        wa(carol).update_profile(ProfileArn=arn, ProfileDescription="Mine now.")
    assert error_of(caught) == "AccessDeniedException"


def test_a_built_in_profile_cannot_be_deleted_through_the_api(wa, builtin_profiles, admin_user):
    with pytest.raises(ClientError) as caught:
        wa(admin_user).delete_profile(
            ProfileArn=profile_arn(builtin_profiles[0]), ClientRequestToken="t-1"
        )
    assert error_of(caught) == "ConflictException"


def test_create_profile_says_where_profiles_are_written(wa, builtin_lens, admin_user):
    with pytest.raises(ClientError) as caught:
        wa(admin_user).create_profile(
            ProfileName="Shop",
            ProfileDescription="A shop.",
            ProfileQuestions=[{"QuestionId": "q", "SelectedChoiceIds": ["c"]}],
            ClientRequestToken="t-2",
        )
    assert error_of(caught) == "ValidationException"
    assert "in the browser" in caught.value.response["Error"]["Message"]


def test_an_unknown_profile_is_not_found(wa, workload, alice):
    arn = "arn:aws:wellarchitected:us-east-1:100000000001:profile/424242"
    with pytest.raises(ClientError) as caught:
        wa(alice).associate_profiles(WorkloadId=workload.public_id, ProfileArns=[arn])
    assert error_of(caught) == "ResourceNotFoundException"
    assert not WorkloadProfile.objects.exists()


def test_the_profile_template_is_not_there_and_the_answer_says_why(wa, alice):
    with pytest.raises(ClientError) as caught:
        wa(alice).get_profile_template()
    assert error_of(caught) == "ValidationException"
    assert "Archlens has no profile template" in caught.value.response["Error"]["Message"]


def test_a_profile_version_that_is_not_the_current_one_is_not_found(wa, profile, carol):
    with pytest.raises(ClientError) as caught:
        wa(carol).get_profile(ProfileArn=profile_arn(profile), ProfileVersion="7")
    assert error_of(caught) == "ResourceNotFoundException"
