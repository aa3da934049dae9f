"""Scores: the share of the applicable best practices that a review follows, in percent.

The arithmetic, in one place for every page, export and report (README "Scores"):
- A best practice is a choice of a question other than its "None of these" choice.
- A question marked not applicable is left out with all its choices; so is a single choice
  marked not applicable.
- Every other best practice of the pillar counts as applicable, also in questions not answered
  yet: a half-done review does not claim the score of the questions it has reached.
- A pillar's score is followed / applicable over its questions; it has no score (None, shown as
  "–") while none of its applicable questions is answered, or when nothing in it is applicable.
- A lens review's score is the mean of its pillars' scores, leaving out pillars without one; a
  workload's is the mean of its lens reviews' scores; a portfolio's the mean of its workloads'.
Scores are kept as floats between 0 and 100 and rounded only for display.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Practices:
    """Best-practice counts of a question or a pillar, from which its score follows."""

    followed: int = 0
    applicable: int = 0
    answered: int = 0  # applicable questions with at least one ticked choice

    def __add__(self, other: Practices) -> Practices:
        return Practices(
            self.followed + other.followed,
            self.applicable + other.applicable,
            self.answered + other.answered,
        )

    @property
    def score(self) -> float | None:
        if not self.answered or not self.applicable:
            return None
        return 100 * self.followed / self.applicable


SELECTED = "SELECTED"
NOT_APPLICABLE = "NOT_APPLICABLE"


def question_practices(
    choices: Iterable[tuple[bool, str | None]], *, is_applicable: bool = True
) -> Practices:
    """Counts of one question from its choices as (is_none, status) pairs.

    The status is the answer's ChoiceAnswer status (SELECTED, NOT_APPLICABLE, UNSELECTED, or
    None for a choice never touched).
    """
    if not is_applicable:
        return Practices()
    followed = applicable = 0
    answered = False
    for is_none, status in choices:
        if status == SELECTED:
            answered = True
        if is_none or status == NOT_APPLICABLE:
            continue
        applicable += 1
        followed += status == SELECTED
    return Practices(followed, applicable, int(answered))


def mean_score(scores: Iterable[float | None]) -> float | None:
    """The mean of the scores that exist; None when there are none."""
    present = [score for score in scores if score is not None]
    return sum(present) / len(present) if present else None


def percent(score: float | None) -> str:
    """A score for display, rounded half up ("63%"), or an en dash when there is none."""
    return "–" if score is None else f"{int(score + 0.5)}%"
