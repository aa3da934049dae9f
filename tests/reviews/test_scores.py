"""The score arithmetic of reviews.scores on its edge cases."""

import pytest

from reviews.scores import Practices, mean_score, percent, question_practices

BP = (False, None)  # a best practice nobody touched
TICKED = (False, "SELECTED")
UNTICKED = (False, "UNSELECTED")
CHOICE_NA = (False, "NOT_APPLICABLE")
NONE_TICKED = (True, "SELECTED")
NONE_UNTICKED = (True, None)


def test_a_question_counts_its_ticked_best_practices_over_all_its_best_practices():
    assert question_practices([TICKED, UNTICKED, BP, NONE_UNTICKED]) == Practices(1, 3, 1)


def test_a_question_not_applicable_is_left_out_with_all_its_choices():
    assert question_practices([TICKED, UNTICKED], is_applicable=False) == Practices()


def test_a_choice_not_applicable_leaves_the_denominator():
    assert question_practices([TICKED, CHOICE_NA, UNTICKED]) == Practices(1, 2, 1)


def test_none_of_these_answers_the_question_but_is_no_best_practice():
    practices = question_practices([UNTICKED, BP, NONE_TICKED])
    assert practices == Practices(0, 2, 1)
    assert practices.score == 0


def test_an_unanswered_question_counts_its_best_practices_as_not_followed():
    pillar = question_practices([TICKED, TICKED]) + question_practices([BP, BP])
    assert pillar == Practices(2, 4, 1)
    assert pillar.score == 50


def test_a_pillar_without_an_answered_question_has_no_score():
    assert (question_practices([BP, BP]) + question_practices([UNTICKED])).score is None


def test_a_pillar_whose_questions_are_all_not_applicable_has_no_score():
    pillar = question_practices([TICKED], is_applicable=False) + question_practices(
        [CHOICE_NA], is_applicable=True
    )
    assert pillar.applicable == 0
    assert pillar.score is None


def test_a_lens_score_is_the_mean_of_the_pillars_that_have_one():
    assert mean_score([100.0, None, 50.0]) == 75
    assert mean_score([None, None]) is None
    assert mean_score([]) is None


@pytest.mark.parametrize(
    ("score", "shown"), [(None, "–"), (0.0, "0%"), (62.5, "63%"), (66.66, "67%"), (100.0, "100%")]
)
def test_a_score_is_shown_rounded_half_up(score, shown):
    assert percent(score) == shown
