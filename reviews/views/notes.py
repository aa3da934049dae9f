"""Notes editors (question, pillar and lens notes) share one form and one conflict flow.

A save carries the notes version the editor started from. If someone else saved in between,
nothing is overwritten: the editor comes back holding the writer's own text, with the other
version shown beside it, and the next save (now based on the newer version) is a deliberate
choice.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from reviews.services import NotesConflict, ReviewError


def wants_theirs(request: HttpRequest) -> bool:
    """The writer chose the other person's version in a conflict: keep what is stored."""
    return bool(request.POST.get("use_theirs"))


def parse_notes(request: HttpRequest) -> tuple[str, int]:
    notes = request.POST.get("notes", "").replace("\r\n", "\n")
    try:
        base_version = int(request.POST.get("notes_version", ""))
    except ValueError:
        base_version = -1  # unknown: treated as stale, so a conflict is shown, never an overwrite
    return notes, base_version


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "/"
    return redirect(target)


def notes_response(
    request: HttpRequest,
    problem: NotesConflict | ReviewError | None,
    *,
    key: str,
    mine: str,
    version: int | None = None,
    replace: bool = False,
    label: str = "Notes",
) -> HttpResponse:
    editor = {
        "action": request.path,
        "key": key,
        "label": label,
        "notes": mine,
        "next": request.POST.get("next", ""),
    }
    if isinstance(problem, NotesConflict):
        editor.update(version=problem.version, conflict=problem)
        template = "reviews/notes_editor.html" if request.htmx else "reviews/notes_conflict.html"
        response = render(request, template, {"editor": editor})
        if request.htmx:
            response["HX-Retarget"] = f"#{editor['key']}"
            response["HX-Reswap"] = "outerHTML"
        return response
    if isinstance(problem, ReviewError):
        if not request.htmx:
            messages.error(request, str(problem))
            return _back(request)
        return render(
            request, "reviews/notes_editor.html#status", {"editor": editor, "error": problem}
        )
    if not request.htmx:
        messages.success(request, "Notes saved.")
        return _back(request)
    editor["version"] = version
    if replace:
        response = render(request, "reviews/notes_editor.html", {"editor": editor})
        response["HX-Retarget"] = f"#{editor['key']}"
        response["HX-Reswap"] = "outerHTML"
        return response
    return render(request, "reviews/notes_editor.html#status", {"editor": editor, "saved": True})
