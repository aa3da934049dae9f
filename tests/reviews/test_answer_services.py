import pytest

from reviews.models import Answer, AnswerEvent, AnswerRisk, ChoiceAnswer, LensReview
from reviews.services import (
    NotesConflict,
    ReviewError,
    answer_applicability_update,
    answer_choice_update,
    answer_notes_update,
    risk_counts_by_pillar,
)

SELECTED = ChoiceAnswer.Status.SELECTED
UNSELECTED = ChoiceAnswer.Status.UNSELECTED


@pytest.fixture
def answer(workload) -> Answer:
    """The first security question of the built-in lens."""
    return Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload, question__question_id="sec1"
    )


def bp_ids(answer: Answer) -> list[str]:
    return list(answer.question.choices.filter(is_none=False).values_list("choice_id", flat=True))


def tick(answer, choice_id, user, status=SELECTED):
    return answer_choice_update(answer=answer, choice_id=choice_id, status=status, user=user)


def selected(answer: Answer) -> set[str]:
    return set(
        ChoiceAnswer.objects.filter(answer=answer, status=SELECTED).values_list(
            "choice__choice_id", flat=True
        )
    )


def test_an_untouched_question_is_unanswered(answer):
    assert answer.risk == AnswerRisk.UNANSWERED


def test_ticking_every_practice_gives_no_risk(answer, alice):
    for choice_id in bp_ids(answer):
        answer, _ = tick(answer, choice_id, alice)

    assert answer.risk == AnswerRisk.NONE
    assert Answer.objects.get(pk=answer.pk).risk == AnswerRisk.NONE


def test_the_risk_follows_the_lens_rules(answer, alice):
    ids = bp_ids(answer)
    answer, _ = tick(answer, ids[-1], alice)

    expected = answer.question.risk_for({ids[-1]})
    assert answer.risk == expected
    assert expected == AnswerRisk.HIGH  # the essential practices are still missing


def test_none_of_these_unticks_every_other_choice(answer, alice):
    ids = bp_ids(answer)
    tick(answer, ids[0], alice)
    tick(answer, ids[1], alice)

    answer, choices = tick(answer, "sec1_no", alice)

    assert selected(answer) == {"sec1_no"}
    assert answer.risk == AnswerRisk.HIGH
    assert [c.choice_id for c in choices if c.status == SELECTED] == ["sec1_no"]


def test_ticking_a_practice_unticks_none_of_these(answer, alice):
    tick(answer, "sec1_no", alice)

    answer, _ = tick(answer, bp_ids(answer)[0], alice)

    assert selected(answer) == {bp_ids(answer)[0]}


def test_unticking_the_last_choice_makes_the_question_unanswered_again(answer, alice):
    first = bp_ids(answer)[0]
    tick(answer, first, alice)

    answer, _ = tick(answer, first, alice, status=UNSELECTED)

    assert answer.risk == AnswerRisk.UNANSWERED


def test_a_choice_of_another_question_is_refused_and_changes_nothing(answer, alice):
    with pytest.raises(ReviewError, match="not a choice of this question"):
        tick(answer, "sec2_bp1", alice)

    assert not ChoiceAnswer.objects.exists()
    assert not AnswerEvent.objects.exists()


def test_over_long_choice_notes_are_refused(answer, alice):
    with pytest.raises(ReviewError, match="at most 250"):
        answer_choice_update(
            answer=answer,
            choice_id=bp_ids(answer)[0],
            status=ChoiceAnswer.Status.NOT_APPLICABLE,
            reason="OTHER",
            notes="x" * 251,
            user=alice,
        )
    assert not ChoiceAnswer.objects.exists()


def test_a_choice_can_be_marked_as_not_applying_with_a_reason(answer, alice):
    first = bp_ids(answer)[0]

    answer_choice_update(
        answer=answer,
        choice_id=first,
        status=ChoiceAnswer.Status.NOT_APPLICABLE,
        reason="BUSINESS_PRIORITIES",
        notes="Covered by the platform team",
        user=alice,
    )

    row = ChoiceAnswer.objects.get(choice__choice_id=first)
    assert (row.status, row.reason, row.notes) == (
        "NOT_APPLICABLE",
        "BUSINESS_PRIORITIES",
        "Covered by the platform team",
    )


def test_a_question_that_does_not_apply_is_not_applicable_whatever_is_ticked(answer, alice):
    tick(answer, bp_ids(answer)[0], alice)

    answer = answer_applicability_update(
        answer=answer, is_applicable=False, reason="OUT_OF_SCOPE", user=alice
    )

    assert answer.risk == AnswerRisk.NOT_APPLICABLE
    answer = answer_applicability_update(answer=answer, is_applicable=True, reason="", user=alice)
    assert answer.risk == AnswerRisk.HIGH
    assert answer.reason == "NONE"


@pytest.mark.parametrize("status", [SELECTED, UNSELECTED, ChoiceAnswer.Status.NOT_APPLICABLE])
def test_a_tick_on_a_question_marked_not_applicable_is_refused(answer, alice, bob, status):
    answer, _ = tick(answer, bp_ids(answer)[0], alice)
    answer = answer_applicability_update(
        answer=answer, is_applicable=False, reason="OUT_OF_SCOPE", user=alice
    )
    events = AnswerEvent.objects.count()

    with pytest.raises(ReviewError, match="marked as not applying"):
        tick(answer, bp_ids(answer)[1], bob, status)

    stored = Answer.objects.get(pk=answer.pk)
    assert (stored.risk, stored.version) == (AnswerRisk.NOT_APPLICABLE, answer.version)
    assert selected(answer) == {bp_ids(answer)[0]}
    assert ChoiceAnswer.objects.filter(answer=answer).count() == 1
    assert AnswerEvent.objects.count() == events


def test_every_change_is_in_the_audit_trail_with_before_and_after(answer, alice, bob):
    first = bp_ids(answer)[0]
    tick(answer, first, alice)
    answer_notes_update(answer=answer, notes="Uses SSO", base_version=0, user=bob)

    notes_event, tick_event = AnswerEvent.objects.filter(answer=answer)

    assert tick_event.user == alice
    assert {
        "field": "choice",
        "choice": first,
        "title": tick_event.changes[0]["title"],
        "before": "UNSELECTED",
        "after": "SELECTED",
    } == tick_event.changes[0]
    assert {"field": "risk", "before": "UNANSWERED", "after": "HIGH"} in tick_event.changes
    assert notes_event.user == bob
    assert notes_event.changes == [{"field": "notes", "before": "", "after": "Uses SSO"}]


def test_every_change_moves_the_review_version_for_pollers(answer, alice):
    before = LensReview.objects.get(pk=answer.lens_review_id).version

    tick(answer, bp_ids(answer)[0], alice)

    assert LensReview.objects.get(pk=answer.lens_review_id).version == before + 1


def risk_version(answer: Answer) -> int:
    return LensReview.objects.get(pk=answer.lens_review_id).risk_version


def test_a_change_of_risk_moves_the_review_risk_version(answer, alice):
    before = risk_version(answer)

    answer, _ = tick(answer, "sec1_no", alice)  # unanswered to high
    answer = answer_applicability_update(
        answer=answer, is_applicable=False, reason="OUT_OF_SCOPE", user=alice
    )

    assert risk_version(answer) == before + 2


def test_changes_that_keep_the_risk_leave_the_risk_version_alone(answer, alice):
    answer, _ = tick(answer, bp_ids(answer)[0], alice)
    before = risk_version(answer)
    version_before = LensReview.objects.get(pk=answer.lens_review_id).version

    answer, _ = tick(answer, bp_ids(answer)[-1], alice)  # still high
    answer, _ = tick(answer, bp_ids(answer)[2], alice, ChoiceAnswer.Status.NOT_APPLICABLE)
    answer = answer_notes_update(answer=answer, notes="Uses SSO", base_version=0, user=alice)

    assert answer.risk == AnswerRisk.HIGH
    assert risk_version(answer) == before
    assert LensReview.objects.get(pk=answer.lens_review_id).version == version_before + 3


def test_notes_saved_by_someone_else_meanwhile_are_not_overwritten(answer, alice, bob):
    answer_notes_update(answer=answer, notes="Bob's view", base_version=0, user=bob)

    with pytest.raises(NotesConflict) as conflict:
        answer_notes_update(answer=answer, notes="Alice's view", base_version=0, user=alice)

    assert conflict.value.theirs == "Bob's view"
    assert conflict.value.by == "bob"
    assert Answer.objects.get(pk=answer.pk).notes == "Bob's view"
    answer_notes_update(
        answer=answer, notes="Alice's view", base_version=conflict.value.version, user=alice
    )
    assert Answer.objects.get(pk=answer.pk).notes == "Alice's view"


def test_notes_over_2084_characters_are_refused(answer, alice):
    with pytest.raises(ReviewError, match="at most 2,084"):
        answer_notes_update(answer=answer, notes="x" * 2085, base_version=0, user=alice)
    assert Answer.objects.get(pk=answer.pk).notes == ""


def test_risk_counts_are_kept_per_pillar(answer, alice):
    tick(answer, "sec1_no", alice)

    counts = risk_counts_by_pillar(answer.lens_review)[answer.question.pillar_id]

    assert counts["high"] == 1
    assert counts["answered"] == 1
    assert counts["total"] == answer.question.pillar.questions.count()


def test_a_notes_conflict_names_who_wrote_the_notes_not_who_ticked_last(answer, alice, bob, carol):
    answer_notes_update(answer=answer, notes="Alice's view", base_version=0, user=alice)
    tick(answer, bp_ids(answer)[0], bob)

    with pytest.raises(NotesConflict) as conflict:
        answer_notes_update(answer=answer, notes="Carol's view", base_version=0, user=carol)

    assert conflict.value.by == "alice"
