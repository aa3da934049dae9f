"""The question page (the workshop screen) and the small requests that answer it."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from reviews.models import Answer, ChoiceAnswer, Reason, Role
from reviews.selectors import review_outline
from reviews.services import (
    NotesConflict,
    ReviewError,
    answer_applicability_update,
    answer_choice_update,
    answer_notes_update,
    choices_with_status,
)
from reviews.upgrades import upgrade_notices
from reviews.views.access import get_answer_for_user
from reviews.views.notes import notes_response, parse_notes, wants_theirs


def poll_token(answer: Answer) -> str:
    """Changes whenever anything the question page keeps up to date by polling can change.

    The live region, the sidebar and the history swapped in with it show:
    - this answer's choices, applicability, risk, notes and history: each change of them is one
      save of the answer, which bumps `answer.version`;
    - every question's risk, and each pillar's answered, high and medium counts: all follow
      from the answers' risks, and the review's `risk_version` moves whenever one changes;
    - whether the controls work: the user's role, which the owner may change meanwhile.
    Everything else (titles, choices, pillars) belongs to the published lens version.
    Other changes in the review, such as a tick that leaves a question's risk alone, leave it.
    """
    writes = answer.lens_review.workload.role != Role.READONLY
    return f"{answer.version}.{answer.lens_review.risk_version}{'' if writes else '.r'}"


def _question_context(answer: Answer, choices=None) -> dict:
    review = answer.lens_review
    pillars = review_outline(review)
    flat = [(pillar, q) for pillar in pillars for q in pillar.question_list]
    index = next(i for i, (_, q) in enumerate(flat) if q.pk == answer.question_id)
    pillar = flat[index][0]
    pillar_index = pillars.index(pillar)
    return {
        "answer": answer,
        "question": answer.question,
        "review": review,
        "workload": review.workload,
        "pillars": pillars,
        "pillar": pillar,
        "choices": choices if choices is not None else choices_with_status(answer),
        "events": list(answer.events.select_related("user")[:20]),
        "previous_question": flat[index - 1][1] if index > 0 else None,
        "next_question": flat[index + 1][1] if index + 1 < len(flat) else None,
        "previous_pillar": pillars[pillar_index - 1] if pillar_index > 0 else None,
        "next_pillar": pillars[pillar_index + 1] if pillar_index + 1 < len(pillars) else None,
        "can_write": review.workload.role != Role.READONLY,
        "poll_token": poll_token(answer),
        "reasons": Reason.choices,
        "Status": ChoiceAnswer.Status,
        "notes_editor": {
            "action": reverse(
                "reviews:question_notes",
                args=[review.workload.public_id, review.lens.alias, answer.question.question_id],
            ),
            "key": f"notes-{answer.pk}",
            "notes": answer.notes,
            "version": answer.notes_version,
        },
    }


def _question_url(answer: Answer) -> str:
    review = answer.lens_review
    return reverse(
        "reviews:question",
        args=[review.workload.public_id, review.lens.alias, answer.question.question_id],
    )


def _save(request: HttpRequest, answer: Answer, change: Callable[[], tuple]) -> HttpResponse:
    """Make `change` (a service call giving the answer and its choices, or None for them) and
    answer with its result: htmx gets the page's live region, a plain form post goes back to
    the page.

    What the live region shows is read inside the change's transaction, before the commit.
    Read after it, a connection dropped at that moment showed a failure for a change that was
    stored. Once committed, nothing is left to read and the response cannot fail that way.
    The review's risk version (for the poll token) is read first, then what the page shows: a
    change that moved it holds the review's row lock (see `_record`), so no other risk change
    commits in between; otherwise the token can only be older than what is shown, which costs
    one more poll, never a missed change.
    """
    try:
        if not request.htmx:
            answer, _ = change()
            return redirect(_question_url(answer))
        with transaction.atomic():
            answer, choices = change()
            answer.lens_review.refresh_from_db(fields=["risk_version"])
            context = _question_context(answer, choices)
    except ReviewError as problem:
        return _fail(request, answer, problem)
    return render(request, "reviews/question.html#live", context)


@require_GET
@login_required
def question_detail(
    request: HttpRequest, public_id: str, alias: str, question_id: str
) -> HttpResponse:
    answer = get_answer_for_user(request, public_id, alias, question_id)
    context = _question_context(answer)
    if context["can_write"]:
        review = answer.lens_review
        context["upgrade_notice"] = upgrade_notices([review]).get(review.pk)
    return render(request, "reviews/question.html", context)


@require_GET
@login_required
def question_poll(
    request: HttpRequest, public_id: str, alias: str, question_id: str
) -> HttpResponse:
    """204 while what the page shows is still at `v` (see `poll_token`); else the live region."""
    answer = get_answer_for_user(request, public_id, alias, question_id)
    if request.GET.get("v") == poll_token(answer):
        return HttpResponse(status=204)
    return render(request, "reviews/question.html#poll", _question_context(answer))


def _fail(request: HttpRequest, answer: Answer, problem: ReviewError) -> HttpResponse:
    if not request.htmx:
        messages.error(request, str(problem))
        return redirect(_question_url(answer))
    context = _question_context(answer)
    context["error"] = str(problem)
    return render(request, "reviews/question.html#live", context)


@require_POST
@login_required
def choice_update(
    request: HttpRequest, public_id: str, alias: str, question_id: str, choice_id: str
) -> HttpResponse:
    """One choice of one question: ticked (`status=SELECTED`), unticked, or not applicable."""
    answer = get_answer_for_user(request, public_id, alias, question_id, write=True)
    return _save(
        request,
        answer,
        lambda: answer_choice_update(
            answer=answer,
            choice_id=choice_id,
            status=request.POST.get("status") or ChoiceAnswer.Status.UNSELECTED,
            reason=request.POST.get("reason") or Reason.NONE,
            notes=request.POST.get("notes", ""),
            user=request.user,
        ),
    )


@require_POST
@login_required
def applicability_update(
    request: HttpRequest, public_id: str, alias: str, question_id: str
) -> HttpResponse:
    answer = get_answer_for_user(request, public_id, alias, question_id, write=True)
    return _save(
        request,
        answer,
        lambda: (
            answer_applicability_update(
                answer=answer,
                is_applicable=request.POST.get("applicable") != "no",
                reason=request.POST.get("reason") or Reason.NONE,
                user=request.user,
            ),
            None,
        ),
    )


@require_POST
@login_required
def notes_update(
    request: HttpRequest, public_id: str, alias: str, question_id: str
) -> HttpResponse:
    answer = get_answer_for_user(request, public_id, alias, question_id, write=True)
    if wants_theirs(request):
        return notes_response(
            request,
            None,
            key=f"notes-{answer.pk}",
            label="Question notes",
            mine=answer.notes,
            version=answer.notes_version,
            replace=True,
        )
    notes, base_version = parse_notes(request)
    try:
        answer = answer_notes_update(
            answer=answer, notes=notes, base_version=base_version, user=request.user
        )
    except (NotesConflict, ReviewError) as problem:
        return notes_response(
            request, problem, key=f"notes-{answer.pk}", label="Question notes", mine=notes
        )
    return notes_response(
        request,
        None,
        key=f"notes-{answer.pk}",
        label="Question notes",
        mine=notes,
        version=answer.notes_version,
    )
