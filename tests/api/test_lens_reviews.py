import pytest
from botocore.exceptions import ClientError

from lenses.services import lens_import, lens_version_publish
from reviews import access
from reviews.milestones import milestone_create
from reviews.models import LensReview, PillarNote
from reviews.services import answer_update, workload_add_lens
from tests.factories import lens_bytes

pytestmark = pytest.mark.django_db(transaction=True)

LENS = "wellarchitected"


@pytest.fixture
def custom(workload, alice):
    """A custom lens in version 1.0, reviewed in the workload, with a version 2.0 published."""
    first = lens_version_publish(
        lens_version=lens_import(raw=lens_bytes(), user=alice), version="1.0"
    )
    workload_add_lens(workload=workload, lens=first.lens)
    second = lens_import(raw=lens_bytes(pillars=3), user=alice, alias=first.lens.alias)
    lens_version_publish(lens_version=second, version="2.0")
    return first.lens


def _answer_first(workload, user, choices_of=lambda practices, none: [none]):
    review = LensReview.objects.get(workload=workload, lens__alias=LENS)
    answer = (
        review.answers.select_related("question")
        .order_by("question__pillar__order", "question__order")
        .first()
    )
    answer = access.answer_for(user, workload.public_id, LENS, answer.question.question_id)
    choices = list(answer.question.choices.order_by("order"))
    none = next(c.choice_id for c in choices if c.is_none)
    practices = [c.choice_id for c in choices if not c.is_none]
    answer_update(answer=answer, user=user, selected_choices=choices_of(practices, none))
    return answer.question


def test_a_lens_review_has_its_pillars_with_risk_counts_in_the_workloads_order(wa, workload, alice):
    question = _answer_first(workload, alice)
    review = wa(alice).get_lens_review(WorkloadId=workload.public_id, LensAlias=LENS)
    lens_review = review["LensReview"]
    assert (lens_review["LensAlias"], lens_review["LensStatus"]) == (LENS, "CURRENT")
    assert lens_review["LensVersion"] and lens_review["LensName"]
    pillars = lens_review["PillarReviewSummaries"]
    assert [p["PillarId"] for p in pillars] == workload.pillar_priorities
    pillar = next(p for p in pillars if p["PillarId"] == question.pillar.pillar_id)
    assert pillar["RiskCounts"]["HIGH"] == 1
    assert lens_review["RiskCounts"]["HIGH"] == 1
    assert sum(lens_review["RiskCounts"].values()) == question.lens_version.questions.count()


def test_lens_and_pillar_notes_are_saved_and_move_their_versions(wa, workload, bob):
    client = wa(bob)
    updated = client.update_lens_review(
        WorkloadId=workload.public_id,
        LensAlias=LENS,
        LensNotes="Reviewed with the team.",
        PillarNotes={"security": "Keys rotate yearly."},
    )["LensReview"]
    assert updated["Notes"] == "Reviewed with the team."
    security = next(p for p in updated["PillarReviewSummaries"] if p["PillarId"] == "security")
    assert security["Notes"] == "Keys rotate yearly."
    review = LensReview.objects.get(workload=workload, lens__alias=LENS)
    assert review.notes_version == 1
    assert PillarNote.objects.get(lens_review=review).notes_version == 1
    client.update_lens_review(WorkloadId=workload.public_id, LensAlias=LENS, LensNotes="Again.")
    review.refresh_from_db()
    assert (review.notes, review.notes_version) == ("Again.", 2)


def test_notes_of_an_unknown_pillar_are_refused_and_nothing_is_saved(signed, workload, alice):
    path = ["workloads", workload.public_id, "lensReviews", LENS]
    answer = signed(
        alice, "PATCH", path, body={"LensNotes": "Kept?", "PillarNotes": {"nonsense": "x"}}
    )
    assert (answer.status, answer.body["Fields"][0]["Name"]) == (400, "PillarNotes")
    assert LensReview.objects.get(workload=workload, lens__alias=LENS).notes == ""
    jira = signed(alice, "PATCH", path, body={"JiraConfiguration": {"SelectedPillars": []}})
    assert jira.status == 200
    pillars = {"SelectedPillars": [{"PillarId": "security"}]}
    refused = signed(alice, "PATCH", path, body={"JiraConfiguration": pillars})
    assert (refused.status, refused.body["Fields"][0]["Name"]) == (400, "JiraConfiguration")
    nul = signed(alice, "PATCH", path, body={"PillarNotes": {"security": "a\x00b"}})
    assert nul.status == 400


def test_a_read_only_member_cannot_update_a_lens_review(wa, workload, carol):
    with pytest.raises(ClientError) as raised:
        wa(carol).update_lens_review(WorkloadId=workload.public_id, LensAlias=LENS, LensNotes="x")
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    assert LensReview.objects.get(workload=workload, lens__alias=LENS).notes == ""


def test_lens_reviews_of_a_workload_not_shared_are_not_found(wa, workload, mallory):
    with pytest.raises(ClientError) as raised:
        wa(mallory).list_lens_reviews(WorkloadId=workload.public_id)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as raised:
        wa(mallory).get_lens_review(WorkloadId=workload.public_id, LensAlias=LENS)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_lens_reviews_page_by_page_with_a_custom_lens_not_current(wa, workload, alice, custom):
    client = wa(alice)
    first = client.list_lens_reviews(WorkloadId=workload.public_id, MaxResults=1)
    rest = client.list_lens_reviews(
        WorkloadId=workload.public_id, MaxResults=1, NextToken=first["NextToken"]
    )
    assert "NextToken" not in rest
    [builtin] = first["LensReviewSummaries"]
    [other] = rest["LensReviewSummaries"]
    assert (builtin["LensAlias"], builtin["LensStatus"]) == (LENS, "CURRENT")
    assert other["LensArn"].endswith(f":lens/{custom.alias}")
    assert other["LensAlias"] == other["LensArn"]
    assert (other["LensVersion"], other["LensStatus"]) == ("1.0", "NOT_CURRENT")
    assert other["RiskCounts"]["UNANSWERED"] == 4
    # A custom lens is addressed by its ARN, as the AWS tool does.
    review = client.get_lens_review(WorkloadId=workload.public_id, LensAlias=other["LensArn"])
    assert [p["PillarId"] for p in review["LensReview"]["PillarReviewSummaries"]] == [
        "pillar1",
        "pillar2",
    ]


def test_a_milestone_keeps_the_lens_reviews_as_they_were(wa, workload, alice):
    milestone = milestone_create(workload=workload, name="Start", user=alice)
    _answer_first(workload, alice)
    client = wa(alice)
    listed = client.list_lens_reviews(
        WorkloadId=workload.public_id, MilestoneNumber=milestone.number
    )
    assert listed["MilestoneNumber"] == milestone.number
    [summary] = listed["LensReviewSummaries"]
    assert summary["RiskCounts"]["HIGH"] == 0
    frozen = client.get_lens_review(
        WorkloadId=workload.public_id, LensAlias=LENS, MilestoneNumber=milestone.number
    )
    assert frozen["LensReview"]["RiskCounts"]["HIGH"] == 0
    assert frozen["LensReview"]["UpdatedAt"].timestamp() == pytest.approx(
        milestone.recorded_at.timestamp(), abs=1
    )
    now = client.get_lens_review(WorkloadId=workload.public_id, LensAlias=LENS)
    assert now["LensReview"]["RiskCounts"]["HIGH"] == 1


def test_max_results_of_lens_reviews_over_fifty_is_refused(signed, workload, alice):
    answer = signed(
        alice, "GET", ["workloads", workload.public_id, "lensReviews"], query={"MaxResults": 51}
    )
    assert (answer.status, answer.body["Fields"][0]["Name"]) == (400, "MaxResults")


# -- improvements -----------------------------------------------------------------------------


def _risky_questions(workload, user, count):
    """Make the first `count` questions of the review order high risk."""
    review = LensReview.objects.get(workload=workload, lens__alias=LENS)
    ids = []
    for answer in review.answers.select_related("question").order_by("pk")[:count]:
        answer = access.answer_for(user, workload.public_id, LENS, answer.question.question_id)
        none = next(c.choice_id for c in answer.question.choices.all() if c.is_none)
        answer_update(answer=answer, user=user, selected_choices=[none])
        ids.append(answer.question.question_id)
    return ids


def test_improvements_list_each_risky_question_once_across_pages(wa, workload, alice):
    risky = _risky_questions(workload, alice, 5)
    client = wa(alice)
    seen, token = [], None
    while True:
        page = client.list_lens_review_improvements(
            WorkloadId=workload.public_id,
            LensAlias=LENS,
            MaxResults=2,
            **({"NextToken": token} if token else {}),
        )
        seen += page["ImprovementSummaries"]
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(s["QuestionId"] for s in seen) == sorted(risky)
    first = seen[0]
    assert first["Risk"] == "HIGH"
    assert first["ImprovementPlans"] and first["ImprovementPlanUrl"].startswith("http")
    assert first["ImprovementPlans"][0]["ChoiceId"]


def test_a_question_that_stops_being_risky_between_pages_moves_no_other(signed, workload, alice):
    risky = _risky_questions(workload, alice, 4)
    path = ["workloads", workload.public_id, "lensReviews", LENS, "improvements"]
    first = signed(alice, "GET", path, query={"MaxResults": 2})
    listed = [s["QuestionId"] for s in first.body["ImprovementSummaries"]]
    # The last question of the first page stops being risky.
    answer = access.answer_for(alice, workload.public_id, LENS, listed[-1])
    practices = [c.choice_id for c in answer.question.choices.all() if not c.is_none]
    answer_update(answer=answer, user=alice, selected_choices=practices)
    rest = signed(alice, "GET", path, query={"MaxResults": 2, "NextToken": first.body["NextToken"]})
    assert rest.status == 200, rest.body
    listed += [s["QuestionId"] for s in rest.body["ImprovementSummaries"]]
    assert sorted(listed) == sorted(risky)


def test_improvements_of_a_milestone_and_the_limit_of_a_hundred(signed, workload, alice):
    _risky_questions(workload, alice, 2)
    milestone = milestone_create(workload=workload, name="Risky", user=alice)
    _risky_questions(workload, alice, 6)
    path = ["workloads", workload.public_id, "lensReviews", LENS, "improvements"]
    frozen = signed(alice, "GET", path, query={"MilestoneNumber": milestone.number})
    assert len(frozen.body["ImprovementSummaries"]) == 2
    now = signed(alice, "GET", path, query={"MaxResults": 100})
    assert len(now.body["ImprovementSummaries"]) == 6
    refused = signed(alice, "GET", path, query={"MaxResults": 101})
    assert (refused.status, refused.body["Fields"][0]["Name"]) == (400, "MaxResults")
