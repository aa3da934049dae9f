"""Profile pages: everyone logged in reads profiles, staff write them, and a workload's
writers choose its profile and answer its questions."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lenses.models import Question
from profiles import editor, profile_format
from profiles.forms import ProfileForm, ProfileImportForm, WorkloadProfileForm
from profiles.models import Profile
from profiles.selectors import profile_use_of, profiles_listed, ticked_choices
from profiles.services import (
    ProfileError,
    profile_delete,
    profile_import,
    profile_save,
    workload_profile_remove,
    workload_profile_set,
)
from reviews.models import WRITE_ROLES
from reviews.selectors import builtin_pillars
from reviews.views.access import get_workload_for_user


def _require_staff(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied("Only staff manage profiles.")


def _question_titles(profile: Profile) -> dict[tuple[str, str], str]:
    """The title of every lens question the profile names, from the newest version of its
    lens that has it (one query)."""
    pairs = {
        (ref["lens"], ref["question"])
        for question in profile.questions
        for choice in question["choices"]
        for ref in choice["prioritises"]
    }
    rows = (
        Question.objects.filter(
            lens_version__lens__alias__in={alias for alias, _ in pairs},
            question_id__in={question for _, question in pairs},
        )
        .order_by("lens_version__created_at")
        .values_list("lens_version__lens__alias", "question_id", "title")
    )
    return {(alias, qid): title for alias, qid, title in rows}


@require_GET
@login_required
def profile_list(request: HttpRequest) -> HttpResponse:
    return render(request, "profiles/list.html", {"profiles": list(profiles_listed())})


@require_GET
@login_required
def profile_detail(request: HttpRequest, profile_id: int) -> HttpResponse:
    profile = get_object_or_404(Profile, pk=profile_id)
    titles = _question_titles(profile)
    for question in profile.questions:
        for choice in question["choices"]:
            choice["named"] = [
                (ref, titles.get((ref["lens"], ref["question"]), ""))
                for ref in choice["prioritises"]
            ]
    return render(request, "profiles/detail.html", {"profile": profile})


@require_GET
@login_required
def profile_export(request: HttpRequest, profile_id: int) -> HttpResponse:
    profile = get_object_or_404(Profile, pk=profile_id)
    response = HttpResponse(
        profile_format.dumps(profile_format.export(profile)), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="profile-{profile.pk}.json"'
    return response


def _json_editor(request: HttpRequest, profile: Profile | None) -> HttpResponse:
    """The questions as one JSON text: for staff who write or paste a whole profile."""
    form = ProfileForm(request.POST or None, profile=profile)
    if request.method == "POST" and form.is_valid():
        try:
            saved = profile_save(document=form.document(), user=request.user, profile=profile)
        except ProfileError as exc:
            form.add_error("name" if exc.field == "name" else None, exc.message)
        else:
            messages.success(request, f"Saved the profile “{saved.name}”.")
            return redirect("profiles:detail", profile_id=saved.pk)
    return render(request, "profiles/edit_json.html", {"form": form, "profile": profile})


def _editor(request: HttpRequest, profile: Profile | None) -> HttpResponse:
    """Questions and choices as rows of fields (profiles.editor); `format=json` for the text."""
    _require_staff(request)
    if "json" in (request.GET.get("format"), request.POST.get("format")):
        return _json_editor(request, profile)
    problems: list[str] = []
    if request.method == "POST":
        document, typed = editor.read_post(request.POST)
        try:
            checked = profile_format.check_profile(document)
            saved = profile_save(document=checked, user=request.user, profile=profile)
        except profile_format.ProfileFileError as exc:
            problems = [editor.place_label(problem) for problem in exc.errors]
        except ProfileError as exc:
            problems = [exc.message]
        else:
            messages.success(request, f"Saved the profile “{saved.name}”.")
            return redirect("profiles:detail", profile_id=saved.pk)
        values = {"name": document["name"], "description": document["description"]}
        questions = typed
    elif profile is not None:
        values = {"name": profile.name, "description": profile.description}
        questions = profile.questions
    else:
        values, questions = {"name": "", "description": ""}, []
    context = {
        "profile": profile,
        "values": values,
        "questions": editor.rows(questions),
        "problems": problems,
        "pillars": builtin_pillars(),
        "selection_types": [("SINGLE", "One choice"), ("MULTIPLE", "Several choices")],
    }
    return render(request, "profiles/edit.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def profile_create(request: HttpRequest) -> HttpResponse:
    return _editor(request, None)


@require_http_methods(["GET", "POST"])
@login_required
def profile_edit(request: HttpRequest, profile_id: int) -> HttpResponse:
    _require_staff(request)
    return _editor(request, get_object_or_404(Profile, pk=profile_id))


@require_POST
@login_required
def profile_remove(request: HttpRequest, profile_id: int) -> HttpResponse:
    _require_staff(request)
    profile = get_object_or_404(Profile, pk=profile_id)
    try:
        profile_delete(profile=profile)
    except ProfileError as exc:
        messages.error(request, exc.message)
        return redirect("profiles:detail", profile_id=profile.pk)
    messages.success(request, f"Deleted the profile “{profile.name}”.")
    return redirect("profiles:list")


@require_http_methods(["GET", "POST"])
@login_required
def profile_upload(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    posted = request.method == "POST"
    form = ProfileImportForm(request.POST if posted else None, request.FILES if posted else None)
    problems: list[str] = []
    if posted and form.is_valid():
        try:
            profile = profile_import(raw=form.cleaned_data["file"].read(), user=request.user)
        except profile_format.ProfileFileError as exc:
            problems = exc.errors
        except ProfileError as exc:
            problems = [exc.message]
        else:
            messages.success(request, f"Imported the profile “{profile.name}”.")
            return redirect("profiles:detail", profile_id=profile.pk)
    return render(request, "profiles/import.html", {"form": form, "problems": problems})


@require_http_methods(["GET", "POST"])
@login_required
def workload_profile(request: HttpRequest, public_id: str) -> HttpResponse:
    """The workload's profile: readers see it and its answers; writers choose one (the
    `profile` parameter), answer its questions, or remove it (`remove`)."""
    workload = get_workload_for_user(request, public_id, write=request.method == "POST")
    use = profile_use_of(workload)
    can_write = workload.role in WRITE_ROLES
    chosen_id = request.POST.get("profile") or request.GET.get("profile")
    profile = use.profile if use is not None else None
    if chosen_id:
        profile = Profile.objects.filter(pk=chosen_id if chosen_id.isdigit() else None).first()
    if request.method == "POST" and "remove" in request.POST:
        try:
            workload_profile_remove(workload=workload)
        except ProfileError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "The workload uses no profile now.")
        return redirect("profiles:workload_profile", public_id=workload.public_id)
    same = use is not None and profile is not None and use.profile_id == profile.pk
    form = None
    if profile is not None:
        initial = {"follows_pillar_order": use.follows_pillar_order} if same else {}
        if same:
            initial.update({f"q_{q}": ids for q, ids in use.answers.items()})
            for question in profile.questions:
                if question["selectionType"] == "SINGLE" and initial.get(f"q_{question['id']}"):
                    initial[f"q_{question['id']}"] = initial[f"q_{question['id']}"][0]
        form = WorkloadProfileForm(request.POST or None, profile=profile, initial=initial)
    elif request.method == "POST":
        messages.error(request, "Choose a profile first.")
        return redirect("profiles:workload_profile", public_id=workload.public_id)
    if request.method == "POST" and form.is_valid():
        try:
            workload_profile_set(
                workload=workload,
                profile=profile,
                answers=form.answers(),
                follows_pillar_order=form.cleaned_data["follows_pillar_order"],
                user=request.user,
            )
        except ProfileError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"The workload uses the profile “{profile.name}”.")
            return redirect("profiles:workload_profile", public_id=workload.public_id)
    context = {
        "workload": workload,
        "use": use,
        "profile": profile,
        "form": form,
        "can_write": can_write,
        "profiles": list(Profile.objects.only("pk", "name", "description")),
        "ticked": ticked_choices(use.profile.questions, use.answers) if use else [],
        "answers_json": json.dumps(use.answers) if use else "",
    }
    return render(request, "profiles/workload_profile.html", context)
