"""The AWS tool's review-template operations over review_templates' services.

A template is named by its ARN (`review-template/<public id>`); access is the template's own
(owner, contributors, readers), checked by review_templates.access as in the browser. A
template's "lens review" is its TemplateLens: the lens, its pinned version and lens notes.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.db.models import Max

from api.calls import Call, domain_errors
from api.errors import conflict, not_found, validation_error
from api.identifiers import account_id, arn, parse_arn

# The module, not its names: lens_reviews imports workloads, which imports this module.
from api.operations import lens_reviews
from api.operations.common import access_error, arn_of_lens, epoch, lens_alias_of, lenses_named
from api.operations.shares import STATUSES as SHARE_STATUSES
from api.operations.shares import _user_named as user_named
from api.pagination import next_token, page_size, page_start
from api.routing import operation
from lenses.models import Choice, Lens, LensVersion, Question
from review_templates import access, selectors, services
from review_templates.models import ReviewTemplate, TemplateAnswer, TemplateLens, TemplateMember
from reviews.access import AccessError
from reviews.models import NOTES_MAX, ChoiceAnswer, Reason, Role

TEMPLATES = "/reviewTemplates"
TEMPLATE = TEMPLATES + "/{TemplateArn}"
LENS_REVIEW = TEMPLATE + "/lensReviews/{LensAlias}"
ANSWERS = LENS_REVIEW + "/answers"
FIELDS = {"name": "TemplateName", "description": "Description", "lenses": "Lenses"}
RESOURCE = "REVIEW_TEMPLATE"


def template_arn(template: ReviewTemplate) -> str:
    return arn("review-template", template.public_id, template.owner_id)


def template_id_of(value: str) -> str:
    """The public id behind a TemplateArn (an ARN, or the bare id)."""
    parsed = parse_arn(value)
    if parsed is not None and parsed.resource == "review-template":
        return parsed.resource_id
    return value


def template_of(call: Call, *, write: bool = False, owner: bool = False) -> ReviewTemplate:
    given = call.input.string("TemplateArn", required=True, min_length=1, max_length=250)
    call.input.check()
    try:
        return access.template_for(call.user, template_id_of(given), write=write, owner=owner)
    except AccessError as error:
        raise access_error(error, {RESOURCE: given}) from None


def templates_named(call: Call, values: list[str]) -> list[ReviewTemplate]:
    """The templates named by ARNs, each readable by the caller, in the order given."""
    found = []
    for value in values:
        try:
            found.append(access.template_for(call.user, template_id_of(value)))
        except AccessError as error:
            raise access_error(error, {RESOURCE: value}) from None
    return found


def _template_lens(call: Call, template: ReviewTemplate) -> TemplateLens:
    alias = call.input.string("LensAlias", required=True, min_length=1, max_length=2048)
    call.input.check()
    template_lens = (
        template.lenses.select_related("lens", "lens_version")
        .filter(lens__alias=lens_alias_of(alias))
        .first()
    )
    if template_lens is None:
        raise not_found(
            "The template does not answer this lens.", resource_id=alias, resource_type="LENS"
        )
    return template_lens


def _lens_name(lens: Lens) -> str:
    return lens.alias if lens.is_builtin else arn_of_lens(lens)


def _question_counts(template: ReviewTemplate) -> dict[str, int]:
    total = Question.objects.filter(
        pillar__lens_version__in=template.lenses.values("lens_version")
    ).count()
    answered = TemplateAnswer.objects.filter(template_lens__template=template).count()
    return {"UNANSWERED": total - answered, "ANSWERED": answered}


def _update_statuses(templates: list[ReviewTemplate]) -> dict[int, str]:
    """Per template: LENS_NOT_CURRENT when one of its lenses has a newer published version than
    the template's, else CURRENT (one query; the templates' lenses are prefetched)."""
    lenses = [tl for template in templates for tl in template.lenses.all()]
    newest = dict(
        LensVersion.objects.filter(
            lens__in={tl.lens_id for tl in lenses}, status=LensVersion.Status.PUBLISHED
        )
        .values("lens")
        .annotate(newest=Max("published_at"))
        .values_list("lens", "newest")
    )
    statuses = {template.pk: "CURRENT" for template in templates}
    for tl in lenses:
        published = tl.lens_version.published_at
        if published and newest.get(tl.lens_id) and newest[tl.lens_id] > published:
            statuses[tl.template_id] = "LENS_NOT_CURRENT"
    return statuses


def _with_lenses(templates):
    return templates.prefetch_related("lenses__lens", "lenses__lens_version")


def summary_shape(template: ReviewTemplate, status: str) -> dict[str, Any]:
    return {
        "TemplateArn": template_arn(template),
        "TemplateName": template.name,
        "Description": template.description,
        "Lenses": [_lens_name(tl.lens) for tl in template.lenses.all()],
        "Owner": account_id(template.owner_id),
        "UpdatedAt": epoch(template.updated_at),
        "UpdateStatus": status,
    }


def template_shape(template: ReviewTemplate) -> dict[str, Any]:
    template = _with_lenses(ReviewTemplate.objects.filter(pk=template.pk)).get()
    return {
        **summary_shape(template, _update_statuses([template])[template.pk]),
        "Notes": template.notes,
        "QuestionCounts": _question_counts(template),
        "Tags": {},
    }


def _check_tags(call: Call) -> None:
    if call.input.mapping("Tags"):
        raise validation_error(
            "Tags: Archlens keeps no tags on review templates; leave it out.", field="Tags"
        )


@operation("CreateReviewTemplate", "POST", TEMPLATES, idempotent=True)
def create_review_template(call: Call) -> dict[str, Any]:
    given = call.input
    name = given.string("TemplateName", required=True, min_length=3, max_length=100)
    description = given.string("Description", required=True, min_length=3, max_length=250)
    notes = given.string("Notes", max_length=NOTES_MAX)
    lens_names = given.strings("Lenses", required=True, min_length=1, max_length=2048)
    _check_tags(call)
    given.check()
    lenses = lenses_named(call, lens_names)
    with domain_errors(fields=FIELDS, resource_type=RESOURCE):
        template = services.template_create(
            owner=call.user, name=name, description=description, lenses=lenses
        )
        if notes:
            services.template_notes_update(template=template, notes=notes)
    return {"TemplateArn": template_arn(template)}


@operation("GetReviewTemplate", "GET", TEMPLATE)
def get_review_template(call: Call) -> dict[str, Any]:
    return {"ReviewTemplate": template_shape(template_of(call))}


@operation("UpdateReviewTemplate", "PATCH", TEMPLATE)
def update_review_template(call: Call) -> dict[str, Any]:
    template = template_of(call, owner=True)
    given = call.input
    name = given.string("TemplateName", min_length=3, max_length=100)
    description = given.string("Description", min_length=3, max_length=250)
    notes = given.string("Notes", max_length=NOTES_MAX)
    associate = given.strings("LensesToAssociate", min_length=1, max_length=2048) or []
    disassociate = given.strings("LensesToDisassociate", min_length=1, max_length=2048) or []
    given.check()
    with domain_errors(fields=FIELDS, resource_type=RESOURCE):
        if name is not None or description is not None:
            services.template_update(
                template=template,
                user=call.user,
                name=template.name if name is None else name,
                description=template.description if description is None else description,
            )
        if notes is not None:
            services.template_notes_update(template=template, notes=notes)
        for lens in lenses_named(call, associate):
            services.template_add_lens(template=template, lens=lens)
        for lens in lenses_named(call, disassociate):
            services.template_remove_lens(template=template, lens=lens)
    return {"ReviewTemplate": template_shape(template_of(call))}


@operation("DeleteReviewTemplate", "DELETE", TEMPLATE, idempotent=True)
def delete_review_template(call: Call) -> dict[str, Any]:
    template = template_of(call, owner=True)
    services.template_delete(template=template)
    return {}


@operation("ListReviewTemplates", "GET", TEMPLATES)
def list_review_templates(call: Call) -> dict[str, Any]:
    size = page_size(call, maximum=100)
    after = page_start(call, {})
    templates = selectors.templates_for_list(call.user).order_by("pk")
    if after is not None:
        templates = templates.filter(pk__gt=after)
    page = list(_with_lenses(templates)[: size + 1])
    more = len(page) > size
    page = page[:size]
    statuses = _update_statuses(page)
    result: dict[str, Any] = {"ReviewTemplates": [summary_shape(t, statuses[t.pk]) for t in page]}
    if more:
        result["NextToken"] = next_token(call, {}, page[-1].pk)
    return result


# -- the template's lens reviews and answers -------------------------------------------------------


def _lens_members(template: ReviewTemplate, template_lens: TemplateLens) -> dict[str, str]:
    return {"TemplateArn": template_arn(template), "LensAlias": template_lens.lens.alias}


@operation("GetReviewTemplateLensReview", "GET", LENS_REVIEW)
def get_review_template_lens_review(call: Call) -> dict[str, Any]:
    template = template_of(call)
    template_lens = _template_lens(call, template)
    return {"TemplateArn": template_arn(template), "LensReview": _lens_review_shape(template_lens)}


def _lens_review_shape(template_lens: TemplateLens) -> dict[str, Any]:
    pillars = selectors.lens_outline(template_lens)
    lens, version = template_lens.lens, template_lens.lens_version
    answered = sum(p.answered for p in pillars)
    total = sum(len(p.question_list) for p in pillars)
    return {
        "LensAlias": lens.alias,
        "LensArn": arn_of_lens(lens),
        "LensVersion": version.version,
        "LensName": lens.name,
        "LensStatus": "CURRENT",
        "PillarReviewSummaries": [
            {
                "PillarId": p.pillar_id,
                "PillarName": p.name,
                "QuestionCounts": {
                    "UNANSWERED": len(p.question_list) - p.answered,
                    "ANSWERED": p.answered,
                },
            }
            for p in pillars
        ],
        "UpdatedAt": epoch(template_lens.template.updated_at),
        "Notes": template_lens.notes,
        "QuestionCounts": {"UNANSWERED": total - answered, "ANSWERED": answered},
    }


@operation("UpdateReviewTemplateLensReview", "PATCH", LENS_REVIEW)
def update_review_template_lens_review(call: Call) -> dict[str, Any]:
    template = template_of(call, write=True)
    template_lens = _template_lens(call, template)
    notes = call.input.string("LensNotes", max_length=NOTES_MAX)
    call.input.mapping("PillarNotes")
    call.input.check()
    if notes is not None:
        with domain_errors(fields={"notes": "LensNotes"}, resource_type="LENS"):
            services.template_lens_notes_update(template_lens=template_lens, notes=notes)
    return {"TemplateArn": template_arn(template), "LensReview": _lens_review_shape(template_lens)}


@operation("UpgradeReviewTemplateLensReview", "PUT", LENS_REVIEW + "/upgrade")
def upgrade_review_template_lens_review(call: Call) -> dict[str, Any]:
    template = template_of(call, owner=True)
    _template_lens(call, template)
    raise validation_error(
        "UpgradeReviewTemplateLensReview: Archlens does not move a template to a newer lens "
        "version yet; create a new template for the newer version."
    )


def _question(call: Call, template_lens: TemplateLens) -> Question:
    question_id = call.input.string("QuestionId", required=True, min_length=1, max_length=128)
    call.input.check()
    question = (
        Question.objects.select_related("pillar")
        .prefetch_related("choices")
        .filter(pillar__lens_version=template_lens.lens_version, question_id=question_id)
        .first()
    )
    if question is None:
        raise not_found(
            "No such question in this lens.", resource_id=question_id, resource_type="QUESTION"
        )
    return question


def _answer_shape(
    question: Question,
    pillar_id: str,
    choices: list[Choice],
    saved: TemplateAnswer | None,
    *,
    full: bool,
) -> dict[str, Any]:
    """A ReviewTemplateAnswer (`full`) or a ReviewTemplateAnswerSummary."""
    settings = saved.choices if saved else {}
    shape: dict[str, Any] = {
        "QuestionId": question.question_id,
        "PillarId": pillar_id,
        "QuestionTitle": question.title,
        "Choices": [lens_reviews.choice_shape(c) for c in choices],
        "SelectedChoices": [
            c.choice_id
            for c in choices
            if settings.get(c.choice_id, {}).get("status") == "SELECTED"
        ],
        "IsApplicable": saved.is_applicable if saved else True,
        "AnswerStatus": "ANSWERED" if saved else "UNANSWERED",
        "Reason": saved.reason if saved else Reason.NONE,
    }
    answers = [
        {
            "ChoiceId": choice_id,
            "Status": setting["status"],
            "Reason": setting["reason"],
            **({"Notes": setting["notes"]} if full else {}),
        }
        for choice_id, setting in settings.items()
    ]
    if not full:
        return {**shape, "ChoiceAnswerSummaries": answers, "QuestionType": "PRIORITIZED"}
    shape["ChoiceAnswers"] = answers
    shape["Notes"] = saved.notes if saved else ""
    if question.description:
        shape["QuestionDescription"] = question.description
    if question.helpful_resource_url:
        shape["HelpfulResourceUrl"] = question.helpful_resource_url
        shape["HelpfulResourceDisplayText"] = question.helpful_resource_text
    return shape


def _full_answer(template, template_lens, question, saved) -> dict[str, Any]:
    choices = list(question.choices.all())
    return {
        **_lens_members(template, template_lens),
        "Answer": _answer_shape(question, question.pillar.pillar_id, choices, saved, full=True),
    }


@operation("GetReviewTemplateAnswer", "GET", ANSWERS + "/{QuestionId}")
def get_review_template_answer(call: Call) -> dict[str, Any]:
    template = template_of(call)
    template_lens = _template_lens(call, template)
    question = _question(call, template_lens)
    saved = template_lens.answers.filter(question=question).first()
    return _full_answer(template, template_lens, question, saved)


@operation("ListReviewTemplateAnswers", "GET", ANSWERS)
def list_review_template_answers(call: Call) -> dict[str, Any]:
    """The template's questions in lens order, a page at a time (four queries a page)."""
    template = template_of(call)
    template_lens = _template_lens(call, template)
    pillar_id = call.input.string("PillarId", min_length=1, max_length=64)
    size = page_size(call, maximum=50)
    after = page_start(call, {"pillar": pillar_id}) or 0
    questions = [
        (pillar.pillar_id, question)
        for pillar in selectors.lens_outline(template_lens)
        if pillar_id in (None, pillar.pillar_id)
        for question in pillar.question_list
    ]
    page = questions[after : after + size]
    choices: dict[int, list[Choice]] = {}
    for choice in Choice.objects.filter(question__in=[q for _, q in page]).order_by("order"):
        choices.setdefault(choice.question_id, []).append(choice)
    result: dict[str, Any] = {
        **_lens_members(template, template_lens),
        "AnswerSummaries": [
            _answer_shape(q, pid, choices.get(q.pk, []), q.template_answer, full=False)
            for pid, q in page
        ],
    }
    if after + size < len(questions):
        result["NextToken"] = next_token(call, {"pillar": pillar_id}, after + size)
    return result


@operation("UpdateReviewTemplateAnswer", "PATCH", ANSWERS + "/{QuestionId}")
def update_review_template_answer(call: Call) -> dict[str, Any]:
    template = template_of(call, write=True)
    template_lens = _template_lens(call, template)
    question = _question(call, template_lens)
    given = call.input
    selected = given.strings("SelectedChoices", min_length=1, max_length=64)
    updates = given.mapping("ChoiceUpdates")
    notes = given.string("Notes", max_length=NOTES_MAX)
    is_applicable = given.boolean("IsApplicable")
    reason = given.string("Reason", choices=Reason.values)
    given.check()
    saved = template_lens.answers.filter(question=question).first()
    settings = {
        choice_id: services.ChoiceSetting(s["status"], s["reason"], s["notes"])
        for choice_id, s in (saved.choices if saved else {}).items()
    }
    if selected is not None:
        for choice_id in list(settings):
            if settings[choice_id].status == ChoiceAnswer.Status.SELECTED:
                settings[choice_id] = services.ChoiceSetting(ChoiceAnswer.Status.UNSELECTED)
        for choice_id in selected:
            settings[choice_id] = services.ChoiceSetting(ChoiceAnswer.Status.SELECTED)
    for choice_id, update in (updates or {}).items():
        if not isinstance(update, dict) or not isinstance(update.get("Status"), str):
            raise validation_error(
                f"ChoiceUpdates: the update of “{choice_id}” needs a Status.", field="ChoiceUpdates"
            )
        settings[choice_id] = services.ChoiceSetting(
            update["Status"], update.get("Reason") or Reason.NONE, update.get("Notes") or ""
        )
    with domain_errors(
        fields={"choices": "ChoiceUpdates" if updates else "SelectedChoices"},
        resource_type="QUESTION",
        resource_id=question.question_id,
    ):
        saved = services.template_answer_set(
            template_lens=template_lens,
            question=question,
            user=call.user,
            choices=settings,
            is_applicable=(saved.is_applicable if saved else True)
            if is_applicable is None
            else is_applicable,
            reason=(saved.reason if saved else Reason.NONE) if reason is None else reason,
            notes=(saved.notes if saved else "") if notes is None else notes,
        )
    return _full_answer(template, template_lens, question, saved)


# -- template shares: read-only, as the AWS tool's are ---------------------------------------------


def template_share_id(member_pk: int) -> str:
    message = f"archlens-template-share|{member_pk}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:32]


def _template_shares(template: ReviewTemplate):
    return template.members.exclude(role=Role.OWNER).order_by("pk")


def _template_share_summary(member: TemplateMember) -> dict[str, Any]:
    return {
        "ShareId": template_share_id(member.pk),
        "SharedWith": account_id(member.user_id),
        "Status": "ACCEPTED",
    }


@operation("CreateTemplateShare", "POST", "/templates/shares/{TemplateArn}", idempotent=True)
def create_template_share(call: Call) -> dict[str, Any]:
    template = template_of(call, owner=True)
    shared_with = call.input.string("SharedWith", required=True, min_length=12, max_length=2048)
    call.input.string("ClientRequestToken", max_length=2048)
    call.input.check()
    user = user_named(shared_with)
    if template.members.filter(user=user).exists():
        raise conflict(
            f"The template is shared with {user.get_username()} already.",
            resource_id=template.public_id,
            resource_type="TEMPLATE_SHARE",
        )
    with domain_errors(resource_type="TEMPLATE_SHARE", resource_id=template.public_id):
        member = services.template_share(template=template, user=user, role=Role.READONLY)
    return {"TemplateArn": template_arn(template), "ShareId": template_share_id(member.pk)}


@operation("ListTemplateShares", "GET", "/templates/shares/{TemplateArn}")
def list_template_shares(call: Call) -> dict[str, Any]:
    template = template_of(call)
    prefix = call.input.string("SharedWithPrefix", max_length=100) or ""
    status = call.input.string("Status", choices=SHARE_STATUSES)
    size = page_size(call, maximum=50)
    filters = {"prefix": prefix, "status": status}
    after = page_start(call, filters)
    shares = _template_shares(template)
    if status not in (None, "ACCEPTED"):
        shares = shares.none()
    if after is not None:
        shares = shares.filter(pk__gt=after)
    page = [m for m in shares if account_id(m.user_id).startswith(prefix)][: size + 1]
    result: dict[str, Any] = {
        "TemplateArn": template_arn(template),
        "TemplateShareSummaries": [_template_share_summary(m) for m in page[:size]],
    }
    if len(page) > size:
        result["NextToken"] = next_token(call, filters, page[size - 1].pk)
    return result


@operation(
    "DeleteTemplateShare", "DELETE", "/templates/shares/{TemplateArn}/{ShareId}", idempotent=True
)
def delete_template_share(call: Call) -> dict[str, Any]:
    template = template_of(call, owner=True)
    wanted = call.input.string("ShareId", required=True, pattern=r"[0-9a-f]{32}")
    call.input.string("ClientRequestToken", max_length=2048)
    call.input.check()
    for member in _template_shares(template).select_related("user"):
        if hmac.compare_digest(template_share_id(member.pk), wanted):
            services.template_unshare(template=template, user=member.user)
            return {}
    raise not_found(
        "This template has no share with that ShareId.",
        resource_id=wanted,
        resource_type="TEMPLATE_SHARE",
    )
