from django import template

from reviews import scores
from reviews.improvements import person_label
from reviews.models import AnswerRisk, ChoiceAnswer, ImprovementStatus, Reason
from reviews.snapshots import total_counts

register = template.Library()

_CHOICE_VERBS = {
    "SELECTED": "ticked",
    "UNSELECTED": "unticked",
    "NOT_APPLICABLE": "marked as not applying",
}


@register.filter
def change_text(change: dict) -> str:
    """One audit-trail entry as a sentence fragment (plain text; the template escapes it)."""
    field = change.get("field")
    if field == "lens_version":
        return f"upgraded the lens from {change['before']} to {change['after']}"
    if field == "choice" and change.get("after") == "REMOVED_FROM_LENS":
        title = change.get("title", change.get("choice"))
        return f"dropped “{title}”, no longer in the lens"
    if field == "choice":
        verb = _CHOICE_VERBS.get(change.get("after"), "changed")
        return f"{verb} “{change.get('title', change.get('choice'))}”"
    if field == "risk":
        before = AnswerRisk(change["before"]).label
        after = AnswerRisk(change["after"]).label
        return f"risk {before} → {after}"
    if field == "applicable":
        return (
            "marked the question as applying"
            if change["after"]
            else "marked the question as not applying"
        )
    if field == "reason":
        return f"reason: {Reason(change['after']).label}" if change["after"] != "NONE" else ""
    if field == "notes":
        return "edited the notes"
    if field == "template":
        return f"from template {change['after']}"
    return f"changed {field}"


@register.filter
def risk_label(value: str) -> str:
    return AnswerRisk(value).label if value in AnswerRisk.values else value


@register.filter
def reason_label(value: str) -> str:
    return Reason(value).label if value in Reason.values else value


@register.filter
def choice_status_label(value: str) -> str:
    """Selected, Unselected, Not applicable: what a frozen tick box says to a screen reader."""
    return ChoiceAnswer.Status(value).label if value in ChoiceAnswer.Status.values else value


@register.filter
def improvement_label(value: str) -> str:
    return ImprovementStatus(value).label if value in ImprovementStatus.values else value


@register.filter
def pillar_totals(pillars: list) -> dict[str, int]:
    """The counts of pillars carrying `counts` (as review_outline sets them), added up."""
    return total_counts(pillar.counts for pillar in pillars)


@register.filter
def person(user) -> str:
    """A user's whole name and username (see reviews.improvements.person_label)."""
    return person_label(user) if user else ""


@register.filter
def percent(score: float | None) -> str:
    """A score as shown everywhere: "63%", or "–" when there is none (reviews.scores)."""
    return scores.percent(score)


@register.filter
def score_change(pair: tuple[float | None, float | None]) -> str:
    """The change between two scores in percentage points, rounded as the scores are shown.

    The difference of the shown values, so "50% → 63%" reads "+13", never "+12"."""
    before, after = pair
    if before is None or after is None:
        return "–"
    change = int(after + 0.5) - int(before + 0.5)
    return f"+{change}" if change > 0 else "±0" if change == 0 else f"−{-change}"
