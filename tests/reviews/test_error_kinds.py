"""Each domain error says what kind of failure it is, so an interface need not read messages."""

import pytest

from lenses.services import LensError, lens_delete, lens_import, lens_version_publish
from reviews.errors import CONFLICT, INVALID, NOT_FOUND, QUOTA, DomainError
from reviews.milestones import MilestoneError, milestone_create
from reviews.models import MAX_EXTRA_LENSES, MAX_MILESTONES, Answer, ChoiceAnswer, Milestone
from reviews.services import (
    ReviewError,
    answer_choice_update,
    workload_add_lens,
    workload_remove_lens,
    workload_share,
    workload_share_add,
)
from tests.factories import lens_bytes


def published(name, user):
    version = lens_import(raw=lens_bytes(name=name, pillars=1, questions=1), user=user)
    return lens_version_publish(lens_version=version, version="1.0").lens


@pytest.fixture
def answer(workload) -> Answer:
    return Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload, question__question_id="sec1"
    )


def test_every_domain_error_is_still_caught_by_its_own_name(answer, alice):
    with pytest.raises(ReviewError) as caught:
        answer_choice_update(answer=answer, choice_id="sec1_x", status="MAYBE", user=alice)

    assert isinstance(caught.value, DomainError)
    assert caught.value.kind == INVALID
    assert str(caught.value) == caught.value.message == "Unknown choice status 'MAYBE'."


def test_a_choice_that_is_not_of_the_question_is_invalid(answer, alice):
    with pytest.raises(ReviewError) as caught:
        answer_choice_update(
            answer=answer, choice_id="nope", status=ChoiceAnswer.Status.SELECTED, user=alice
        )

    assert caught.value.kind == INVALID


def test_a_change_to_an_answer_an_upgrade_replaced_is_a_conflict(answer, alice):
    Answer.objects.filter(pk=answer.pk).delete()

    with pytest.raises(ReviewError, match="another version of its lens") as caught:
        answer_choice_update(
            answer=answer, choice_id="sec1_x", status=ChoiceAnswer.Status.SELECTED, user=alice
        )

    assert caught.value.kind == CONFLICT


def test_one_lens_over_the_limit_is_a_quota_error(workload, admin_user):
    lenses = [published(f"Lens {n:02}", admin_user) for n in range(MAX_EXTRA_LENSES + 1)]
    for lens in lenses[:MAX_EXTRA_LENSES]:
        workload_add_lens(workload=workload, lens=lens)

    with pytest.raises(ReviewError, match="at most") as caught:
        workload_add_lens(workload=workload, lens=lenses[-1])

    assert caught.value.kind == QUOTA


def test_removing_a_lens_the_workload_does_not_review_is_not_found(workload, admin_user):
    lens = published("Unused Lens", admin_user)

    with pytest.raises(ReviewError, match="is not reviewed") as caught:
        workload_remove_lens(workload=workload, lens=lens)

    assert caught.value.kind == NOT_FOUND


def test_sharing_with_the_owner_is_a_conflict(workload, alice):
    with pytest.raises(ReviewError, match="owns this workload already") as caught:
        workload_share(workload=workload, user=alice, role="CONTRIBUTOR")

    assert caught.value.kind == CONFLICT


def test_adding_a_share_for_a_member_is_a_conflict_and_keeps_the_role(workload, bob, mallory):
    with pytest.raises(ReviewError, match="shared with bob already") as caught:
        workload_share_add(workload=workload, user=bob, role="READONLY")

    assert caught.value.kind == CONFLICT
    assert workload.members.get(user=bob).role == "CONTRIBUTOR"
    assert workload_share_add(workload=workload, user=mallory, role="READONLY").role == "READONLY"


def test_a_milestone_name_taken_already_is_a_conflict_and_a_short_one_invalid(workload, alice):
    milestone_create(workload=workload, name="Before launch", user=alice)

    with pytest.raises(MilestoneError) as taken:
        milestone_create(workload=workload, name="before   LAUNCH", user=alice)
    with pytest.raises(MilestoneError) as short:
        milestone_create(workload=workload, name="x", user=alice)

    assert (taken.value.kind, short.value.kind) == (CONFLICT, INVALID)


def test_one_milestone_over_the_limit_is_a_quota_error(workload, alice):
    Milestone.objects.bulk_create(
        Milestone(workload=workload, number=n, name=f"M {n}", name_key=f"m {n}", data={})
        for n in range(1, MAX_MILESTONES + 1)
    )

    with pytest.raises(MilestoneError, match="at most") as caught:
        milestone_create(workload=workload, name="One more", user=alice)

    assert caught.value.kind == QUOTA


def test_deleting_a_lens_in_use_is_a_conflict(workload, admin_user):
    lens = published("Team Lens", admin_user)
    workload_add_lens(workload=workload, lens=lens)

    with pytest.raises(LensError, match="cannot be deleted") as caught:
        lens_delete(lens=lens)

    assert caught.value.kind == CONFLICT
