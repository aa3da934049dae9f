"""The lens review overview, pillar pages and lens/pillar notes."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from profiles.selectors import counts_apart
from reviews.models import LensReview, PillarNote
from reviews.score_selectors import lens_score, pillar_score, review_practices
from reviews.selectors import first_unanswered, review_outline
from reviews.services import (
    NotesConflict,
    ReviewError,
    lens_review_notes_update,
    pillar_notes_update,
)
from reviews.snapshots import total_counts
from reviews.upgrades import upgrade_notices
from reviews.views.access import get_lens_review_for_user
from reviews.views.notes import notes_response, parse_notes, wants_theirs


def _overview_context(
    review: LensReview, pillar_id: str | None, *, prioritised_only: bool = False
) -> dict:
    pillars = review_outline(review)
    practices = review_practices([review]).get(review.pk, {})
    for pillar in pillars:
        pillar.score = pillar_score(practices, pillar.pillar_id)
    base = [review.workload.public_id, review.lens.alias]
    context = {
        "review": review,
        "workload": review.workload,
        "pillars": pillars,
        "totals": total_counts(p.counts for p in pillars),
        "score": lens_score(practices),
        "can_write": review.workload.role != "READONLY",
        "continue_question": first_unanswered(pillars),
        "prioritised_totals": counts_apart(
            [q for p in pillars for q in p.question_list], review.prioritised
        ),
        # ?prioritised=1: list only the questions the workload's profile prioritises
        "prioritised_only": prioritised_only and bool(review.prioritised),
    }
    if pillar_id is not None:
        pillar = next((p for p in pillars if p.pillar_id == pillar_id), None)
        if pillar is None:
            raise Http404("No such pillar in this lens.")
        index = pillars.index(pillar)
        note = PillarNote.objects.filter(lens_review=review, pillar=pillar).first()
        note = note or PillarNote(lens_review=review, pillar=pillar)
        context.update(
            pillar=pillar,
            shown_pillars=[pillar],
            # The pillar page counts its own questions, not the lens's.
            totals=total_counts([pillar.counts]),
            score=pillar.score,
            prioritised_totals=counts_apart(pillar.question_list, review.prioritised),
            # Where this pillar's work goes on; once it is done, the rest of the review.
            continue_question=first_unanswered([pillar]) or context["continue_question"],
            notes_editor={
                "action": reverse("reviews:pillar_notes", args=[*base, pillar.pillar_id]),
                "key": f"pillar-notes-{pillar.pk}",
                "notes": note.notes,
                "version": note.notes_version,
            },
            previous_pillar=pillars[index - 1] if index > 0 else None,
            next_pillar=pillars[index + 1] if index + 1 < len(pillars) else None,
        )
    else:
        context["shown_pillars"] = pillars
        context["notes_editor"] = {
            "action": reverse("reviews:lens_notes", args=base),
            "key": f"lens-notes-{review.pk}",
            "notes": review.notes,
            "version": review.notes_version,
        }
    return context


@require_GET
@login_required
def overview(request: HttpRequest, public_id: str, alias: str) -> HttpResponse:
    review = get_lens_review_for_user(request, public_id, alias)
    return render(request, "reviews/overview.html", _with_upgrade_notice(request, review, None))


def _prioritised_only(request: HttpRequest) -> bool:
    return request.GET.get("prioritised") == "1"


def _with_upgrade_notice(request: HttpRequest, review: LensReview, pillar_id: str | None) -> dict:
    """The page's context with a newer version of the lens, for those who may upgrade (full
    pages only: polls do without it)."""
    context = _overview_context(review, pillar_id, prioritised_only=_prioritised_only(request))
    if context["can_write"]:
        context["upgrade_notice"] = upgrade_notices([review]).get(review.pk)
    return context


@require_GET
@login_required
def pillar_detail(request: HttpRequest, public_id: str, alias: str, pillar_id: str) -> HttpResponse:
    review = get_lens_review_for_user(request, public_id, alias)
    return render(
        request, "reviews/overview.html", _with_upgrade_notice(request, review, pillar_id)
    )


@require_GET
@login_required
def overview_poll(request: HttpRequest, public_id: str, alias: str) -> HttpResponse:
    """204 while nothing changed since version `v`; otherwise the page's live region."""
    review = get_lens_review_for_user(request, public_id, alias)
    if request.GET.get("v") == str(review.version):
        return HttpResponse(status=204)
    context = _overview_context(
        review, request.GET.get("pillar") or None, prioritised_only=_prioritised_only(request)
    )
    return render(request, "reviews/overview.html#poll", context)


@require_POST
@login_required
def lens_notes(request: HttpRequest, public_id: str, alias: str) -> HttpResponse:
    review = get_lens_review_for_user(request, public_id, alias, write=True)
    key = f"lens-notes-{review.pk}"
    if wants_theirs(request):
        return notes_response(
            request, None, key=key, mine=review.notes, version=review.notes_version, replace=True
        )
    notes, base_version = parse_notes(request)
    try:
        review = lens_review_notes_update(
            lens_review=review, notes=notes, base_version=base_version, user=request.user
        )
    except (NotesConflict, ReviewError) as exc:
        return notes_response(request, exc, key=key, mine=notes)
    return notes_response(request, None, key=key, mine=notes, version=review.notes_version)


@require_POST
@login_required
def pillar_notes(request: HttpRequest, public_id: str, alias: str, pillar_id: str) -> HttpResponse:
    review = get_lens_review_for_user(request, public_id, alias, write=True)
    pillar = review.lens_version.pillars.filter(pillar_id=pillar_id).first()
    if pillar is None:
        raise Http404("No such pillar in this lens.")
    key = f"pillar-notes-{pillar.pk}"
    if wants_theirs(request):
        stored = (
            PillarNote.objects.filter(lens_review=review, pillar=pillar).first() or PillarNote()
        )
        return notes_response(
            request, None, key=key, mine=stored.notes, version=stored.notes_version, replace=True
        )
    notes, base_version = parse_notes(request)
    try:
        note = pillar_notes_update(
            lens_review=review,
            pillar_pk=pillar.pk,
            notes=notes,
            base_version=base_version,
            user=request.user,
        )
    except (NotesConflict, ReviewError) as exc:
        return notes_response(request, exc, key=key, mine=notes)
    return notes_response(request, None, key=key, mine=notes, version=note.notes_version)
