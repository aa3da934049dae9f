"""Reads of review templates for the pages and the API: each a fixed number of queries."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from lenses.models import Pillar, Question
from review_templates.models import (
    Propagation,
    ReviewTemplate,
    TemplateLens,
    TemplateMember,
)
from reviews.models import WRITE_ROLES, Workload

USES_SHOWN = 50


def templates_for_list(user) -> QuerySet[ReviewTemplate]:
    """The user's templates with their role, lens, answer and workload counts."""
    return (
        ReviewTemplate.objects.with_role(user)
        .select_related("owner")
        .annotate(
            lens_count=Count("lenses", distinct=True),
            answer_count=Count("lenses__answers", distinct=True),
            use_count=Count("uses", distinct=True),
        )
        .order_by("name")
    )


def lens_outline(template_lens: TemplateLens) -> list[Pillar]:
    """The lens's pillars in order, each with `question_list`; a question has `template_answer`
    (None where the template leaves it to the workloads). Three queries."""
    answered = {a.question_id: a for a in template_lens.answers.all()}
    pillars = list(
        Pillar.objects.filter(lens_version=template_lens.lens_version)
        .order_by("order")
        .prefetch_related(
            Prefetch(
                "questions", queryset=Question.objects.order_by("order"), to_attr="question_list"
            )
        )
    )
    for pillar in pillars:
        pillar.answered = 0
        for question in pillar.question_list:
            question.template_answer = answered.get(question.pk)
            pillar.answered += question.template_answer is not None
    return pillars


def template_members(template: ReviewTemplate) -> list[TemplateMember]:
    return list(template.members.select_related("user").order_by("user__username"))


def workloads_using(template: ReviewTemplate) -> dict:
    uses = Workload.objects.filter(template_uses__template=template).order_by("name")
    return {"count": uses.count(), "shown": list(uses[:USES_SHOWN])}


def writable_workloads(user, template: ReviewTemplate) -> list[Workload]:
    """Workloads the user may apply the template to (those they may change), by name."""
    workloads = Workload.objects.with_role(user).filter(role__in=WRITE_ROLES).order_by("name")
    return list(workloads.only("public_id", "name")[:500])


def propagation_latest(template: ReviewTemplate) -> Propagation | None:
    return template.propagations.select_related("requested_by").first()
