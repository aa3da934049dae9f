"""The question page (the workshop screen) and the small requests that answer it.

In a workshop most requests are ticks and polls of the question everyone looks at, so each
answer sends only what changed, out of band (question.html#update): the choices a tick changed
and its one history entry; the risk line, the question's sidebar entry and the pillar counts
only when a risk moved. The whole live region is sent only to a page that was behind, and that
render is cached and shared by everyone at the same state (see poll_token). A tick asking for
what is already stored is answered at once with 204.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from lenses.version_cache import LensVersionData, version_data
from profiles.selectors import prioritised_in
from reviews.access import AnswerVersions, answer_versions_for
from reviews.models import Answer as AnswerModel
from reviews.models import AnswerRisk, ChoiceAnswer, LensReview, Reason, Role
from reviews.selectors import answer_history, in_priority_order, review_risks
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

TEMPLATE = "reviews/question.html"
CACHE_SECONDS = 60 * 60
# How many versions behind a page may be and still be sent only the choices that moved and
# the history entries it lacks; further behind, the whole region is the smaller answer.
CATCH_UP = 20


def poll_token(answer: AnswerModel) -> str:
    """Changes whenever anything the question page keeps up to date by polling can change.

    The page shows:
    - this answer's choices, applicability, risk, notes and history: each change of them is one
      save of the answer, which bumps `answer.version`;
    - every question's risk, and each pillar's answered, high and medium counts: all follow
      from the answers' risks, and the review's `risk_version` moves whenever one changes;
    - whether the controls work: the user's role, which the owner may change meanwhile.
    Everything else (titles, choices, pillars) belongs to the published lens version.
    Other changes in the review, such as a tick that leaves a question's risk alone, leave it.

    The same facts key the caches, so a cached fragment is what anyone at that state would see
    (each key starts with the review's pk and creation time, see _review_key):
    - the answer part (live region, history, notes editor): answer pk, question pk (an upgrade
      points an answer at another question), `answer.version` and writes or reads
      (_answer_part_key); the question page's history card under the same but the role;
    - the review's risks: `risk_version`, read with the risks in one statement
      (selectors.review_risks), so they are exact (_risks_key). The sidebar, the risk line and
      the pillar counts are rendered from them and the version cache on each response.
    Whatever is added to these fragments (a badge, a line) must be added to their key.
    The profile's marks (which questions are prioritised: the sidebar entries and the header)
    are kept with the risks: a change of the profile or of its answers moves `risk_version`.
    """
    writes = answer.lens_review.workload.role != Role.READONLY
    return _token(answer.version, answer.lens_review.risk_version, writes)


def _token(version: int, risk_version: int, writes: bool) -> str:
    return f"{version}.{risk_version}{'' if writes else '.r'}"


@dataclass(frozen=True)
class Shown:
    """What a page says it shows: the parts of its poll token."""

    version: int
    risk_version: int
    writes: bool


def _shown(token: str) -> Shown | None:
    """None for a missing or unreadable token (or "resync"): the page gets everything."""
    parts = token.split(".")
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "r"):
        return None
    try:
        return Shown(int(parts[0]), int(parts[1]), len(parts) == 2)
    except ValueError:
        return None


# -- the sidebar -----------------------------------------------------------------------------


@dataclass
class NavQuestion:
    pk: int
    question_id: str
    title: str
    risk: str
    prioritised: bool = False

    @property
    def risk_label(self) -> str:
        return AnswerRisk(self.risk).label


@dataclass
class NavPillar:
    pk: int
    pillar_id: str
    name: str
    counts: dict[str, int]
    question_list: list[NavQuestion]


def _counts(questions: list[NavQuestion]) -> dict[str, int]:
    risks = [q.risk for q in questions]
    return {
        "total": len(risks),
        "answered": sum(risk != AnswerRisk.UNANSWERED for risk in risks),
        "high": risks.count(AnswerRisk.HIGH),
        "medium": risks.count(AnswerRisk.MEDIUM),
    }


@dataclass(frozen=True)
class Kept:
    """What the sidebar shows at one risk version: each question's risk, and the question ids
    the workload's profile prioritises."""

    risks: dict[int, str]
    prioritised: frozenset[str]


def _nav(review: LensReview, data: LensVersionData, kept: Kept) -> list[NavPillar]:
    """The sidebar's pillars in the workload's order, each with its questions and counts."""
    risks = kept.risks
    pillars = []
    for pillar in in_priority_order(list(data.pillars), review.workload.pillar_priorities):
        questions = [
            NavQuestion(
                q.pk,
                q.question_id,
                q.title,
                risks.get(q.pk, AnswerRisk.UNANSWERED),
                q.question_id in kept.prioritised,
            )
            for q in data.by_pillar.get(pillar.pk, ())
        ]
        pillars.append(
            NavPillar(pillar.pk, pillar.pillar_id, pillar.name, _counts(questions), questions)
        )
    return pillars


def _review_key(review: LensReview) -> str:
    """The review's pk and creation time: a restored or re-created database reuses pks, and a
    shared cache outlives it."""
    return f"{review.pk}.{review.created_at.timestamp():.6f}"


def _risks_key(review: LensReview, risk_version: int) -> str:
    return f"question-page:risks:{_review_key(review)}:{risk_version}"


def _risks(review: LensReview) -> tuple[Kept, int]:
    """The review's risks now (one query) and its prioritised questions (one more), kept under
    their risk version for later diffs.

    The prioritised questions are read after the risks: a profile change committed in between
    is then kept under the older version as well, which shows it a little early, never late.
    """
    risks, risk_version = review_risks(review)
    kept = Kept(risks, frozenset(prioritised_in(review.workload, review.lens.alias)))
    _keep(review, kept, risk_version)
    return kept, risk_version


def _kept_risks(review: LensReview, risk_version: int) -> Kept | None:
    return cache.get(_risks_key(review, risk_version))


def _risks_after(answer: AnswerModel) -> Kept | None:
    """The review's risks right after a change of `answer` written in this request (the
    review's `risk_version` is then the one it wrote, see reviews.answer_writes), from those
    kept: when the change moved the answer's risk, and so the risk version by one under the
    review's row lock, those kept under the version before with this answer's new risk; else
    those kept under the version. None when nobody kept them."""
    review = answer.lens_review
    moved = getattr(answer, "event", None) is not None and answer.risk != answer.risk_before
    if not moved:
        return _kept_risks(review, review.risk_version)
    before = _kept_risks(review, review.risk_version - 1)
    if before is None:
        return None
    return Kept({**before.risks, answer.question_id: answer.risk}, before.prioritised)


def _keep(review: LensReview, kept: Kept, risk_version: int) -> None:
    """Keep `kept` as the risks at `risk_version`: only once they are committed."""
    cache.set(_risks_key(review, risk_version), kept, CACHE_SECONDS)


def _risks_now(review: LensReview) -> tuple[Kept, int]:
    """The risks at the review's risk version as the access lookup read it, kept by whoever
    read them first at that version; else read now (see _risks)."""
    kept = _kept_risks(review, review.risk_version)
    if kept is None:
        return _risks(review)
    return kept, review.risk_version


# -- rendering -------------------------------------------------------------------------------


def _base(answer: AnswerModel) -> dict[str, Any]:
    """What every part of the page needs: the answer, its question, the controls."""
    review = answer.lens_review
    return {
        "answer": answer,
        "question": answer.question,
        "review": review,
        "workload": review.workload,
        "can_write": review.workload.role != Role.READONLY,
        "reasons": Reason.choices,
        "Status": ChoiceAnswer.Status,
        "fragment": True,
    }


def _numbered(choices: list) -> list:
    for number, choice in enumerate(choices, start=1):
        choice.number = number
    return choices


def _notes_editor(answer: AnswerModel) -> dict[str, Any]:
    review = answer.lens_review
    return {
        "action": reverse(
            "reviews:question_notes",
            args=[review.workload.public_id, review.lens.alias, answer.question.question_id],
        ),
        "key": f"notes-{answer.pk}",
        "notes": answer.notes,
        "version": answer.notes_version,
        "next": _question_url(answer),
    }


def _pillar_of(answer: AnswerModel, pillars: list[NavPillar]) -> NavPillar:
    return next(p for p in pillars if p.pk == answer.question.pillar_id)


def _answer_part_key(answer: AnswerModel) -> str:
    review = answer.lens_review
    writes = review.workload.role != Role.READONLY
    return (
        f"question-page:answer:{_review_key(review)}:{answer.pk}:{answer.question_id}"
        f":{answer.version}:{int(writes)}"
    )


def _answer_part(
    request: HttpRequest,
    answer: AnswerModel,
    data: LensVersionData,
    *,
    choices: list | None = None,
    events: list | None = None,
    error: str = "",
) -> str:
    """The live region with the history and the notes editor (out of band), cached by state.

    Read when not given: the choices and the history (two queries), never before the answer
    whose version keys them, so what is cached is never older than its key.
    """
    key = _answer_part_key(answer)
    if not error and choices is None and (kept := cache.get(key)) is not None:
        return kept
    if choices is None:
        choices = choices_with_status(answer)
    if events is None:
        events = answer_history(answer)
    context = _base(answer) | {
        "choices": choices,
        "choices_html": _choices_html(answer, _numbered(choices), oob=False),
        "entries_html": _entries(request, events),
        "notes_editor": _notes_editor(answer),
        "error": error,
    }
    html = render_to_string(f"{TEMPLATE}#answer-part", context, request)
    if not error:
        cache.set(key, html, CACHE_SECONDS)
    return html


# Where the CSRF token goes in the full page's live region, which is shared: user text is
# escaped, so it never holds a "<" and cannot make this mark.
_CSRF_MARK = "<!--csrf-token-->"


def _page_live(request: HttpRequest, answer: AnswerModel) -> str:
    """The full page's live region, rendered once per state and shared, with the token of the
    person asking put in: its forms post without JavaScript too, so they carry CSRF fields.
    Keyed as the polls' live region (_answer_part_key); its choices are shared per state
    (_choices_html), so after a tick only the choice that moved is rendered again. An answer
    from a template is rendered each time: its origin line follows the template's answer,
    which moves no version here. Reads the choices (one query) only to render."""
    key = None if answer.template_id else f"{_answer_part_key(answer)}:page"
    html = cache.get(key) if key else None
    if html is None:
        choices = _numbered(choices_with_status(answer))
        context = _base(answer) | {
            "fragment": False,
            "csrf_token": mark_safe(_CSRF_MARK),  # the tag puts it in the field's value as is
            "choices": choices,
            "choices_html": _choices_html(answer, choices, oob=False, page=True),
        }
        html = render_to_string(f"{TEMPLATE}#live", context)
        if key:
            cache.set(key, html, CACHE_SECONDS)
    # rendered here, from a template that escapes what it shows; the token is letters and digits
    return mark_safe(html.replace(_CSRF_MARK, get_token(request)))


def _sidebar(
    review: LensReview,
    data: LensVersionData,
    shown: Shown | None,
    now: Kept,
    risk_version: int,
) -> dict[str, Any]:
    """What the page's sidebar needs to catch up from `shown` to `now`: the entries and
    pillar counts that moved when the page's state is known (kept), else the whole sidebar.
    The header's prioritised mark comes with any entry (it is small)."""
    pillars = _nav(review, data, now)
    before = _kept_risks(review, shown.risk_version) if shown else None
    if shown is not None and shown.risk_version == risk_version:
        return {"pillars": pillars}
    if before is None:
        return {"pillars": pillars, "nav_full": True, "nav_total": True}
    moved = {pk for pk, risk in now.risks.items() if before.risks.get(pk) != risk}
    marks = before.prioritised ^ now.prioritised
    moved |= {pk for pk, q in data.questions.items() if q.question_id in marks}
    entries = [q for p in pillars for q in p.question_list if q.pk in moved]
    touched = {data.questions[pk].pillar_id for pk in moved if pk in data.questions}
    return {
        "pillars": pillars,
        "nav_questions": entries,
        "nav_pillars": [p for p in pillars if p.pk in touched],
        "nav_total": bool(moved),
    }


def _review_nav(
    request: HttpRequest,
    review: LensReview,
    pillars: list[NavPillar],
    current: int,
    risk_version: int,
    *,
    oob: bool = False,
) -> str:
    """The question page's sidebar, rendered once per state and shared: it shows the lens
    version's questions, the review's risks at `risk_version` (with the profile's marks kept
    under it), the workload's pillar order and the open question; `oob` when it is swapped
    into a page out of band."""
    order = hashlib.sha256(repr(review.workload.pillar_priorities).encode()).hexdigest()[:16]
    key = (
        f"question-page:nav:{_review_key(review)}:{review.lens_version_id}:{risk_version}"
        f":{order}:{current}:{int(oob)}"
    )
    html = cache.get(key)
    if html is None:
        context = {"review": review, "workload": review.workload}
        context |= {"pillars_html": _nav_pillars(review, pillars, current), "oob": oob}
        html = render_to_string("reviews/_review_nav.html", context, request)
        cache.set(key, html, CACHE_SECONDS)
    return mark_safe(html)  # rendered here, from templates that escape what they show


def _nav_pillars(review: LensReview, pillars: list[NavPillar], current: int) -> str:
    """The sidebar's pillars, each rendered once per state and shared: a pillar shows its
    questions' risks and marks, and the open question if it is one of them. A risk that moves
    renders one pillar again, not the whole sidebar."""

    def key(p: NavPillar) -> str:
        here = current if any(q.pk == current for q in p.question_list) else 0
        state = repr([(q.pk, q.risk, q.prioritised) for q in p.question_list])
        digest = hashlib.sha256(state.encode()).hexdigest()[:16]
        return (
            f"question-page:nav-pillar:{_review_key(review)}:{review.lens_version_id}:{p.pk}"
            f":{here}:{digest}"
        )

    def render(p: NavPillar) -> str:
        context = {"p": p, "review": review, "workload": review.workload, "current": current}
        return render_to_string("reviews/_nav_pillar.html", context)

    return _rendered_once(pillars, key, render)


def _history(request: HttpRequest, answer: AnswerModel) -> str:
    """The question page's history card, rendered once per answer version and shared: it
    shows the answer's last 20 entries, the same for everyone."""
    key = (
        f"question-page:history:{_review_key(answer.lens_review)}:{answer.pk}"
        f":{answer.question_id}:{answer.version}"
    )
    html = cache.get(key)
    if html is None:
        events = answer_history(answer)
        context = {"entries_html": _entries(request, events)}
        html = render_to_string("reviews/_history.html", context, request)
        cache.set(key, html, CACHE_SECONDS)
    return mark_safe(html)  # rendered here, from a template that escapes what it shows


def _entries(request: HttpRequest, events: list) -> str:
    """History entries, newest first, each rendered once and shared: an entry never changes,
    and in a workshop each reaches every page of its question, a few versions at a time."""
    return _rendered_once(
        events,
        lambda e: f"question-page:entry:{e.pk}:{e.at.timestamp():.6f}",
        lambda e: render_to_string("reviews/_history_entry.html", {"event": e}, request),
    )


def _rendered_once(items: list, key: Callable[[Any], str], render: Callable[[Any], str]) -> str:
    """Each of `items` rendered once per `key` (what it shows) and shared through the cache,
    joined in order."""
    keys = [key(item) for item in items]
    kept = cache.get_many(keys) if keys else {}
    fresh = {k: render(item) for k, item in zip(keys, items, strict=True) if k not in kept}
    if fresh:
        cache.set_many(fresh, CACHE_SECONDS)
    kept |= fresh
    # rendered here, from templates that escape what they show
    return mark_safe("".join(kept[k] for k in keys))


def _choices_html(answer: AnswerModel, choices: list, *, oob: bool, page: bool = False) -> str:
    """Choices of the live region (`oob`: out of band; `page`: the full page's, whose forms
    carry the CSRF mark, see _page_live), each rendered once per state and shared by every
    page, tick, poll and save that sends it: a choice's fragment shows the lens version's
    choice (its pk), its number, its own status, reason and notes, whether the question
    applies and whether the reader may write, and nothing else (no CSRF token: htmx sends the
    one on the page's body). In a workshop a page catching up gets a few choices at a time,
    and a choice has few states."""
    review = answer.lens_review
    writes = int(review.workload.role != Role.READONLY)
    base = f"question-page:choice:{_review_key(review)}:{writes}:{int(answer.is_applicable)}"
    base += f":{int(oob)}:{int(page)}"
    extra = {"fragment": False, "csrf_token": mark_safe(_CSRF_MARK)} if page else {}

    def key(choice) -> str:
        notes = hashlib.sha256((choice.choice_notes or "").encode()).hexdigest()[:16]
        return f"{base}:{choice.pk}:{choice.number}:{choice.status}:{choice.reason}:{notes}"

    def render(choice) -> str:
        context = _base(answer) | {"choice": choice, "oob": oob} | extra
        return render_to_string(f"{TEMPLATE}#choice", context)

    return _rendered_once(choices, key, render)


def _update(request: HttpRequest, answer: AnswerModel, context: dict[str, Any]) -> str:
    if "changed_choices" in context:
        changed = context.pop("changed_choices")
        context["changed_html"] = _choices_html(answer, changed, oob=True)
    return render_to_string(f"{TEMPLATE}#update", context, request)


def _refresh(
    request: HttpRequest,
    answer: AnswerModel,
    data: LensVersionData,
    shown: Shown | None,
    now: Kept,
    risk_version: int,
    *,
    whole: bool,
    choices: list | None = None,
    events: list | None = None,
    error: str = "",
    catch_up: dict[str, Any] | None = None,
) -> HttpResponse:
    """Bring a page that shows `shown` up to date: the live region when `whole`, else what
    `catch_up` holds (see _catch_up) if anything; the risk line, what moved in the sidebar,
    and the new token."""
    review = answer.lens_review
    writes = review.workload.role != Role.READONLY
    review.prioritised = now.prioritised  # the header's mark (profiles/_question_priority.html)
    context = _base(answer) | _sidebar(review, data, shown, now, risk_version)
    context["pillar"] = _pillar_of(answer, context["pillars"])
    context["risk_changed"] = True
    context["poll_token"] = _token(answer.version, risk_version, writes)
    if context.get("nav_full"):
        pillars = context["pillars"]
        nav = _review_nav(request, review, pillars, answer.question_id, risk_version, oob=True)
        context["review_nav"] = nav
    if catch_up is not None:
        context |= catch_up
    html = _update(request, answer, context)
    if whole:
        part = _answer_part(request, answer, data, choices=choices, events=events, error=error)
        return HttpResponse(part + html)
    response = HttpResponse(html)
    response["HX-Reswap"] = "none"
    return response


def _question_url(answer: AnswerModel) -> str:
    review = answer.lens_review
    return reverse(
        "reviews:question",
        args=[review.workload.public_id, review.lens.alias, answer.question.question_id],
    )


# -- views -----------------------------------------------------------------------------------


@require_GET
@login_required
def question_detail(
    request: HttpRequest, public_id: str, alias: str, question_id: str
) -> HttpResponse:
    answer = get_answer_for_user(request, public_id, alias, question_id)
    review = answer.lens_review
    data = version_data(review.lens_version)
    kept, risk_version = _risks_now(review)
    review.prioritised = kept.prioritised
    pillars = _nav(review, data, kept)
    flat = [(pillar, q) for pillar in pillars for q in pillar.question_list]
    index = next(i for i, (_, q) in enumerate(flat) if q.pk == answer.question_id)
    pillar = flat[index][0]
    pillar_index = pillars.index(pillar)
    context = _base(answer) | {
        "fragment": False,
        "pillars": pillars,
        "pillar": pillar,
        "live": _page_live(request, answer),
        "history": _history(request, answer),
        "previous_question": flat[index - 1][1] if index > 0 else None,
        "next_question": flat[index + 1][1] if index + 1 < len(flat) else None,
        "previous_pillar": pillars[pillar_index - 1] if pillar_index > 0 else None,
        "next_pillar": pillars[pillar_index + 1] if pillar_index + 1 < len(pillars) else None,
        "poll_token": _token(answer.version, risk_version, review.workload.role != Role.READONLY),
        "notes_editor": _notes_editor(answer),
        "review_nav": _review_nav(request, review, pillars, answer.question_id, risk_version),
    }
    if context["can_write"]:
        context["upgrade_notice"] = upgrade_notices([review]).get(review.pk)
    return render(request, TEMPLATE, context)


@require_GET
@login_required
def question_poll(
    request: HttpRequest, public_id: str, alias: str, question_id: str
) -> HttpResponse:
    """204 while what the page shows is still at `v` (see `poll_token`); else what moved.

    Most polls find nothing new, so they are answered from the versions alone (one small
    query); the full access lookup runs only to send a change or to refuse.
    """
    token = request.GET.get("v", "")
    shown = _shown(token)
    seen = answer_versions_for(request.user, public_id, alias, question_id)
    if seen:
        current = _token(seen.version, seen.risk_version, seen.role != Role.READONLY)
        if token == current:
            return HttpResponse(status=204)
        keys = _poll_keys(seen, shown)
        if kept := cache.get_many(keys):
            request.served = "shared"  # type: ignore[attr-defined]  # for the log line
            return _poll_response(*next(iter(kept.values())))
    answer = get_answer_for_user(request, public_id, alias, question_id)
    review = answer.lens_review
    writes = review.workload.role != Role.READONLY
    whole = shown is None or shown.version != answer.version or shown.writes != writes
    data = version_data(review.lens_version)
    if _can_catch_up(answer.version, writes, shown):
        catch_up = _catch_up(request, answer, data, shown)
    else:
        catch_up = None
    now, risk_version = _risks_now(review)
    response = _refresh(
        request,
        answer,
        data,
        shown,
        now,
        risk_version,
        whole=whole and catch_up is None,
        catch_up=catch_up,
    )
    request.served = "rendered"  # type: ignore[attr-defined]  # for the log line
    if seen and _token(answer.version, risk_version, writes) == current:
        key = keys[0] if catch_up is not None else keys[-1]
        cache.set(key, (response.content, response.get("HX-Reswap")), CACHE_SECONDS)
    return response


def _can_catch_up(version: int, writes: bool, shown: Shown | None) -> bool:
    """Whether a page at `shown` is few enough versions behind on an answer at `version` to be
    sent only what moved (the rest is for _catch_up to find out). Decided from the versions
    alone, so that the poll's cache keys (_poll_keys) can tell too."""
    return shown is not None and shown.writes == writes and 0 < version - shown.version <= CATCH_UP


def _catch_up(
    request: HttpRequest, answer: AnswerModel, data: LensVersionData, shown: Shown
) -> dict[str, Any] | None:
    """What the page lacks since the version it shows, when that is little: every version
    since is one person's change of choices (and so of the risk) or of the notes, with its
    history entry. Then the choices that moved, the entries and, if the notes moved, the notes
    editor; a change of the applicability, of the answer's origin (a template) or an upgrade
    sends the whole region instead (None).

    One query, the history entries; entries newer than the answer that was looked up are left
    for the next poll. The choices that moved are as the newest of those entries left them
    (_moved_choices).
    """
    if answer.template_id:  # the origin line may change with any tick
        return None
    events = answer_history(answer, since=shown.version)
    if [e.version for e in events] != list(range(answer.version, shown.version, -1)):
        return None
    fields = {change.get("field") for event in events for change in event.changes}
    if not fields <= {"choice", "risk", "notes"}:
        return None
    part = {"changed_choices": _moved_choices(answer, data, events)}
    part["new_entries"] = _entries(request, events)
    if "notes" in fields:
        part["notes_editor"] = _notes_editor(answer)
    return part


def _moved_choices(answer: AnswerModel, data: LensVersionData, events: list) -> list:
    """The choices `events` changed (newest first: every version of the answer since the
    page's, up to the one looked up), in their state at that version.

    A ticked or unticked choice has no reason and no notes (services.answer_choice_update), so
    the status its newest entry gives is all of its state, and no query is needed. Entries
    hold neither the reason nor the notes of a choice that does not apply; for one of those,
    or a choice this lens version does not have, the choices are read (one query, after the
    lookup, so never older than it)."""
    after: dict[str, str] = {}
    for change in (c for e in events for c in e.changes if c.get("field") == "choice"):
        after.setdefault(change["choice"], change.get("after"))
    plain = (ChoiceAnswer.Status.SELECTED, ChoiceAnswer.Status.UNSELECTED)
    choices = _numbered(data.choices_of(answer.question_id))
    known = {c.choice_id for c in choices}
    if set(after) <= known and all(status in plain for status in after.values()):
        for choice in choices:
            choice.status = after.get(choice.choice_id)
            choice.reason, choice.choice_notes = Reason.NONE, ""
    else:
        choices = _numbered(choices_with_status(answer))
    return [c for c in choices if c.choice_id in after]


def _poll_keys(seen: AnswerVersions, shown: Shown | None) -> list[str]:
    """Where a poll from a page at `shown` finds its response while the answer is at `seen`:
    the same for everyone at that state (the fragments hold nothing of the person asking), so
    it is rendered once and shared (see poll_token).

    Of the page's state only what the response depends on: a page behind on the answer gets
    the whole region however far behind it is, and the sidebar entries that moved since its
    risk version; so pages that saw different ticks of this question share one render (the
    last key). A page a few versions behind may instead be sent only what moved since its
    version (_catch_up): that render is its own (the first key, tried first); the whole
    region would do for it too.
    """
    writes = seen.role != Role.READONLY
    now = _token(seen.version, seen.risk_version, writes)
    if shown is None:
        return [f"question-page:poll:{seen.place}:{now}:none"]
    risks = f"{shown.risk_version}.{int(shown.writes)}"
    if shown.version == seen.version and shown.writes == writes:
        return [f"question-page:poll:{seen.place}:{now}:same.{risks}"]
    whole = f"question-page:poll:{seen.place}:{now}:behind.{risks}"
    if _can_catch_up(seen.version, writes, shown):
        return [f"question-page:poll:{seen.place}:{now}:from{shown.version}.{risks}", whole]
    return [whole]


def _poll_response(content: bytes, reswap: str | None) -> HttpResponse:
    response = HttpResponse(content)
    if reswap:
        response["HX-Reswap"] = reswap
    return response


def _fail(request: HttpRequest, answer: AnswerModel, problem: ReviewError) -> HttpResponse:
    if not request.htmx:
        messages.error(request, str(problem))
        return redirect(_question_url(answer))
    review = answer.lens_review
    now, risk_version = _risks(review)
    return _refresh(
        request,
        answer,
        version_data(review.lens_version),
        None,
        now,
        risk_version,
        whole=True,
        error=str(problem),
    )


def _save_whole(
    request: HttpRequest, answer: AnswerModel, change: Callable[[], tuple]
) -> HttpResponse:
    """Make `change` (a service call giving the answer and its choices, or None for them) and
    send the page all it shows, read inside the change's transaction.

    Read after the commit, a connection dropped at that moment showed a failure for a change
    that was stored; once committed, nothing is left to read. The risks come from those kept
    (see _risks_after), else are read in one statement with their version after the change: a
    change that moved a risk holds the review's row lock (see services._record), so they
    include it.
    """
    shown = _shown(request.POST.get("v", ""))
    data = version_data(answer.lens_review.lens_version)  # before: nothing is read after it
    try:
        with transaction.atomic():
            answer, choices = change()
            if choices is None:
                choices = choices_with_status(answer)
            events = answer_history(answer)
            # From those kept when someone kept them: no reads while the review's row is
            # locked by the change (which every tick of the review waits for).
            now, risk_version = _risks_after(answer), answer.lens_review.risk_version
            if now is None:
                now, risk_version = _risks(answer.lens_review)
            elif getattr(answer, "event", None) is not None:
                transaction.on_commit(partial(_keep, answer.lens_review, now, risk_version))
    except ReviewError as problem:
        return _fail(request, answer, problem)
    return _refresh(
        request,
        answer,
        data,
        shown,
        now,
        risk_version,
        whole=True,
        choices=choices,
        events=events,
    )


def _asks_for_what_is_stored(request: HttpRequest, answer: AnswerModel, status: str) -> bool:
    """Whether a tick from a page that is behind asks for what someone else stored meanwhile
    (such ticks were nearly half of all ticks in the load test): the lookup read the choice's
    stored status along with the answer, and the answer's version once no change of it is
    being written, so no transaction is needed to tell. Anything else goes the long way, which
    also gives the errors."""
    if status not in (ChoiceAnswer.Status.SELECTED, ChoiceAnswer.Status.UNSELECTED):
        return False
    if not answer.is_applicable:
        return False
    if _shown(request.POST.get("v", "")) == Shown(
        answer.version, answer.lens_review.risk_version, True
    ):
        return False  # an up-to-date page: the service decides
    if answer.choice_status != status:
        return False
    # A tick of this answer being written as the lookup read (its history entry already dated)
    # was waited for: else the history would say the choice had changed before this was asked.
    return answer.settled_version == answer.version


def _tick_response(
    request: HttpRequest, answer: AnswerModel, choices: list, shown: Shown
) -> HttpResponse:
    """What a tick from an up-to-date page sends: the choices it changed, its history entry,
    and when the risk moved the risk line, the question's sidebar entry and its pillar's
    counts (from the page's own risks, kept under its risk version: no query).

    The token moves to the new answer version only if the page was at the one before; else it
    keeps the page's, and the page polls at once for the rest (question-refresh), which is the
    render shared by everyone at that state; the history entry comes with it, among the others
    the page missed. It never moves past the page's risk version:
    whether others moved a risk meanwhile is not known here, so the next poll asks.
    """
    review = answer.lens_review
    data = version_data(review.lens_version)
    event = getattr(answer, "event", None)
    writes = review.workload.role != Role.READONLY
    if event is None:  # nothing changed after all (the lock saw it so)
        return HttpResponse(status=204)
    behind = answer.version - 1 != shown.version
    changed_ids = {c["choice"] for c in event.changes if c.get("field") == "choice"}
    context = _base(answer) | {
        "changed_choices": [c for c in _numbered(choices) if c.choice_id in changed_ids],
        # A page that is behind gets its entry with the others it missed from the poll.
        "new_entries": "" if behind else _entries(request, [event]),
        # Whether the workload changed the answer since its template: may move with any tick.
        "origin_choices": choices if answer.template_id else None,
        "poll_token": _token(
            shown.version if behind else answer.version, shown.risk_version, writes
        ),
    }
    if answer.risk != answer.risk_before:
        # So that the first poll at the new risk version reads no risks.
        if (after := _risks_after(answer)) is not None:
            _keep(review, after, review.risk_version)
        kept = _kept_risks(review, shown.risk_version)
        context["risk_changed"] = True
        if kept is not None:
            now = Kept({**kept.risks, answer.question_id: answer.risk}, kept.prioritised)
            review.prioritised = now.prioritised
            pillars = _nav(review, data, now)
            pillar = _pillar_of(answer, pillars)
            context |= {
                "pillars": pillars,
                "pillar": pillar,
                "nav_questions": [q for q in pillar.question_list if q.pk == answer.question_id],
                "nav_pillars": [pillar],
                "nav_total": True,
            }
        else:
            # The badge now; the sidebar entry and the counts come with the next poll, since
            # which questions the profile prioritises (the entry's mark) is not known here.
            context["risk_changed"] = False
            context["risk_badge"] = True
    response = HttpResponse(_update(request, answer, context))
    response["HX-Reswap"] = "none"
    if behind:
        response["HX-Trigger-After-Settle"] = "question-refresh"
    return response


@require_POST
@login_required
def choice_update(
    request: HttpRequest, public_id: str, alias: str, question_id: str, choice_id: str
) -> HttpResponse:
    """One choice of one question: ticked (`status=SELECTED`), unticked, or not applicable."""
    status = request.POST.get("status") or ChoiceAnswer.Status.UNSELECTED
    answer = get_answer_for_user(
        request, public_id, alias, question_id, write=True, choice_id=choice_id
    )
    # A page that is behind may ask for what someone else stored meanwhile: nothing to do, and
    # its next poll shows the rest.
    if request.htmx and _asks_for_what_is_stored(request, answer, status):
        return HttpResponse(status=204)

    def change() -> tuple:
        return answer_choice_update(
            answer=answer,
            choice_id=choice_id,
            status=status,
            reason=request.POST.get("reason") or Reason.NONE,
            notes=request.POST.get("notes", ""),
            user=request.user,
        )

    if not request.htmx:
        try:
            answer, _ = change()
        except ReviewError as problem:
            return _fail(request, answer, problem)
        return redirect(_question_url(answer))
    shown = _shown(request.POST.get("v", ""))
    writes = answer.lens_review.workload.role != Role.READONLY
    if shown is None or shown.writes != writes:  # a page that cannot say what it shows
        return _save_whole(request, answer, change)
    try:
        answer, choices = change()
    except ReviewError as problem:
        return _fail(request, answer, problem)
    return _tick_response(request, answer, choices, shown)


@require_POST
@login_required
def applicability_update(
    request: HttpRequest, public_id: str, alias: str, question_id: str
) -> HttpResponse:
    answer = get_answer_for_user(request, public_id, alias, question_id, write=True)

    def change() -> tuple:
        return (
            answer_applicability_update(
                answer=answer,
                is_applicable=request.POST.get("applicable") != "no",
                reason=request.POST.get("reason") or Reason.NONE,
                user=request.user,
            ),
            None,
        )

    if not request.htmx:
        try:
            answer, _ = change()
        except ReviewError as problem:
            return _fail(request, answer, problem)
        return redirect(_question_url(answer))
    return _save_whole(request, answer, change)


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
