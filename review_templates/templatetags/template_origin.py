"""Where a workload's answer came from, for its question page."""

from __future__ import annotations

from django import template

from reviews.services import answer_fingerprint

register = template.Library()


@register.inclusion_tag("review_templates/_answer_origin.html")
def answer_origin(answer, choices, oob: bool = False) -> dict:
    """The template the answer came from (if any) and whether the workload changed it since;
    `oob` when it is swapped into a page out of band (a tick's response)."""
    if not answer.template_id:
        return {"template": None}
    return {
        "template": answer.template,
        "changed": answer_fingerprint(answer, choices) != answer.template_state,
        "oob": oob,
    }
