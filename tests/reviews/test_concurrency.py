"""Two people ticking different choices of one question at the same moment both keep their tick."""

import threading
from functools import partial

import pytest
from django.db import connection, connections

from reviews.models import Answer, AnswerEvent, ChoiceAnswer
from reviews.services import answer_choice_update

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks are only meaningful on PostgreSQL"
)

ROUNDS = 25


def run_together(*calls):
    """Start every call at the same moment, each in its own thread and database connection."""
    barrier = threading.Barrier(len(calls))
    errors = []

    def run(call):
        try:
            barrier.wait(timeout=10)
            call()
        except Exception as exc:  # reported below: a thread's exception would be lost otherwise
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors


def selected(answer) -> set[str]:
    return set(
        ChoiceAnswer.objects.filter(answer=answer, status="SELECTED").values_list(
            "choice__choice_id", flat=True
        )
    )


# As a command loads an answer, and as the pages do: with its lens version, whose choices then
# come from the version cache while the choice rows are read after the lock.
@pytest.mark.parametrize("review", ["lens_review", "lens_review__lens_version"])
@pytest.mark.django_db(transaction=True)
def test_simultaneous_ticks_of_different_choices_are_all_kept(workload, alice, bob, review):
    answer = Answer.objects.select_related("question", review).get(
        lens_review__workload=workload, question__question_id="rel1"
    )
    ids = list(answer.question.choices.filter(is_none=False).values_list("choice_id", flat=True))

    for round_number in range(ROUNDS):
        status = "SELECTED" if round_number % 2 == 0 else "UNSELECTED"
        run_together(
            *(
                partial(
                    answer_choice_update,
                    answer=answer,
                    choice_id=choice_id,
                    status=status,
                    user=user,
                )
                for choice_id, user in ((ids[0], alice), (ids[1], bob), (ids[2], bob))
            )
        )
        expected = set(ids[:3]) if status == "SELECTED" else set()
        assert selected(answer) == expected, f"round {round_number}"
        fresh = Answer.objects.get(pk=answer.pk)
        assert fresh.risk == (answer.question.risk_for(expected) if expected else "UNANSWERED"), (
            f"round {round_number}"
        )

    assert AnswerEvent.objects.filter(answer=answer).count() == ROUNDS * 3
    assert Answer.objects.get(pk=answer.pk).version == ROUNDS * 3


@pytest.mark.django_db(transaction=True)
def test_simultaneous_risk_changes_in_different_questions_are_all_counted_for_pollers(
    workload, alice, bob
):
    answers = list(
        Answer.objects.select_related("question", "lens_review").filter(
            lens_review__workload=workload, question__question_id__in=["sec1", "sec2", "sec3"]
        )
    )
    review = answers[0].lens_review

    for round_number in range(ROUNDS):
        status = "SELECTED" if round_number % 2 == 0 else "UNSELECTED"  # unanswered and back
        run_together(
            *(
                partial(
                    answer_choice_update,
                    answer=answer,
                    choice_id=f"{answer.question.question_id}_no",
                    status=status,
                    user=user,
                )
                for answer, user in zip(answers, (alice, bob, bob), strict=True)
            )
        )

    review.refresh_from_db()
    assert (review.version, review.risk_version) == (ROUNDS * 3, ROUNDS * 3)
