"""Writing a workload file (see reviews.portability for its shape)."""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from typing import Any

from lenses.services import lens_version_document
from reviews.models import (
    Answer,
    AnswerEvent,
    ChoiceAnswer,
    ImprovementEvent,
    ImprovementItem,
    LensReview,
    PillarNote,
    Workload,
)
from reviews.snapshots import one_state

FORMAT = "archlens-workload"
FORMAT_VERSION = 1


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _when(value: datetime.datetime | None) -> str | None:
    return value.astimezone(datetime.UTC).isoformat() if value else None


def _name(user) -> str | None:
    return user.get_username() if user is not None else None


def workload_export(*, workload: Workload) -> dict[str, Any]:
    """The workload as a document; one query per table, plus four per lens version used.

    All read in one state (`one_state`), so the answers, their choices, history and items
    belong together even while people keep answering.
    """
    with one_state():
        return _export(Workload.objects.get(pk=workload.pk))


def _export(workload: Workload) -> dict[str, Any]:
    reviews = list(
        LensReview.objects.filter(workload=workload)
        .select_related("lens", "lens_version")
        .order_by("lens__alias")
    )
    in_reviews = {"lens_review__workload": workload}
    pillar_notes = defaultdict(list)
    for note in (
        PillarNote.objects.filter(**in_reviews)
        .select_related("pillar")
        .order_by("pillar__order", "pk")
    ):
        pillar_notes[note.lens_review_id].append(note)
    answers = defaultdict(list)
    for answer in (
        Answer.objects.filter(**in_reviews)
        .select_related("question", "updated_by", "notes_updated_by")
        .order_by("question__pillar__order", "question__order", "pk")
    ):
        answers[answer.lens_review_id].append(answer)
    in_answers = {"answer__lens_review__workload": workload}
    choices = defaultdict(list)
    for row in (
        ChoiceAnswer.objects.filter(**in_answers)
        .select_related("choice")
        .order_by("choice__order", "pk")
    ):
        choices[row.answer_id].append(row)
    events = defaultdict(list)
    for event in (
        AnswerEvent.objects.filter(**in_answers).select_related("user").order_by("at", "pk")
    ):
        events[event.answer_id].append(event)
    items = {
        item.answer_id: item
        for item in ImprovementItem.objects.filter(**in_answers).select_related("assignee")
    }
    item_events = defaultdict(list)
    for event in (
        ImprovementEvent.objects.filter(item__answer__lens_review__workload=workload)
        .select_related("user")
        .order_by("at", "pk")
    ):
        item_events[event.item_id].append(event)

    def answer_data(answer: Answer) -> dict[str, Any]:
        item = items.get(answer.pk)
        return {
            "question": answer.question.question_id,
            "is_applicable": answer.is_applicable,
            "reason": answer.reason,
            "notes": answer.notes,
            "notes_version": answer.notes_version,
            "notes_updated_by": _name(answer.notes_updated_by),
            "risk": answer.risk,
            "version": answer.version,
            "updated_by": _name(answer.updated_by),
            "updated_at": _when(answer.updated_at),
            "choices": [
                {
                    "choice": row.choice.choice_id,
                    "status": row.status,
                    "reason": row.reason,
                    "notes": row.notes,
                }
                for row in choices[answer.pk]
            ],
            "events": [
                {"user": _name(event.user), "at": _when(event.at), "changes": event.changes}
                for event in events[answer.pk]
            ],
            "improvement": None if item is None else item_data(item),
        }

    def item_data(item: ImprovementItem) -> dict[str, Any]:
        return {
            "status": item.status,
            "assignee": _name(item.assignee),
            "due_date": item.due_date.isoformat() if item.due_date else None,
            "comment": item.comment,
            "is_open": item.is_open,
            "created_at": _when(item.created_at),
            "updated_at": _when(item.updated_at),
            "events": [
                {"user": _name(event.user), "at": _when(event.at), "text": event.text}
                for event in item_events[item.pk]
            ],
        }

    versions = {review.lens_version_id: review for review in reviews}.values()
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "lenses": [
            {
                "alias": review.lens.alias,
                "version": review.lens_version.version,
                "status": review.lens_version.status,
                "published_at": _when(review.lens_version.published_at),
                "document": lens_version_document(review.lens_version),
            }
            for review in sorted(versions, key=lambda r: (r.lens.alias, r.lens_version.version))
        ],
        "workload": {
            "public_id": workload.public_id,
            "name": workload.name,
            "description": workload.description,
            "environment": workload.environment,
            "regions": workload.regions,
            "review_owner": workload.review_owner,
            "architectural_design_url": workload.architectural_design_url,
            "industry_type": workload.industry_type,
            "industry": workload.industry,
            "pillar_priorities": workload.pillar_priorities,
            "notes": workload.notes,
            "tags": workload.tags,
            "created_at": _when(workload.created_at),
            "updated_at": _when(workload.updated_at),
        },
        "members": [
            {"username": m.user.get_username(), "email": m.user.email, "role": m.role}
            for m in workload.members.select_related("user").order_by("user__username")
        ],
        "team_shares": [
            {"team": share.team.name, "role": share.role}
            for share in workload.team_shares.select_related("team").order_by("team__name_key")
        ],
        "lens_reviews": [
            {
                "lens": review.lens.alias,
                "lens_version": review.lens_version.version,
                "is_active": review.is_active,
                "notes": review.notes,
                "notes_version": review.notes_version,
                "version": review.version,
                "created_at": _when(review.created_at),
                "updated_at": _when(review.updated_at),
                "pillar_notes": [
                    {
                        "pillar": note.pillar.pillar_id,
                        "notes": note.notes,
                        "notes_version": note.notes_version,
                    }
                    for note in pillar_notes[review.pk]
                ],
                "answers": [answer_data(answer) for answer in answers[review.pk]],
            }
            for review in reviews
        ],
        "milestones": [
            {
                "number": m.number,
                "name": m.name,
                "recorded_at": _when(m.recorded_at),
                "recorded_by": _name(m.recorded_by),
                "high_count": m.high_count,
                "medium_count": m.medium_count,
                "answered_count": m.answered_count,
                "question_count": m.question_count,
                "data": m.data,
            }
            for m in workload.milestones.select_related("recorded_by").order_by("number")
        ],
    }
