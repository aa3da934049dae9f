"""Query counts of the answer operations, pinned: the same however many answers, choices and
pages there are. In-process through the signed test client, one request each."""

import pytest

from lenses.services import lens_import, lens_version_publish
from lenses.version_cache import version_data
from reviews import access
from reviews.models import LensReview
from reviews.services import answer_update, pillar_notes_update, workload_add_lens
from tests.factories import lens_bytes

LENS = "wellarchitected"
# Every request: the key (1), then the operation's own queries.
# lens review and workload, the workload's profile, questions, choices, answers with their choices
LIST_ANSWERS = 6
GET_LENS_REVIEW = 6  # lens review and workload, newer versions, counts, pillar notes, pillars
# answer, savepoint, lock, choices, rows, answer, event, item (3), kept counts, review, release;
# the risk rules come from the published version's data, read once per process
UPDATE_ANSWER = 14


def _answer_some(workload, user, count, alias=LENS):
    review = LensReview.objects.get(workload=workload, lens__alias=alias)
    for answer in review.answers.select_related("question").order_by("pk")[:count]:
        answer = access.answer_for(user, workload.public_id, alias, answer.question.question_id)
        choices = list(answer.question.choices.order_by("order"))
        answer_update(
            answer=answer,
            user=user,
            selected_choices=[c.choice_id for c in choices if not c.is_none][:2],
            notes="Some notes.",
        )


@pytest.fixture
def path(workload):
    return ["workloads", workload.public_id, "lensReviews", LENS]


@pytest.fixture
def big_lens(workload, alice):
    """A custom lens of 60 questions reviewed in the workload (the built-in one has 38)."""
    draft = lens_import(raw=lens_bytes(pillars=5, questions=12), user=alice)
    lens = lens_version_publish(lens_version=draft, version="1.0").lens
    workload_add_lens(workload=workload, lens=lens)
    return lens


@pytest.mark.django_db
def test_a_page_of_answers_costs_the_same_queries_for_five_or_fifty_answered_or_not(
    signed, workload, alice, big_lens, django_assert_max_num_queries
):
    path = ["workloads", workload.public_id, "lensReviews", big_lens.alias, "answers"]
    signed(alice, "GET", path, query={"MaxResults": 1})  # the key's first use
    with django_assert_max_num_queries(LIST_ANSWERS):
        small = signed(alice, "GET", path, query={"MaxResults": 5})
    _answer_some(workload, alice, 50, alias=big_lens.alias)
    with django_assert_max_num_queries(LIST_ANSWERS):
        page = signed(alice, "GET", path, query={"MaxResults": 50})
    with django_assert_max_num_queries(LIST_ANSWERS):
        rest = signed(
            alice, "GET", path, query={"MaxResults": 50, "NextToken": page.body["NextToken"]}
        )
    assert len(small.body["AnswerSummaries"]) == 5
    assert len(page.body["AnswerSummaries"]) == 50
    assert len(rest.body["AnswerSummaries"]) == 10
    assert all(s["SelectedChoices"] for s in page.body["AnswerSummaries"])


@pytest.mark.django_db
def test_a_lens_review_costs_the_same_queries_however_much_is_answered(
    signed, workload, alice, path, django_assert_max_num_queries
):
    signed(alice, "GET", path)
    with django_assert_max_num_queries(GET_LENS_REVIEW):
        signed(alice, "GET", path)
    _answer_some(workload, alice, 30)
    review = LensReview.objects.get(workload=workload, lens__alias=LENS)
    for pillar in review.lens_version.pillars.all():
        pillar_notes_update(
            lens_review=review, pillar_pk=pillar.pk, notes="Seen.", base_version=0, user=alice
        )
    with django_assert_max_num_queries(GET_LENS_REVIEW):
        answer = signed(alice, "GET", path)
    assert {p["Notes"] for p in answer.body["LensReview"]["PillarReviewSummaries"]} == {"Seen."}


@pytest.mark.django_db
def test_update_answer_costs_the_same_queries_for_one_choice_or_all(
    signed, workload, alice, path, django_assert_max_num_queries
):
    review = LensReview.objects.get(workload=workload, lens__alias=LENS)
    first, second = review.answers.select_related("question").order_by("pk")[:2]
    signed(alice, "GET", path)
    version_data(review.lens_version)

    def practices(answer):
        return [c.choice_id for c in answer.question.choices.order_by("order") if not c.is_none]

    one = practices(first)[:1]
    with django_assert_max_num_queries(UPDATE_ANSWER):
        answer = signed(
            alice,
            "PATCH",
            [*path, "answers", first.question.question_id],
            body={"SelectedChoices": one, "Notes": "One."},
        )
    assert answer.body["Answer"]["SelectedChoices"] == one
    every = practices(second)
    with django_assert_max_num_queries(UPDATE_ANSWER):
        answer = signed(
            alice,
            "PATCH",
            [*path, "answers", second.question.question_id],
            body={"SelectedChoices": every, "Notes": "All.", "IsApplicable": True},
        )
    assert answer.body["Answer"]["SelectedChoices"] == every
