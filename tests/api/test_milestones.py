import pytest
from botocore.exceptions import ClientError

from reviews import access
from reviews.milestones import milestone_create
from reviews.models import LensReview, Milestone
from reviews.services import answer_update

pytestmark = pytest.mark.django_db(transaction=True)

LENS = "wellarchitected"


def _make_high_risk(workload, user):
    review = LensReview.objects.get(workload=workload, lens__alias=LENS)
    question_id = (
        review.answers.select_related("question").order_by("pk").first().question.question_id
    )
    answer = access.answer_for(user, workload.public_id, LENS, question_id)
    none = next(c.choice_id for c in answer.question.choices.all() if c.is_none)
    answer_update(answer=answer, user=user, selected_choices=[none])


def test_a_script_saves_a_milestone_and_reads_it_back_as_it_was(wa, workload, alice):
    client = wa(alice)
    _make_high_risk(workload, alice)
    created = client.create_milestone(WorkloadId=workload.public_id, MilestoneName="First review")
    assert created == {**created, "WorkloadId": workload.public_id, "MilestoneNumber": 1}
    milestone = Milestone.objects.get(workload=workload, number=1)
    assert milestone.recorded_by == alice

    review = LensReview.objects.get(workload=workload, lens__alias=LENS)
    for answer in review.answers.select_related("question").order_by("pk")[1:4]:
        _answer = access.answer_for(alice, workload.public_id, LENS, answer.question.question_id)
        none = next(c.choice_id for c in _answer.question.choices.all() if c.is_none)
        answer_update(answer=_answer, user=alice, selected_choices=[none])

    got = client.get_milestone(WorkloadId=workload.public_id, MilestoneNumber=1)["Milestone"]
    assert (got["MilestoneNumber"], got["MilestoneName"]) == (1, "First review")
    frozen = got["Workload"]
    assert frozen["WorkloadName"] == "Payments API"
    assert frozen["RiskCounts"]["HIGH"] == 1
    assert frozen["Lenses"] == [LENS]
    assert frozen["ImprovementStatus"] == "NOT_STARTED"
    now = client.get_workload(WorkloadId=workload.public_id)["Workload"]
    assert now["RiskCounts"]["HIGH"] == 4


def test_milestones_are_listed_page_by_page_each_once(wa, workload, alice):
    for number in range(1, 6):
        milestone_create(workload=workload, name=f"Milestone {number}", user=alice)
    client = wa(alice)
    seen, token = [], None
    while True:
        page = client.list_milestones(
            WorkloadId=workload.public_id, MaxResults=2, **({"NextToken": token} if token else {})
        )
        seen += page["MilestoneSummaries"]
        token = page.get("NextToken")
        if not token:
            break
    assert [s["MilestoneNumber"] for s in seen] == [1, 2, 3, 4, 5]
    summary = seen[0]["WorkloadSummary"]
    assert summary["WorkloadId"] == workload.public_id
    assert summary["RiskCounts"]["UNANSWERED"] > 0


def test_a_retry_with_the_same_token_saves_one_milestone(wa, workload, alice):
    client = wa(alice)
    first = client.create_milestone(
        WorkloadId=workload.public_id, MilestoneName="Retried", ClientRequestToken="m-1"
    )
    again = client.create_milestone(
        WorkloadId=workload.public_id, MilestoneName="Retried", ClientRequestToken="m-1"
    )
    assert again["MilestoneNumber"] == first["MilestoneNumber"]
    assert Milestone.objects.filter(workload=workload).count() == 1


def test_a_taken_milestone_name_is_a_conflict(wa, workload, alice):
    milestone_create(workload=workload, name="Launch", user=alice)
    with pytest.raises(ClientError) as raised:
        wa(alice).create_milestone(WorkloadId=workload.public_id, MilestoneName="  launch ")
    assert raised.value.response["Error"]["Code"] == "ConflictException"
    assert Milestone.objects.filter(workload=workload).count() == 1


def test_only_the_owner_saves_a_milestone_as_in_the_browser(wa, workload, bob, carol):
    for user in (bob, carol):
        with pytest.raises(ClientError) as raised:
            wa(user).create_milestone(WorkloadId=workload.public_id, MilestoneName="Mine")
        assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    assert not Milestone.objects.exists()
    listed = wa(carol).list_milestones(WorkloadId=workload.public_id)
    assert listed["MilestoneSummaries"] == []


def test_milestones_of_a_workload_not_shared_are_not_found(wa, workload, mallory, alice):
    milestone_create(workload=workload, name="Secret", user=alice)
    client = wa(mallory)
    for call in (
        lambda: client.get_milestone(WorkloadId=workload.public_id, MilestoneNumber=1),
        lambda: client.list_milestones(WorkloadId=workload.public_id),
        lambda: client.create_milestone(WorkloadId=workload.public_id, MilestoneName="Mine"),
    ):
        with pytest.raises(ClientError) as raised:
            call()
        assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_missing_milestone_is_not_found_and_a_bad_name_or_number_is_refused(
    signed, workload, alice
):
    base = ["workloads", workload.public_id]
    missing = signed(alice, "GET", [*base, "milestones", "7"])
    assert (missing.status, missing.body["ResourceType"]) == (404, "MILESTONE")
    number = signed(alice, "GET", [*base, "milestones", "101"])
    assert (number.status, number.body["Fields"][0]["Name"]) == (400, "MilestoneNumber")
    long_name = signed(
        alice,
        "POST",
        [*base, "milestones"],
        body={"MilestoneName": "x" * 101, "ClientRequestToken": "t"},
    )
    assert (long_name.status, long_name.body["Fields"][0]["Name"]) == (400, "MilestoneName")
    too_many = signed(alice, "POST", [*base, "milestonesSummaries"], body={"MaxResults": 51})
    assert (too_many.status, too_many.body["Fields"][0]["Name"]) == (400, "MaxResults")
    assert not Milestone.objects.exists()
