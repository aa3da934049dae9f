"""Ticks at the same moment in one pillar, each in its own connection, all land in its counts."""

import threading
import time
from contextlib import contextmanager
from functools import partial

import pytest
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from reviews.counts import differences
from reviews.models import Answer, AnswerEvent, ChoiceAnswer, LensReview, PillarCounts
from reviews.services import answer_applicability_update, answer_choice_update
from tests.reviews.test_concurrency import run_together

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks are only meaningful on PostgreSQL"
)

ROUNDS = 10


@pytest.mark.django_db(transaction=True)
def test_simultaneous_ticks_in_one_pillar_all_count(workload, alice, bob):
    answers = list(
        Answer.objects.select_related("question", "lens_review")
        .filter(lens_review__workload=workload, question__pillar__pillar_id="security")
        .order_by("question__order")[:4]
    )
    firsts = [a.question.choices.filter(is_none=False).order_by("order")[0] for a in answers]
    row = PillarCounts.objects.get(lens_review__workload=workload, pillar__pillar_id="security")
    unanswered = row.unanswered

    for round_number in range(ROUNDS):
        status = "SELECTED" if round_number % 2 == 0 else "UNSELECTED"
        run_together(
            *(
                partial(
                    answer_choice_update,
                    answer=answer,
                    choice_id=choice.choice_id,
                    status=status,
                    user=alice if n % 2 else bob,
                )
                for n, (answer, choice) in enumerate(zip(answers, firsts, strict=True))
            )
        )
        row.refresh_from_db()
        ticked = len(answers) if status == "SELECTED" else 0
        assert (row.unanswered, row.answered, row.followed) == (
            unanswered - ticked,
            ticked,
            ticked,
        ), f"round {round_number}"
        assert differences() == [], f"round {round_number}"

    # Applicability and ticks of the same pillar at once.
    run_together(
        partial(
            answer_applicability_update,
            answer=answers[0],
            is_applicable=False,
            reason="OUT_OF_SCOPE",
            user=alice,
        ),
        *(
            partial(
                answer_choice_update,
                answer=answer,
                choice_id=choice.choice_id,
                status="SELECTED",
                user=bob,
            )
            for answer, choice in zip(answers[1:], firsts[1:], strict=True)
        ),
    )
    row.refresh_from_db()
    assert (row.not_applicable, row.answered) == (1, len(answers) - 1)
    assert differences() == []


@pytest.mark.django_db(transaction=True)
def test_simultaneous_ticks_in_a_pillar_without_its_row_count_once_each(workload, alice, bob):
    answers = list(
        Answer.objects.select_related("question", "lens_review")
        .filter(lens_review__workload=workload, question__pillar__pillar_id="security")
        .order_by("question__order")[:4]
    )
    firsts = [a.question.choices.filter(is_none=False).order_by("order")[0] for a in answers]
    rows = PillarCounts.objects.filter(lens_review__workload=workload, pillar__pillar_id="security")

    for round_number in range(5):
        rows.delete()
        run_together(
            *(
                partial(
                    answer_choice_update,
                    answer=answer,
                    choice_id=choice.choice_id,
                    status="SELECTED" if round_number % 2 == 0 else "UNSELECTED",
                    user=alice if n % 2 else bob,
                )
                for n, (answer, choice) in enumerate(zip(answers, firsts, strict=True))
            )
        )
        assert differences() == [], f"round {round_number}"


@contextmanager
def held_open(work, seconds: float):
    """Do `work` in a transaction of another thread and keep it open for `seconds`: inside the
    block `work` is done but not committed. The dict given holds, after the block, when the
    transaction ended ("at", aware; "monotonic")."""
    held, released = threading.Event(), {}

    def run():
        with transaction.atomic():
            work()
            held.set()
            time.sleep(seconds)
            released.update(at=timezone.now(), monotonic=time.monotonic())
        connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    held.wait(5)
    try:
        yield released
    finally:
        thread.join()


@pytest.mark.django_db(transaction=True)
def test_a_tick_that_waits_for_the_reviews_lock_dates_its_history_entry_after_the_wait(
    workload, bob
):
    """Others see a change when it commits; a history entry dated before a long wait for a
    lock would say the choice changed while they still read the old state (the load test's
    consistency check found such a no-op as a lost update)."""
    answer = Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload, question__question_id="sec1"
    )

    def lock_the_review():
        LensReview.objects.select_for_update().get(pk=answer.lens_review_id)

    with held_open(lock_the_review, 0.5) as released:
        answer_choice_update(answer=answer, choice_id="sec1_bp1", status="SELECTED", user=bob)

    event = AnswerEvent.objects.filter(answer=answer).latest("at")
    assert event.at >= released["at"]


@pytest.mark.django_db(transaction=True)
def test_a_tick_asking_for_what_is_stored_waits_for_a_change_being_written_and_then_applies(
    client, workload, alice, bob
):
    """The lookup reads the committed state; a change being written meanwhile has its history
    entry dated already. Answered "nothing to do" from what the lookup read, the tick would be
    lost in the history's eyes (the load test's consistency check found two such)."""

    def answer():
        return Answer.objects.select_related("question", "lens_review").get(
            lens_review__workload=workload, question__question_id="sec1"
        )

    answer_choice_update(answer=answer(), choice_id="sec1_bp1", status="SELECTED", user=alice)
    tick_url = reverse(
        "reviews:choice_update", args=[workload.public_id, "wellarchitected", "sec1", "sec1_bp1"]
    )
    client.force_login(bob)
    client.get(tick_url.split("choices/")[0])  # the first request's imports, before the clock

    def untick():
        answer_choice_update(answer=answer(), choice_id="sec1_bp1", status="UNSELECTED", user=alice)

    with held_open(untick, 1) as released:
        sent = time.monotonic()
        response = client.post(
            tick_url,
            {"status": "SELECTED", "v": "0.0"},  # a page from before both changes
            HTTP_HX_REQUEST="true",
        )
        answered = time.monotonic()

    assert sent < released["monotonic"] < answered  # asked while the change was being written
    assert response.status_code == 200
    row = ChoiceAnswer.objects.get(answer=answer(), choice__choice_id="sec1_bp1")
    assert row.status == "SELECTED"
    events = AnswerEvent.objects.filter(answer=answer()).order_by("at")
    assert [e.user.username for e in events] == ["alice", "alice", "bob"]
