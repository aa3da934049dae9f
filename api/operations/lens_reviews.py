"""ListLensReviews, GetLensReview, UpdateLensReview, ListAnswers, GetAnswer, UpdateAnswer,
ListLensReviewImprovements.

Every read takes an optional MilestoneNumber: then it answers from the milestone's frozen copy
of the lens review (reviews.snapshots) instead of the review as it is now. What a milestone does
not freeze (a choice's description and resources) comes from the lens version it froze, while
that version exists.

Lists follow the review's question order: pillars in the workload's priority order, then lens
order, as the review pages do. A NextToken holds the last question sent and the pillar order
the listing began with, so a change of priorities between pages cannot make a page skip or
repeat a question. The improvement list keeps that order too (the browser's plan puts high risks
first, but risks change between pages and the list must not shift under a script).
GetLensReview returns every pillar at once (a lens has a few), so it never sets a NextToken; its
input has no member to send one back anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from django.db import transaction

from api.calls import Call, domain_errors
from api.errors import conflict, not_found, validation_error
from api.operations.common import (
    access_error,
    arn_of_lens,
    lens_alias_of,
    lens_review_for,
    workload_of,
)
from api.operations.milestones import milestone_of
from api.pagination import next_token, page_size, page_start
from api.routing import operation
from lenses.models import Choice, Lens, LensVersion, Question
from profiles.selectors import prioritised_in
from reviews import access, selectors, snapshots
from reviews.models import (
    NOTES_MAX,
    AnswerRisk,
    ChoiceAnswer,
    LensReview,
    Milestone,
    PillarNote,
    Reason,
    Workload,
)
from reviews.services import NotesConflict, answer_update, lens_review_notes_update
from reviews.services import pillar_notes_update as pillar_notes_save
from reviews.upgrades import upgrade_notices

QUESTION_PRIORITIES = ("PRIORITIZED", "NONE")
# The API's members for answer_update's fields.
ANSWER_FIELDS = {
    "selected_choices": "SelectedChoices",
    "choice_updates": "ChoiceUpdates",
    "notes": "Notes",
    "reason": "Reason",
}


# -- what a read is about: a lens review now, or frozen in a milestone ----------------------------


@dataclass
class Reviewed:
    """What a read is about: one lens review of a workload, as it is now or in a milestone."""

    workload: Workload
    lens: Lens | None  # None: a frozen lens deleted since
    alias: str
    version: LensVersion | None  # the lens content answered; None: a frozen version deleted since
    review: LensReview | None = None  # now
    milestone: Milestone | None = None  # or frozen
    frozen: dict[str, Any] | None = None  # the milestone's snapshot of this lens review


def reviewed(call: Call) -> Reviewed:
    """The lens review named by WorkloadId, LensAlias and MilestoneNumber, if readable."""
    if call.input.values.get("MilestoneNumber") is None:
        review = lens_review_for(call)
        return Reviewed(
            review.workload, review.lens, review.lens.alias, review.lens_version, review
        )
    workload = workload_of(call)
    given = call.input.string("LensAlias", required=True, min_length=1, max_length=2048)
    call.input.check()
    milestone = milestone_of(call, workload)
    alias = lens_alias_of(given)
    frozen = next(
        (s for s in milestone.data.get("lens_reviews", []) if s["lens"]["alias"] == alias), None
    )
    if frozen is None:
        raise not_found(
            f"This lens was not reviewed when milestone {milestone.number} was saved.",
            resource_id=given,
            resource_type="LENS",
        )
    lens = Lens.objects.filter(alias=alias).first()
    version = (
        LensVersion.objects.filter(lens=lens, version=frozen["lens"]["version"]).first()
        if lens is not None
        else None
    )
    return Reviewed(workload, lens, alias, version, milestone=milestone, frozen=frozen)


def _lens_members(subject: Reviewed) -> dict[str, Any]:
    """WorkloadId, MilestoneNumber, LensAlias and LensArn, as the answer operations return them."""
    members: dict[str, Any] = {"WorkloadId": subject.workload.public_id}
    if subject.milestone is not None:
        members["MilestoneNumber"] = subject.milestone.number
    return {**members, **lens_names(subject.lens, subject.alias)}


def lens_names(lens: Lens | None, alias: str) -> dict[str, str]:
    """LensAlias and LensArn as the AWS tool returns them: a custom lens's alias is its ARN."""
    if lens is None:
        return {"LensAlias": alias}
    arn = arn_of_lens(lens)
    return {"LensAlias": alias if lens.is_builtin else arn, "LensArn": arn}


def _risk_counts(counts: dict[str, int]) -> dict[str, int]:
    """A RiskCounts map from snapshot counts (lower-case keys)."""
    return {risk: counts.get(risk.lower(), 0) for risk in AnswerRisk.values}


# -- the review's question order ------------------------------------------------------------------


@dataclass
class Item:
    """One question of the review, in order: its content now, and its frozen state if any."""

    pillar_id: str
    pillar_name: str
    question: Question  # unsaved when a frozen version is gone: then only what was frozen
    frozen: dict[str, Any] | None = None


def _frozen_question(frozen: dict[str, Any]) -> Question:
    return Question(
        question_id=frozen["id"], title=frozen["title"], description=frozen["description"]
    )


def review_items(subject: Reviewed, pillar_order: list[str]) -> list[Item]:
    """Every question of the review, pillars in `pillar_order` first (one query)."""
    questions = (
        Question.objects.filter(lens_version=subject.version)
        .select_related("pillar")
        .order_by("pillar__order", "order")
        if subject.version is not None
        else []
    )
    if subject.frozen is None:
        items = [Item(q.pillar.pillar_id, q.pillar.name, q) for q in questions]
    else:
        current = {question.question_id: question for question in questions}
        items = [
            Item(
                pillar["id"],
                pillar["name"],
                current.get(question["id"]) or _frozen_question(question),
                question,
            )
            for pillar in subject.frozen["pillars"]
            for question in pillar["questions"]
        ]
    rank = selectors.priority_rank(pillar_order)
    return sorted(items, key=lambda item: rank(item.pillar_id))  # stable: lens order within


def _pillar_ids(subject: Reviewed) -> list[str]:
    if subject.frozen is not None:
        return [pillar["id"] for pillar in subject.frozen["pillars"]]
    return list(subject.version.pillars.values_list("pillar_id", flat=True))


def _filtered_page(
    call: Call,
    subject: Reviewed,
    filters: dict[str, Any],
    keep: Callable[[Item], bool],
    maximum: int,
) -> tuple[list[Item], str | None]:
    """One page of the review's questions that `keep` keeps, and the token of the next one."""
    size = page_size(call, maximum=maximum)
    # The lens version is part of the scope: after an upgrade, the questions are others.
    scope = {**filters, "version": subject.version.pk if subject.version else None}
    after = page_start(call, scope)
    order = after["order"] if after else list(subject.workload.pillar_priorities)
    items = review_items(subject, order)
    start = 0
    if after is not None:
        ids = [item.question.question_id for item in items]
        if after["last"] not in ids:
            raise validation_error("NextToken is not valid.", field="NextToken")
        start = ids.index(after["last"]) + 1
    kept = [item for item in items[start:] if keep(item)]
    page = kept[:size]
    if len(kept) <= size:
        return page, None
    return page, next_token(call, scope, {"order": order, "last": page[-1].question.question_id})


def _pillar_filter(call: Call, subject: Reviewed) -> str | None:
    pillar_id = call.input.string("PillarId", min_length=1, max_length=64)
    call.input.check()
    if pillar_id is not None and pillar_id not in _pillar_ids(subject):
        raise validation_error(f"This lens has no pillar {pillar_id!r}.", field="PillarId")
    return pillar_id


def _prioritized_only(call: Call) -> bool:
    """QuestionPriority PRIORITIZED: only the questions the workload's profile prioritises
    (profiles.selectors); NONE or nothing: every question."""
    priority = call.input.string("QuestionPriority", choices=QUESTION_PRIORITIES)
    call.input.check()
    return priority == "PRIORITIZED"


# -- answers --------------------------------------------------------------------------------------


@dataclass
class State:
    """An answer's state, now or frozen."""

    risk: str
    is_applicable: bool
    reason: str
    notes: str
    choices: dict[str, tuple[str, str, str]]  # choice id -> (status, reason, notes)

    @classmethod
    def of_frozen(cls, question: dict[str, Any]) -> State:
        return cls(
            question["risk"],
            question["is_applicable"],
            question["reason"],
            question["notes"],
            {c["id"]: (c["status"], c["reason"], c["notes"]) for c in question["choices"]},
        )

    @classmethod
    def of_answer(cls, answer: snapshots.AnswerState, choices: Sequence[ChoiceLike]) -> State:
        by_pk = {choice.pk: choice.choice_id for choice in choices}
        return cls(
            answer.risk,
            answer.is_applicable,
            answer.reason,
            answer.notes,
            {by_pk[pk]: row for pk, row in answer.choices.items() if pk in by_pk},
        )

    def status_of(self, choice_id: str) -> tuple[str, str, str]:
        return self.choices.get(choice_id, (ChoiceAnswer.Status.UNSELECTED, Reason.NONE, ""))


UNANSWERED = State(AnswerRisk.UNANSWERED, True, Reason.NONE, "", {})


@dataclass(frozen=True)
class ChoiceContent:
    """A choice as an answer shows it, read as plain values (a page holds hundreds of choices,
    and model instances cost several times more), or as a milestone froze it."""

    pk: int | None
    choice_id: str
    title: str
    is_none: bool
    description: str = ""
    helpful_resource_text: str = ""
    helpful_resource_url: str = ""
    improvement_plan_text: str = ""
    improvement_plan_url: str = ""
    additional_resources: list[Any] = field(default_factory=list)


CHOICE_FIELDS = [f.name for f in fields(ChoiceContent)]
# A choice row of the lens (UpdateAnswer has them from the service) or its content.
ChoiceLike = Choice | ChoiceContent


def _frozen_choice(choice: dict[str, Any]) -> ChoiceContent:
    plan = choice.get("improvement_plan") or {}
    return ChoiceContent(
        pk=None,
        choice_id=choice["id"],
        title=choice["title"],
        is_none=choice["is_none"],
        improvement_plan_text=plan.get("text", ""),
        improvement_plan_url=plan.get("url", ""),
    )


def _choices_of(items: list[Item]) -> dict[str, list[ChoiceContent]]:
    """Per question id: its choices in order (one query, none when every version is gone)."""
    saved = [item.question.pk for item in items if item.question.pk is not None]
    choices: dict[int, list[ChoiceContent]] = {}
    if saved:
        rows = (
            Choice.objects.filter(question__in=saved)
            .order_by("question", "order")
            .values("question_id", *CHOICE_FIELDS)
        )
        for row in rows:
            choices.setdefault(row.pop("question_id"), []).append(ChoiceContent(**row))
    return {
        item.question.question_id: choices.get(item.question.pk, [])
        if item.question.pk is not None
        else [_frozen_choice(c) for c in item.frozen["choices"]]
        for item in items
    }


def _states_of(
    subject: Reviewed, items: list[Item], choices: dict[str, list[ChoiceContent]]
) -> dict[str, State]:
    """Per question id: its answer's state (one query now, none when frozen)."""
    if subject.frozen is not None:
        return {item.question.question_id: State.of_frozen(item.frozen) for item in items}
    answers = snapshots.answer_states(subject.review, [item.question.pk for item in items])
    return {
        item.question.question_id: State.of_answer(answer, choices[item.question.question_id])
        if (answer := answers.get(item.question.pk))
        else UNANSWERED
        for item in items
    }


def _content(text: str, url: str) -> dict[str, str] | None:
    content = {}
    if text:
        content["DisplayText"] = text
    if url:
        content["Url"] = url
    return content or None


def choice_shape(choice: ChoiceLike) -> dict[str, Any]:
    shape: dict[str, Any] = {"ChoiceId": choice.choice_id, "Title": choice.title}
    if choice.description:
        shape["Description"] = choice.description
    if helpful := _content(choice.helpful_resource_text, choice.helpful_resource_url):
        shape["HelpfulResource"] = helpful
    if plan := _content(choice.improvement_plan_text, choice.improvement_plan_url):
        shape["ImprovementPlan"] = plan
    resources = [
        {
            "Type": resource.get("type"),
            "Content": [
                content
                for entry in resource.get("content", [])
                if (content := _content(entry.get("displayText", ""), entry.get("url", "")))
            ],
        }
        for resource in choice.additional_resources or []
        if isinstance(resource, dict)
    ]
    if resources:
        shape["AdditionalResources"] = resources
    return shape


def _missing(choices: Sequence[ChoiceLike], state: State) -> list[ChoiceLike]:
    """The best practices neither followed nor ruled out (as snapshots.missing_practices)."""
    return [
        choice
        for choice in choices
        if not choice.is_none
        and state.status_of(choice.choice_id)[0] == ChoiceAnswer.Status.UNSELECTED
    ]


def summary_shape(
    item: Item, choices: Sequence[ChoiceLike], state: State, prioritised: bool = False
) -> dict[str, Any]:
    """An AnswerSummary; `prioritised`: the workload's profile prioritises its question."""
    return {
        "QuestionId": item.question.question_id,
        "PillarId": item.pillar_id,
        "QuestionTitle": item.question.title,
        "Choices": [choice_shape(choice) for choice in choices],
        "SelectedChoices": [
            choice.choice_id
            for choice in choices
            if state.status_of(choice.choice_id)[0] == ChoiceAnswer.Status.SELECTED
        ],
        "ChoiceAnswerSummaries": [
            {
                "ChoiceId": choice.choice_id,
                "Status": state.status_of(choice.choice_id)[0],
                "Reason": state.status_of(choice.choice_id)[1],
            }
            for choice in choices
        ],
        "IsApplicable": state.is_applicable,
        "Risk": state.risk,
        "Reason": state.reason,
        "QuestionType": "PRIORITIZED" if prioritised else "NON_PRIORITIZED",
    }


def answer_shape(item: Item, choices: Sequence[ChoiceLike], state: State) -> dict[str, Any]:
    """An Answer: the summary, the question's texts and resources, notes and choice answers."""
    question = item.question
    shape = summary_shape(item, choices, state)
    del shape["ChoiceAnswerSummaries"], shape["QuestionType"]
    if question.description:
        shape["QuestionDescription"] = question.description
    if question.helpful_resource_url:
        shape["HelpfulResourceUrl"] = question.helpful_resource_url
    if question.helpful_resource_text:
        shape["HelpfulResourceDisplayText"] = question.helpful_resource_text
    plan = next(
        (c.improvement_plan_url for c in _missing(choices, state) if c.improvement_plan_url), ""
    )
    if plan:
        shape["ImprovementPlanUrl"] = plan
    shape["Notes"] = state.notes
    shape["ChoiceAnswers"] = [
        {
            "ChoiceId": choice.choice_id,
            "Status": state.status_of(choice.choice_id)[0],
            "Reason": state.status_of(choice.choice_id)[1],
            "Notes": state.status_of(choice.choice_id)[2],
        }
        for choice in choices
    ]
    return shape


ANSWERS = "/workloads/{WorkloadId}/lensReviews/{LensAlias}/answers"


@operation("ListAnswers", "GET", ANSWERS)
def list_answers(call: Call) -> dict[str, Any]:
    subject = reviewed(call)
    pillar_id = _pillar_filter(call, subject)
    prioritized = _prioritized_only(call)
    prioritised = prioritised_in(subject.workload, subject.alias)
    filters = {
        "workload": subject.workload.public_id,
        "lens": subject.alias,
        "milestone": subject.milestone.number if subject.milestone else None,
        "pillar": pillar_id,
        "prioritized": prioritized,
    }
    page, token = _filtered_page(
        call,
        subject,
        filters,
        lambda item: (
            (not prioritized or item.question.question_id in prioritised)
            and pillar_id in (None, item.pillar_id)
        ),
        maximum=50,
    )
    choices = _choices_of(page)
    states = _states_of(subject, page, choices)
    result = {
        **_lens_members(subject),
        "AnswerSummaries": [
            summary_shape(
                item,
                choices[item.question.question_id],
                states[item.question.question_id],
                item.question.question_id in prioritised,
            )
            for item in page
        ],
    }
    if token:
        result["NextToken"] = token
    return result


def _question_id(call: Call) -> str:
    question_id = call.input.string("QuestionId", required=True, min_length=1, max_length=128)
    call.input.check()
    return question_id


@operation("GetAnswer", "GET", ANSWERS + "/{QuestionId}")
def get_answer(call: Call) -> dict[str, Any]:
    subject = reviewed(call)
    question_id = _question_id(call)
    item = next(
        (
            item
            for item in review_items(subject, subject.workload.pillar_priorities)
            if item.question.question_id == question_id
        ),
        None,
    )
    if item is None:
        raise not_found(
            "No such question in this review.", resource_id=question_id, resource_type="QUESTION"
        )
    choices = _choices_of([item])
    state = _states_of(subject, [item], choices)[question_id]
    return {**_lens_members(subject), "Answer": answer_shape(item, choices[question_id], state)}


@operation("UpdateAnswer", "PATCH", ANSWERS + "/{QuestionId}")
def update_answer(call: Call) -> dict[str, Any]:
    public_id = call.input.string("WorkloadId", required=True, pattern=r"[0-9a-f]{32}")
    given_alias = call.input.string("LensAlias", required=True, min_length=1, max_length=2048)
    question_id = _question_id(call)
    try:
        answer = access.answer_for(
            call.user, public_id, lens_alias_of(given_alias), question_id, write=True
        )
    except access.AccessError as error:
        raise access_error(
            error, {"WORKLOAD": public_id, "LENS": given_alias, "QUESTION": question_id}
        ) from None
    given = call.input
    selected = given.strings("SelectedChoices", min_length=1, max_length=64)
    updates = given.mapping("ChoiceUpdates")
    notes = given.string("Notes", max_length=NOTES_MAX)
    is_applicable = given.boolean("IsApplicable")
    reason = given.string("Reason", choices=Reason.values)
    given.check()
    choice_updates = None
    if updates is not None:
        choice_updates = {
            choice_id: {
                "status": update.get("Status"),
                "reason": update.get("Reason"),
                "notes": update.get("Notes"),
            }
            if isinstance(update, dict)
            else update
            for choice_id, update in updates.items()
        }
    with domain_errors(fields=ANSWER_FIELDS, resource_type="QUESTION", resource_id=question_id):
        answer, choices = answer_update(
            answer=answer,
            user=call.user,
            selected_choices=selected,
            choice_updates=choice_updates,
            notes=notes,
            is_applicable=is_applicable,
            reason=reason,
        )
    review = answer.lens_review
    subject = Reviewed(review.workload, review.lens, review.lens.alias, review.lens_version, review)
    question = answer.question
    item = Item(question.pillar.pillar_id, question.pillar.name, question)
    state = State(
        answer.risk,
        answer.is_applicable,
        answer.reason,
        answer.notes,
        {
            choice.choice_id: (
                choice.status or ChoiceAnswer.Status.UNSELECTED,
                choice.reason or Reason.NONE,
                choice.choice_notes or "",
            )
            for choice in choices
        },
    )
    return {**_lens_members(subject), "Answer": answer_shape(item, choices, state)}


# -- lens reviews ---------------------------------------------------------------------------------


def _statuses(pairs: list[tuple[Lens | None, LensVersion | None]]) -> list[str]:
    """The LensStatus of each (lens, version) reviewed: one query for them all."""
    carriers = [
        LensReview(pk=index + 1, lens=lens, lens_version=version)
        for index, (lens, version) in enumerate(pairs)
        if lens is not None and version is not None
    ]
    newer = upgrade_notices(carriers)
    statuses = []
    carried = iter(carriers)
    for lens, version in pairs:
        if lens is None or version is None:
            statuses.append("DELETED")
            continue
        carrier = next(carried)
        if version.status == LensVersion.Status.DEPRECATED:
            statuses.append("DEPRECATED")
        elif carrier.pk in newer:
            statuses.append("NOT_CURRENT")
        else:
            statuses.append("CURRENT")
    return statuses


def _lens_heading(lens: Lens | None, alias: str, frozen_lens: dict[str, str], status: str):
    """LensAlias, LensArn, LensVersion, LensName and LensStatus of a lens review."""
    return {
        **lens_names(lens, alias),
        "LensVersion": frozen_lens["version"],
        "LensName": frozen_lens["name"],
        "LensStatus": status,
    }


def _live_snapshot_head(review: LensReview) -> dict[str, str]:
    return {"version": review.lens_version.version, "name": review.lens_version.name}


def lens_review_shape(subject: Reviewed) -> dict[str, Any]:
    """A LensReview with its pillars in the review's order (a fixed number of queries)."""
    [status] = _statuses([(subject.lens, subject.version)])
    if subject.frozen is not None:
        frozen = subject.frozen
        head, notes, updated = frozen["lens"], frozen["notes"], subject.milestone.recorded_at
        pillars = [
            (p["id"], p["name"], p["notes"], _risk_counts(p["counts"])) for p in frozen["pillars"]
        ]
        totals = _risk_counts(frozen["counts"])
    else:
        review = subject.review
        head, notes, updated = _live_snapshot_head(review), review.notes, review.updated_at
        counts = selectors.risk_counts_by_pillar(review)
        pillar_notes = dict(
            PillarNote.objects.filter(lens_review=review).values_list("pillar_id", "notes")
        )
        pillars = [
            (p.pillar_id, p.name, pillar_notes.get(p.pk, ""), _risk_counts(counts.get(p.pk, {})))
            for p in review.lens_version.pillars.order_by("order")
        ]
        totals = _risk_counts(snapshots.total_counts(counts.values()))
    rank = selectors.priority_rank(subject.workload.pillar_priorities)
    pillars.sort(key=lambda pillar: rank(pillar[0]))
    return {
        **_lens_heading(subject.lens, subject.alias, head, status),
        "PillarReviewSummaries": [
            {
                "PillarId": pillar_id,
                "PillarName": name,
                "Notes": pillar_notes_text,
                "RiskCounts": counts,
                "PrioritizedRiskCounts": {},
            }
            for pillar_id, name, pillar_notes_text, counts in pillars
        ],
        "UpdatedAt": updated,
        "Notes": notes,
        "RiskCounts": totals,
        "Profiles": [],
        "PrioritizedRiskCounts": {},
    }


REVIEWS = "/workloads/{WorkloadId}/lensReviews"


@operation("GetLensReview", "GET", REVIEWS + "/{LensAlias}")
def get_lens_review(call: Call) -> dict[str, Any]:
    subject = reviewed(call)
    result: dict[str, Any] = {"WorkloadId": subject.workload.public_id}
    if subject.milestone is not None:
        result["MilestoneNumber"] = subject.milestone.number
    result["LensReview"] = lens_review_shape(subject)
    return result


@operation("UpdateLensReview", "PATCH", REVIEWS + "/{LensAlias}")
def update_lens_review(call: Call) -> dict[str, Any]:
    review = lens_review_for(call, write=True)
    lens_notes = call.input.string("LensNotes", max_length=NOTES_MAX)
    pillar_notes = call.input.mapping("PillarNotes")
    jira = call.input.mapping("JiraConfiguration")
    call.input.check()
    if (jira or {}).get("SelectedPillars"):
        raise validation_error(
            "JiraConfiguration: Archlens has no Jira integration.", field="JiraConfiguration"
        )
    pillars = {p.pillar_id: p for p in review.lens_version.pillars.all()}
    for pillar_id, text in (pillar_notes or {}).items():
        if pillar_id not in pillars:
            raise validation_error(f"This lens has no pillar {pillar_id!r}.", field="PillarNotes")
        if not isinstance(text, str) or len(text) > NOTES_MAX:
            raise validation_error(
                f"PillarNotes: the notes of {pillar_id!r} are text of at most {NOTES_MAX} "
                "characters.",
                field="PillarNotes",
            )
    # The AWS tool's notes carry no version: the last writer wins. Saving on top of the version
    # read here still moves it, so an editor in the browser holding older notes sees a conflict.
    try:
        with transaction.atomic(), domain_errors(fields={"notes": "LensNotes"}):
            if lens_notes is not None:
                lens_review_notes_update(
                    lens_review=review,
                    notes=lens_notes,
                    base_version=review.notes_version,
                    user=call.user,
                )
            versions = dict(
                PillarNote.objects.filter(lens_review=review).values_list(
                    "pillar_id", "notes_version"
                )
            )
            for pillar_id, text in (pillar_notes or {}).items():
                pk = pillars[pillar_id].pk
                pillar_notes_save(
                    lens_review=review,
                    pillar_pk=pk,
                    notes=text,
                    base_version=versions.get(pk, 0),
                    user=call.user,
                )
    except NotesConflict:
        raise conflict(
            "Someone saved these notes at the same moment; send them again.",
            resource_id=review.lens.alias,
            resource_type="LENS_REVIEW",
        ) from None
    review.refresh_from_db(fields=["notes", "notes_version", "updated_at"])
    subject = Reviewed(review.workload, review.lens, review.lens.alias, review.lens_version, review)
    return {"WorkloadId": review.workload.public_id, "LensReview": lens_review_shape(subject)}


@operation("ListLensReviews", "GET", REVIEWS)
def list_lens_reviews(call: Call) -> dict[str, Any]:
    workload = workload_of(call)
    milestone = milestone_of(call, workload)
    size = page_size(call, maximum=50)
    filters = {"workload": workload.public_id, "milestone": milestone.number if milestone else None}
    after = page_start(call, filters)
    if milestone is None:
        reviews = list(
            LensReview.objects.filter(workload=workload, is_active=True).select_related(
                "lens", "lens_version"
            )
        )
        counts = selectors.risk_counts_of_reviews([review.pk for review in reviews])
        entries = [
            (
                review.lens.alias,
                review.lens,
                review.lens_version,
                _live_snapshot_head(review),
                review.updated_at,
                {risk: counts.get(review.pk, {}).get(risk, 0) for risk in AnswerRisk.values},
            )
            for review in reviews
        ]
    else:
        frozen = milestone.data.get("lens_reviews", [])
        aliases = [snapshot["lens"]["alias"] for snapshot in frozen]
        lenses = {lens.alias: lens for lens in Lens.objects.filter(alias__in=aliases)}
        versions = {
            (version.lens_id, version.version): version
            for version in LensVersion.objects.filter(lens__in=lenses.values())
        }
        entries = []
        for snapshot in frozen:
            lens = lenses.get(snapshot["lens"]["alias"])
            version = versions.get((lens.pk, snapshot["lens"]["version"])) if lens else None
            entries.append(
                (
                    snapshot["lens"]["alias"],
                    lens,
                    version,
                    snapshot["lens"],
                    milestone.recorded_at,
                    _risk_counts(snapshot["counts"]),
                )
            )
    start = 0
    if after is not None:
        aliases = [entry[0] for entry in entries]
        if after not in aliases:
            raise validation_error(
                "NextToken names a lens review that is gone; start again.", field="NextToken"
            )
        start = aliases.index(after) + 1
    page = entries[start : start + size]
    statuses = _statuses([(lens, version) for _, lens, version, *_ in page])
    result: dict[str, Any] = {"WorkloadId": workload.public_id}
    if milestone is not None:
        result["MilestoneNumber"] = milestone.number
    result["LensReviewSummaries"] = [
        {
            **_lens_heading(lens, alias, head, status),
            "UpdatedAt": updated,
            "RiskCounts": counts,
            "Profiles": [],
            "PrioritizedRiskCounts": {},
        }
        for (alias, lens, _, head, updated, counts), status in zip(page, statuses, strict=True)
    ]
    if start + size < len(entries):
        result["NextToken"] = next_token(call, filters, page[-1][0])
    return result


# -- improvements ---------------------------------------------------------------------------------


@operation("ListLensReviewImprovements", "GET", REVIEWS + "/{LensAlias}/improvements")
def list_lens_review_improvements(call: Call) -> dict[str, Any]:
    subject = reviewed(call)
    pillar_id = _pillar_filter(call, subject)
    prioritized = _prioritized_only(call)
    if subject.frozen is None:
        [snapshot] = snapshots.snapshots_of([subject.review])
    else:
        snapshot = subject.frozen
    frozen = {q["id"]: q for p in snapshot["pillars"] for q in p["questions"]}
    filters = {
        "workload": subject.workload.public_id,
        "lens": subject.alias,
        "milestone": subject.milestone.number if subject.milestone else None,
        "pillar": pillar_id,
        "prioritized": prioritized,
    }

    prioritised = prioritised_in(subject.workload, subject.alias) if prioritized else set()

    def risky(item: Item) -> bool:
        question = frozen.get(item.question.question_id)
        return (
            (not prioritized or item.question.question_id in prioritised)
            and pillar_id in (None, item.pillar_id)
            and question is not None
            and question["risk"] in (AnswerRisk.HIGH, AnswerRisk.MEDIUM)
        )

    page, token = _filtered_page(call, subject, filters, risky, maximum=100)
    summaries = []
    for item in page:
        question = frozen[item.question.question_id]
        plans = [
            {
                "ChoiceId": choice["id"],
                "DisplayText": choice["improvement_plan"]["text"] or choice["title"],
                "ImprovementPlanUrl": choice["improvement_plan"]["url"],
            }
            for choice in snapshots.missing_practices(question)
            if choice["improvement_plan"]["url"]
        ]
        summary: dict[str, Any] = {
            "QuestionId": question["id"],
            "PillarId": item.pillar_id,
            "QuestionTitle": question["title"],
            "Risk": question["risk"],
        }
        if plans:
            summary["ImprovementPlanUrl"] = plans[0]["ImprovementPlanUrl"]
        summary["ImprovementPlans"] = plans
        summaries.append(summary)
    result = {**_lens_members(subject), "ImprovementSummaries": summaries}
    if token:
        result["NextToken"] = token
    return result
