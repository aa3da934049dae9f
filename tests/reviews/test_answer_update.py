"""answer_update: a whole answer in one locked change and one history event."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lenses.services import lens_import, lens_version_publish
from reviews.errors import CONFLICT, INVALID
from reviews.models import (
    Answer,
    AnswerEvent,
    AnswerRisk,
    ChoiceAnswer,
    ImprovementItem,
    LensReview,
)
from reviews.services import (
    NotesConflict,
    ReviewError,
    answer_applicability_update,
    answer_notes_update,
    answer_update,
    workload_add_lens,
)
from tests.factories import lens_bytes

SELECTED = ChoiceAnswer.Status.SELECTED
NOT_APPLICABLE = ChoiceAnswer.Status.NOT_APPLICABLE


@pytest.fixture
def answer(workload) -> Answer:
    """The first security question of the built-in lens."""
    return Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload, question__question_id="sec1"
    )


def practices(answer: Answer) -> list[str]:
    return list(answer.question.choices.filter(is_none=False).values_list("choice_id", flat=True))


def stored(answer: Answer) -> dict[str, tuple[str, str, str]]:
    return {
        row.choice.choice_id: (row.status, row.reason, row.notes)
        for row in ChoiceAnswer.objects.filter(answer=answer).select_related("choice")
    }


def ticked(answer: Answer) -> set[str]:
    return {choice for choice, (status, _, _) in stored(answer).items() if status == SELECTED}


def test_a_whole_answer_is_set_at_once_with_one_history_event(answer, bob):
    first, second, third, *_ = practices(answer)
    reviews_version = LensReview.objects.get(pk=answer.lens_review_id).version

    answer, choices = answer_update(
        answer=answer,
        user=bob,
        selected_choices=[first, second],
        choice_updates={third: {"status": NOT_APPLICABLE, "reason": "OTHER", "notes": "Later"}},
        notes="Uses SSO",
    )

    assert ticked(answer) == {first, second}
    assert stored(answer)[third] == (NOT_APPLICABLE, "OTHER", "Later")
    saved = Answer.objects.get(pk=answer.pk)
    assert (saved.notes, saved.notes_version, saved.updated_by) == ("Uses SSO", 1, bob)
    assert saved.risk == answer.question.risk_for({first, second}) == answer.risk
    [event] = AnswerEvent.objects.filter(answer=answer)
    assert event.user == bob
    assert [(c["field"], c.get("choice"), c["after"]) for c in event.changes] == [
        ("choice", first, SELECTED),
        ("choice", second, SELECTED),
        ("choice", third, NOT_APPLICABLE),
        ("notes", None, "Uses SSO"),
        ("risk", None, saved.risk),
    ]
    review = LensReview.objects.get(pk=answer.lens_review_id)
    assert (review.version, review.risk_version) == (reviews_version + 1, 1)
    assert [c.choice_id for c in choices if c.status == SELECTED] == [first, second]


def test_the_selected_choices_are_the_complete_set(answer, alice):
    first, second, *_ = practices(answer)
    answer_update(answer=answer, user=alice, selected_choices=[first, second])

    answer, _ = answer_update(answer=answer, user=alice, selected_choices=[second])

    assert ticked(answer) == {second}
    answer, _ = answer_update(answer=answer, user=alice, selected_choices=[])
    assert (ticked(answer), answer.risk) == (set(), AnswerRisk.UNANSWERED)


def test_the_same_answer_again_changes_nothing_and_records_nothing(answer, alice):
    first = practices(answer)[0]
    answer, _ = answer_update(answer=answer, user=alice, selected_choices=[first], notes="n")
    version = Answer.objects.get(pk=answer.pk).version

    answer_update(answer=answer, user=alice, selected_choices=[first], notes="n")

    assert Answer.objects.get(pk=answer.pk).version == version
    assert AnswerEvent.objects.filter(answer=answer).count() == 1


def test_none_of_these_with_another_choice_is_refused_and_changes_nothing(answer, alice):
    with pytest.raises(ReviewError, match="None of these") as caught:
        answer_update(answer=answer, user=alice, selected_choices=["sec1_no", practices(answer)[0]])

    assert (caught.value.kind, caught.value.field) == (INVALID, "selected_choices")
    assert not ChoiceAnswer.objects.exists()
    assert not AnswerEvent.objects.exists()


def test_a_choice_update_ticking_none_of_these_unticks_the_practices(answer, alice):
    first, second, *_ = practices(answer)
    answer_update(answer=answer, user=alice, selected_choices=[first, second])

    answer, _ = answer_update(
        answer=answer, user=alice, choice_updates={"sec1_no": {"status": SELECTED}}
    )

    assert ticked(answer) == {"sec1_no"}
    answer, _ = answer_update(
        answer=answer, user=alice, choice_updates={first: {"status": SELECTED}}
    )
    assert ticked(answer) == {first}


@pytest.mark.parametrize(
    ("update", "field", "message"),
    [
        ({"selected_choices": ["sec2_bp1"]}, "selected_choices", "not a choice of this question"),
        ({"choice_updates": {"nope": {"status": SELECTED}}}, "choice_updates", "not a choice"),
        ({"choice_updates": {"sec1_no": {"status": "MAYBE"}}}, "choice_updates", "Unknown"),
        ({"notes": "x" * 2085}, "notes", "at most 2,084"),
        ({"notes": "a\x00b"}, "notes", "NUL"),
        ({"reason": "BORED", "is_applicable": False}, "reason", "Unknown reason"),
    ],
)
def test_bad_input_is_refused_naming_its_field_and_changes_nothing(
    answer, alice, update, field, message
):
    with pytest.raises(ReviewError, match=message) as caught:
        answer_update(answer=answer, user=alice, **{"selected_choices": ["sec1_no"], **update})

    assert (caught.value.kind, caught.value.field) == (INVALID, field)
    assert not ChoiceAnswer.objects.exists()
    assert Answer.objects.get(pk=answer.pk).version == answer.version


def test_over_long_choice_notes_are_refused(answer, alice):
    update = {"status": NOT_APPLICABLE, "reason": "OTHER", "notes": "x" * 251}

    with pytest.raises(ReviewError, match="at most 250"):
        answer_update(answer=answer, user=alice, choice_updates={practices(answer)[0]: update})

    assert not ChoiceAnswer.objects.exists()


def test_selecting_and_updating_a_choice_to_something_else_at_once_is_refused(answer, alice):
    first = practices(answer)[0]

    with pytest.raises(ReviewError, match="at once"):
        answer_update(
            answer=answer,
            user=alice,
            selected_choices=[first],
            choice_updates={first: {"status": "UNSELECTED"}},
        )

    assert not ChoiceAnswer.objects.exists()


def test_choices_of_a_question_that_does_not_apply_are_refused(answer, alice, bob):
    first, second, *_ = practices(answer)
    answer_update(answer=answer, user=alice, selected_choices=[first])
    answer = answer_applicability_update(
        answer=answer, is_applicable=False, reason="OUT_OF_SCOPE", user=alice
    )
    events = AnswerEvent.objects.count()

    with pytest.raises(ReviewError, match="marked as not applying"):
        answer_update(answer=answer, user=bob, selected_choices=[second], notes="Tried")

    saved = Answer.objects.get(pk=answer.pk)
    assert (saved.risk, saved.version, saved.notes) == (
        AnswerRisk.NOT_APPLICABLE,
        answer.version,
        "",
    )
    assert ticked(answer) == {first}
    assert AnswerEvent.objects.count() == events


def test_applicability_and_choices_change_together(answer, alice):
    first = practices(answer)[0]
    answer_update(answer=answer, user=alice, is_applicable=False, reason="OUT_OF_SCOPE")

    answer, _ = answer_update(
        answer=answer, user=alice, is_applicable=True, selected_choices=[first]
    )

    assert (answer.is_applicable, answer.reason) == (True, "NONE")
    assert answer.risk == answer.question.risk_for({first})
    [event] = AnswerEvent.objects.filter(answer=answer).order_by("-pk")[:1]
    assert [c["field"] for c in event.changes][:3] == ["applicable", "reason", "choice"]


def test_a_risky_answer_opens_its_improvement_item_and_a_safe_one_closes_it(answer, alice):
    answer, _ = answer_update(answer=answer, user=alice, selected_choices=["sec1_no"])
    assert ImprovementItem.objects.get(answer=answer).is_open

    answer, _ = answer_update(answer=answer, user=alice, selected_choices=practices(answer))

    assert answer.risk == AnswerRisk.NONE
    assert not ImprovementItem.objects.get(answer=answer).is_open


def test_notes_win_without_a_version_and_an_older_editor_then_sees_the_conflict(answer, alice, bob):
    answer_update(answer=answer, user=bob, notes="Set by automation")

    with pytest.raises(NotesConflict) as caught:
        answer_notes_update(answer=answer, notes="Typed in the browser", base_version=0, user=alice)

    assert (caught.value.theirs, caught.value.version, caught.value.by) == (
        "Set by automation",
        1,
        "bob",
    )


def test_a_change_to_an_answer_an_upgrade_replaced_is_a_conflict(answer, alice):
    Answer.objects.filter(pk=answer.pk).delete()

    with pytest.raises(ReviewError, match="another version of its lens") as caught:
        answer_update(answer=answer, user=alice, selected_choices=["sec1_no"])

    assert caught.value.kind == CONFLICT


def _queries_to_answer(workload, admin_user, alice, choices: int) -> int:
    name = f"Lens with {choices} choices"
    version = lens_import(raw=lens_bytes(name=name, pillars=1, questions=1, choices=choices))
    lens = lens_version_publish(lens_version=version, version="1.0").lens
    review = workload_add_lens(workload=workload, lens=lens)
    answer = Answer.objects.select_related("question", "lens_review").get(lens_review=review)
    ids = practices(answer)
    with CaptureQueriesContext(connection) as context:
        answer_update(
            answer=answer,
            user=alice,
            selected_choices=ids[:-1],
            choice_updates={ids[-1]: {"status": NOT_APPLICABLE, "reason": "OTHER"}},
            notes="All at once",
        )
    assert len(ticked(answer)) == choices - 1
    return len(context.captured_queries)


def test_the_number_of_queries_does_not_grow_with_the_number_of_choices(
    workload, admin_user, alice
):
    few = _queries_to_answer(workload, admin_user, alice, 3)
    many = _queries_to_answer(workload, admin_user, alice, 40)

    assert few == many
    assert many <= 13  # 12, and the pillar's kept counts
