import pytest
from botocore.exceptions import ClientError
from django.urls import reverse

from reviews import access, selectors
from reviews.milestones import milestone_create
from reviews.models import Answer, AnswerEvent, AnswerRisk, ImprovementItem, LensReview
from reviews.services import answer_update, workload_update

pytestmark = pytest.mark.django_db(transaction=True)

LENS = "wellarchitected"


def _review_order(workload):
    review = LensReview.objects.select_related("lens_version", "workload").get(workload=workload)
    return [q.question_id for p in selectors.review_outline(review) for q in p.question_list]


def _first_question(workload):
    return _review_order(workload)[0]


def _answer(workload, question_id):
    return access.answer_for(workload.owner, workload.public_id, LENS, question_id)


def _choice_ids(workload, question_id):
    answer = _answer(workload, question_id)
    choices = list(answer.question.choices.order_by("order"))
    practices = [c.choice_id for c in choices if not c.is_none]
    none = next(c.choice_id for c in choices if c.is_none)
    return practices, none


def _all_pages(client, **given):
    seen, token, pages = [], None, 0
    while True:
        page = client.list_answers(**given, **({"NextToken": token} if token else {}))
        seen += page["AnswerSummaries"]
        pages += 1
        token = page.get("NextToken")
        if not token:
            return seen, pages


def test_a_script_pages_through_every_answer_in_the_review_order_with_boto3(wa, workload, alice):
    summaries, pages = _all_pages(
        wa(alice), WorkloadId=workload.public_id, LensAlias=LENS, MaxResults=10
    )
    ids = [summary["QuestionId"] for summary in summaries]
    assert ids == _review_order(workload)
    assert pages == -(-len(ids) // 10)
    first = summaries[0]
    assert first["Risk"] == "UNANSWERED" and first["IsApplicable"] is True
    assert first["Choices"][0]["Title"] and first["SelectedChoices"] == []
    assert {c["Status"] for c in first["ChoiceAnswerSummaries"]} == {"UNSELECTED"}
    assert first["QuestionType"] == "NON_PRIORITIZED"


def test_pages_follow_the_order_they_began_with_when_priorities_change_between_them(
    signed, workload, alice
):
    path = ["workloads", workload.public_id, "lensReviews", LENS, "answers"]
    first = signed(alice, "GET", path, query={"MaxResults": 20})
    priorities = list(reversed(workload.pillar_priorities))
    workload_update(workload=workload, user=alice, pillar_priorities=priorities)
    seen = [s["QuestionId"] for s in first.body["AnswerSummaries"]]
    token = first.body["NextToken"]
    while token:
        page = signed(alice, "GET", path, query={"MaxResults": 20, "NextToken": token})
        assert page.status == 200, page.body
        seen += [s["QuestionId"] for s in page.body["AnswerSummaries"]]
        token = page.body.get("NextToken")
    assert sorted(seen) == sorted(set(seen)) and len(seen) == len(_review_order(workload))


def test_answers_of_one_pillar_only_and_an_unknown_pillar_is_refused(signed, workload, alice):
    path = ["workloads", workload.public_id, "lensReviews", LENS, "answers"]
    page = signed(alice, "GET", path, query={"PillarId": "security"})
    assert {s["PillarId"] for s in page.body["AnswerSummaries"]} == {"security"}
    refused = signed(alice, "GET", path, query={"PillarId": "nonsense"})
    assert (refused.status, refused.body["Fields"][0]["Name"]) == (400, "PillarId")


def test_prioritized_questions_are_none_without_profiles(signed, workload, alice):
    path = ["workloads", workload.public_id, "lensReviews", LENS, "answers"]
    page = signed(alice, "GET", path, query={"QuestionPriority": "PRIORITIZED"})
    assert page.status == 200 and page.body["AnswerSummaries"] == []


def test_max_results_over_fifty_is_refused(signed, workload, alice):
    path = ["workloads", workload.public_id, "lensReviews", LENS, "answers"]
    answer = signed(alice, "GET", path, query={"MaxResults": 51})
    assert (answer.status, answer.error_type) == (400, "ValidationException")
    assert answer.body["Fields"][0]["Name"] == "MaxResults"


def test_update_answer_sets_the_whole_answer_in_history_with_the_users_name(wa, workload, bob):
    question_id = _first_question(workload)
    practices, none = _choice_ids(workload, question_id)
    updated = wa(bob).update_answer(
        WorkloadId=workload.public_id,
        LensAlias=LENS,
        QuestionId=question_id,
        SelectedChoices=[none],
        Notes="We have not started.",
    )["Answer"]
    assert updated["SelectedChoices"] == [none]
    assert updated["Risk"] == "HIGH" and updated["Notes"] == "We have not started."
    answer = Answer.objects.get(lens_review__workload=workload, question__question_id=question_id)
    [event] = AnswerEvent.objects.filter(answer=answer)
    assert event.user == bob
    assert {change["field"] for change in event.changes} >= {"choice", "notes", "risk"}
    item = ImprovementItem.objects.get(answer=answer)
    assert item.is_open

    again = wa(bob).update_answer(
        WorkloadId=workload.public_id,
        LensAlias=LENS,
        QuestionId=question_id,
        SelectedChoices=practices,
        ChoiceUpdates={},
    )["Answer"]
    assert again["SelectedChoices"] == practices and again["Risk"] == "NONE"
    item.refresh_from_db()
    assert not item.is_open


def test_a_choice_marked_not_applicable_keeps_its_reason_and_notes(wa, workload, alice):
    question_id = _first_question(workload)
    practices, _ = _choice_ids(workload, question_id)
    answer = wa(alice).update_answer(
        WorkloadId=workload.public_id,
        LensAlias=LENS,
        QuestionId=question_id,
        ChoiceUpdates={
            practices[0]: {"Status": "NOT_APPLICABLE", "Reason": "OUT_OF_SCOPE", "Notes": "n/a"}
        },
    )["Answer"]
    row = next(c for c in answer["ChoiceAnswers"] if c["ChoiceId"] == practices[0])
    assert row == {
        "ChoiceId": practices[0],
        "Status": "NOT_APPLICABLE",
        "Reason": "OUT_OF_SCOPE",
        "Notes": "n/a",
    }


def test_a_question_marked_as_not_applying_through_the_api(wa, workload, alice):
    question_id = _first_question(workload)
    answer = wa(alice).update_answer(
        WorkloadId=workload.public_id,
        LensAlias=LENS,
        QuestionId=question_id,
        IsApplicable=False,
        Reason="BUSINESS_PRIORITIES",
    )["Answer"]
    assert (answer["IsApplicable"], answer["Risk"], answer["Reason"]) == (
        False,
        "NOT_APPLICABLE",
        "BUSINESS_PRIORITIES",
    )


def test_notes_written_through_the_api_make_a_browser_editor_with_older_notes_see_a_conflict(
    wa, workload, alice, bob, client
):
    question_id = _first_question(workload)
    before = _answer(workload, question_id).notes_version
    wa(alice).update_answer(
        WorkloadId=workload.public_id,
        LensAlias=LENS,
        QuestionId=question_id,
        Notes="Written by a script.",
    )
    answer = _answer(workload, question_id)
    assert answer.notes_version == before + 1
    client.force_login(bob)
    url = reverse(
        "reviews:question_notes",
        kwargs={"public_id": workload.public_id, "alias": LENS, "question_id": question_id},
    )
    response = client.post(url, {"notes": "Bob's older edit.", "notes_version": before})
    assert b"Someone else saved these notes first" in response.content
    assert _answer(workload, question_id).notes == "Written by a script."


def test_a_read_only_member_cannot_update_an_answer(wa, workload, carol):
    question_id = _first_question(workload)
    with pytest.raises(ClientError) as raised:
        wa(carol).update_answer(
            WorkloadId=workload.public_id, LensAlias=LENS, QuestionId=question_id, Notes="Mine."
        )
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    assert _answer(workload, question_id).notes == ""


def test_answers_of_a_workload_not_shared_are_not_found(wa, workload, mallory):
    with pytest.raises(ClientError) as raised:
        wa(mallory).list_answers(WorkloadId=workload.public_id, LensAlias=LENS)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as raised:
        wa(mallory).get_answer(
            WorkloadId=workload.public_id, LensAlias=LENS, QuestionId=_first_question(workload)
        )
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_an_unknown_question_or_lens_is_not_found(signed, workload, alice):
    base = ["workloads", workload.public_id, "lensReviews"]
    missing = signed(alice, "GET", [*base, LENS, "answers", "nonsense"])
    assert (missing.status, missing.body["ResourceType"]) == (404, "QUESTION")
    lens = signed(alice, "GET", [*base, "no-such-lens", "answers"])
    assert (lens.status, lens.body["ResourceType"]) == (404, "LENS")


def test_an_unknown_choice_is_refused_naming_the_field_and_changes_nothing(signed, workload, alice):
    question_id = _first_question(workload)
    practices, none = _choice_ids(workload, question_id)
    path = ["workloads", workload.public_id, "lensReviews", LENS, "answers", question_id]
    unknown = signed(alice, "PATCH", path, body={"SelectedChoices": ["nope"], "Notes": "x"})
    assert (unknown.status, unknown.body["Fields"][0]["Name"]) == (400, "SelectedChoices")
    both = signed(alice, "PATCH", path, body={"SelectedChoices": [practices[0], none]})
    assert (both.status, both.body["Fields"][0]["Name"]) == (400, "SelectedChoices")
    status = signed(alice, "PATCH", path, body={"ChoiceUpdates": {practices[0]: {"Status": "X"}}})
    assert (status.status, status.body["Fields"][0]["Name"]) == (400, "ChoiceUpdates")
    reason = signed(alice, "PATCH", path, body={"Reason": "BECAUSE"})
    assert (reason.status, reason.body["Fields"][0]["Name"]) == (400, "Reason")
    answer = _answer(workload, question_id)
    assert (answer.notes, answer.risk, answer.version) == ("", AnswerRisk.UNANSWERED, 0)
    assert not AnswerEvent.objects.exists()


def test_get_answer_has_the_question_its_resources_and_choice_answers(wa, workload, alice):
    question_id = _first_question(workload)
    practices, _ = _choice_ids(workload, question_id)
    answer_update(answer=_answer(workload, question_id), user=alice, selected_choices=practices[:1])
    answer = wa(alice).get_answer(
        WorkloadId=workload.public_id, LensAlias=LENS, QuestionId=question_id
    )["Answer"]
    assert answer["QuestionId"] == question_id and answer["QuestionDescription"]
    assert answer["SelectedChoices"] == practices[:1]
    assert answer["Risk"] in ("HIGH", "MEDIUM")
    assert answer["ImprovementPlanUrl"].startswith("http")
    assert any("ImprovementPlan" in choice for choice in answer["Choices"])
    assert len(answer["ChoiceAnswers"]) == len(answer["Choices"])


def test_answers_of_a_milestone_are_as_they_were_frozen(wa, workload, alice):
    question_id = _first_question(workload)
    practices, _ = _choice_ids(workload, question_id)
    answer_update(answer=_answer(workload, question_id), user=alice, notes="Before.")
    milestone = milestone_create(workload=workload, name="Before changes", user=alice)
    answer_update(
        answer=_answer(workload, question_id),
        user=alice,
        selected_choices=practices,
        notes="After.",
    )
    client = wa(alice)
    frozen = client.get_answer(
        WorkloadId=workload.public_id,
        LensAlias=LENS,
        QuestionId=question_id,
        MilestoneNumber=milestone.number,
    )
    assert frozen["MilestoneNumber"] == milestone.number
    assert frozen["Answer"]["Notes"] == "Before." and frozen["Answer"]["SelectedChoices"] == []
    # Not frozen, so from the lens version the milestone froze.
    assert frozen["Answer"]["Choices"][0]["HelpfulResource"]["Url"]
    summaries, _ = _all_pages(
        client,
        WorkloadId=workload.public_id,
        LensAlias=LENS,
        MilestoneNumber=milestone.number,
        MaxResults=50,
    )
    assert [s["QuestionId"] for s in summaries] == _review_order(workload)
    assert summaries[0]["Risk"] == "UNANSWERED"
    with pytest.raises(ClientError) as raised:
        client.list_answers(WorkloadId=workload.public_id, LensAlias=LENS, MilestoneNumber=9)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_someone_watching_the_question_page_sees_an_api_change_appear(
    wa, workload, bob, carol, client
):
    from reviews.views.answers import poll_token

    question_id = _first_question(workload)
    _, none = _choice_ids(workload, question_id)
    watching = access.answer_for(carol, workload.public_id, LENS, question_id)
    url = reverse(
        "reviews:question_poll",
        kwargs={"public_id": workload.public_id, "alias": LENS, "question_id": question_id},
    )
    client.force_login(carol)
    token = poll_token(watching)
    assert client.get(url, {"v": token}).status_code == 204
    wa(bob).update_answer(
        WorkloadId=workload.public_id,
        LensAlias=LENS,
        QuestionId=question_id,
        SelectedChoices=[none],
    )
    changed = client.get(url, {"v": token})
    assert changed.status_code == 200
    assert b"High risk" in changed.content
    page = client.get(url.removesuffix("poll/"))
    assert b"<strong>bob</strong>" in page.content  # the history names who changed it
