"""reviews.access takes a user, not a request: the same checks for the browser and the API."""

import pytest

from reviews.access import AccessError, answer_for, lens_review_for, workload_for
from reviews.errors import FORBIDDEN, NOT_FOUND


def kind_of(check, *args, **kwargs):
    with pytest.raises(AccessError) as caught:
        check(*args, **kwargs)
    return caught.value.kind, caught.value.message


def test_each_member_gets_the_workload_with_their_role(workload, alice, bob, carol):
    roles = [workload_for(user, workload.public_id).role for user in (alice, bob, carol)]

    assert roles == ["OWNER", "CONTRIBUTOR", "READONLY"]


def test_a_workload_not_shared_with_the_user_is_not_found(workload, mallory):
    assert kind_of(workload_for, mallory, workload.public_id) == (NOT_FOUND, "No such workload.")
    assert kind_of(workload_for, mallory, "0" * 32) == (NOT_FOUND, "No such workload.")


def test_a_read_only_member_may_not_write(workload, carol):
    assert kind_of(workload_for, carol, workload.public_id, write=True) == (
        FORBIDDEN,
        "You can read this workload but not change it.",
    )


def test_only_the_owner_passes_an_owner_check(workload, alice, bob):
    assert workload_for(alice, workload.public_id, owner=True).role == "OWNER"
    assert kind_of(workload_for, bob, workload.public_id, write=True, owner=True) == (
        FORBIDDEN,
        "Only the workload's owner can do this.",
    )


def test_a_lens_review_comes_with_its_workload_and_role_in_one_query(
    workload, bob, mallory, django_assert_num_queries
):
    with django_assert_num_queries(1):
        review = lens_review_for(bob, workload.public_id, "wellarchitected", write=True)

    assert (review.workload.pk, review.workload.role) == (workload.pk, "CONTRIBUTOR")
    assert kind_of(lens_review_for, bob, workload.public_id, "nope") == (
        NOT_FOUND,
        "This lens is not reviewed in this workload.",
    )
    assert kind_of(lens_review_for, mallory, workload.public_id, "wellarchitected")[0] == NOT_FOUND


def test_an_answer_is_one_query_and_checks_the_role(
    workload, bob, carol, mallory, django_assert_num_queries
):
    with django_assert_num_queries(1):
        answer = answer_for(bob, workload.public_id, "wellarchitected", "sec1", write=True)

    assert answer.question.question_id == "sec1"
    assert answer.lens_review.workload.role == "CONTRIBUTOR"
    refused = kind_of(answer_for, carol, workload.public_id, "wellarchitected", "sec1", write=True)
    assert refused[0] == FORBIDDEN
    assert kind_of(answer_for, mallory, workload.public_id, "wellarchitected", "sec1") == (
        NOT_FOUND,
        "No such question in this review.",
    )
    assert kind_of(answer_for, bob, workload.public_id, "wellarchitected", "nope")[0] == NOT_FOUND


def test_a_read_only_member_asking_to_write_a_missing_lens_is_refused_first(workload, carol):
    assert kind_of(lens_review_for, carol, workload.public_id, "nope", write=True)[0] == FORBIDDEN
    assert kind_of(lens_review_for, carol, "0" * 32, "wellarchitected") == (
        NOT_FOUND,
        "No such workload.",
    )


def test_the_lookups_never_carry_the_lens_file(workload, bob, django_assert_num_queries):
    """The source of a big lens is hundreds of kilobytes; no page behind these checks shows it."""
    with django_assert_num_queries(2) as captured:
        lens_review_for(bob, workload.public_id, "wellarchitected")
        answer_for(bob, workload.public_id, "wellarchitected", "sec1")

    for query in captured.captured_queries:
        assert '"lenses_lensversion"."source"' not in query["sql"]
        assert 'v."source"' not in query["sql"]
