import base64
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lenses import conditions
from lenses.differences import LensDifference, lens_version_difference
from lenses.forms import LensUploadForm, PublishForm
from lenses.lens_format import LensFileError, dumps, group_problems, read_lens_file
from lenses.models import Lens, LensVersion
from lenses.services import (
    LensError,
    default_alias,
    free_alias,
    lens_delete,
    lens_for_document,
    lens_import,
    lens_used_by,
    lens_version_content,
    lens_version_deprecate,
    lens_version_document,
    lens_version_publish,
    suggest_version_name,
)


def _get_version_for_user(request: HttpRequest, alias: str, pk: int) -> LensVersion:
    versions = LensVersion.objects.visible_to(request.user).select_related("lens")
    return get_object_or_404(versions, lens__alias=alias, pk=pk)


def _require_staff(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied("Only staff manage lenses.")


@require_GET
@login_required
def catalogue(request: HttpRequest) -> HttpResponse:
    lenses = list(Lens.objects.visible_to(request.user))
    versions = (
        LensVersion.objects.visible_to(request.user)
        .filter(lens__in=lenses)
        .with_counts()
        .order_by("lens", "-created_at", "-pk")
    )
    latest: dict[int, LensVersion] = {}
    drafts: set[int] = set()
    for version in versions:
        if version.is_draft:
            drafts.add(version.lens_id)
        elif version.lens_id not in latest:
            latest[version.lens_id] = version
    rows = [
        {"lens": lens, "version": latest.get(lens.pk), "has_draft": lens.pk in drafts}
        for lens in lenses
    ]
    return render(request, "lenses/catalogue.html", {"rows": rows})


@require_GET
@login_required
def lens_detail(request: HttpRequest, alias: str) -> HttpResponse:
    """The newest published version, or the draft when nothing is published yet."""
    versions = LensVersion.objects.visible_to(request.user).filter(lens__alias=alias)
    version = (
        versions.exclude(status=LensVersion.Status.DRAFT).order_by("-published_at").first()
        or versions.first()
    )
    if version is None:
        raise Http404("No such lens.")
    return redirect("lenses:version", alias=alias, pk=version.pk)


@require_GET
@login_required
def version_detail(request: HttpRequest, alias: str, pk: int) -> HttpResponse:
    version = _get_version_for_user(request, alias, pk)
    return _render_version(request, version, PublishForm(initial=_publish_initial(version)))


def _publish_initial(version: LensVersion) -> dict[str, str]:
    return {"version": suggest_version_name(version.lens)} if version.is_draft else {}


def _render_version(request: HttpRequest, version: LensVersion, form: PublishForm) -> HttpResponse:
    pillars = lens_version_content(version)
    question_count = 0
    for pillar in pillars:
        for question in pillar.questions.all():
            question_count += 1
            titles = {choice.choice_id: choice.title for choice in question.choices.all()}
            for rule in question.risk_rules.all():
                rule.readable = conditions.describe(rule.expression, titles)
    versions = _versions_with_use(request, version.lens)
    others = [v for v in versions if v.pk != version.pk and not v.is_draft]
    context = {
        "version": version,
        "lens": version.lens,
        "pillars": pillars,
        "question_count": question_count,
        "versions": versions,
        # Reviews on versions published before this one: what "upgrade every review" moves.
        "older_in_use": sum(
            v.workload_count
            for v in others
            if (v.published_at or v.created_at) < (version.published_at or version.created_at)
        ),
        "warning_groups": group_problems(version.warnings),
        "publish_form": form,
    }
    return render(request, "lenses/version.html", context)


def _versions_with_use(request: HttpRequest, lens: Lens) -> list[LensVersion]:
    """The lens's versions, newest first, each with how many workloads review it and the
    version before it (for the link to what changed)."""
    from reviews.models import LensReview  # reviews builds on lenses, not the other way round

    versions = list(lens.versions.visible_to(request.user).order_by("-created_at", "-pk"))
    in_use = dict(
        LensReview.objects.filter(lens=lens, is_active=True)
        .values_list("lens_version")
        .annotate(workloads=Count("workload", distinct=True))
    )
    for index, version in enumerate(versions):
        version.workload_count = in_use.get(version.pk, 0)
        older = [other for other in versions[index + 1 :] if not other.is_draft]
        version.previous = older[0] if older else None
    return versions


class DifferenceForm(forms.Form):
    base = forms.IntegerField(required=False, min_value=1)


@dataclass
class DifferenceOfVersions:
    target: LensVersion
    base: LensVersion | None
    changes: LensDifference | None
    versions: list[LensVersion]  # the lens's versions, newest first

    @property
    def others(self) -> list[LensVersion]:
        return [v for v in self.versions if v.pk != self.target.pk]


def _difference_for_user(request: HttpRequest, alias: str, pk: int) -> DifferenceOfVersions:
    """The version, the one it is compared with (`?base=`, else the previous version), their
    difference (None for the lens's first version) and the lens's other versions."""
    target = _get_version_for_user(request, alias, pk)
    form = DifferenceForm(request.GET)
    if not form.is_valid():
        raise Http404("No such version to compare with.")
    versions = _versions_with_use(request, target.lens)
    if form.cleaned_data["base"]:
        wanted = form.cleaned_data["base"]
        base = next((v for v in versions if v.pk == wanted and v.pk != target.pk), None)
        if base is None:
            raise Http404("No such version to compare with.")
    else:
        base = next(v.previous for v in versions if v.pk == target.pk)
    changes = lens_version_difference(base=base, target=target) if base else None
    return DifferenceOfVersions(target, base, changes, versions)


@require_GET
@login_required
def difference(request: HttpRequest, alias: str, pk: int) -> HttpResponse:
    found = _difference_for_user(request, alias, pk)
    context = {
        "lens": found.target.lens,
        "version": found.target,
        "base": found.base,
        "difference": found.changes,
        "counts": found.changes.question_counts() if found.changes else None,
        "others": found.others,
    }
    return render(request, "lenses/difference.html", context)


@require_GET
@login_required
def difference_json(request: HttpRequest, alias: str, pk: int) -> HttpResponse:
    """The difference in the shape of the AWS tool's GetLensVersionDifference answer; for the
    lens's first version, no base version and nothing that differs."""
    found = _difference_for_user(request, alias, pk)
    published = [v for v in found.versions if v.status == LensVersion.Status.PUBLISHED]
    latest = max(published, key=lambda v: v.published_at, default=None)
    changes = found.changes or LensDifference("", found.target.label, [])
    return JsonResponse(
        changes.as_aws(lens_alias=alias, latest_label=latest.label if latest else "")
    )


@require_http_methods(["GET", "POST"])
@login_required
def upload(request: HttpRequest) -> HttpResponse:
    """Import a lens file. When its name or alias matches a lens here and no alias was given,
    staff say first whether it is a new version of that lens or a separate lens."""
    _require_staff(request)
    posted = request.method == "POST"
    form = LensUploadForm(request.POST if posted else None, request.FILES if posted else None)
    context = {"form": form, "problems": None, "match": None}
    if request.method == "POST" and form.is_valid():
        raw = form.raw
        alias = form.cleaned_data["alias"] or None
        target = form.cleaned_data["target"]
        try:
            document = read_lens_file(raw)
        except LensFileError as exc:
            context["problems"] = exc
            return render(request, "lenses/upload.html", context)
        match = lens_for_document(document, alias=None) if alias is None else None
        if match is not None and not target:
            suggestion = free_alias(default_alias(document.data["name"]))
            initial = {"content": base64.b64encode(raw).decode(), "alias": suggestion}
            context.update(form=LensUploadForm(initial=initial), match=match)
            return render(request, "lenses/upload.html", context)
        if target == LensUploadForm.NEW_VERSION and match is not None:
            alias = match.alias
        elif target == LensUploadForm.SEPARATE:
            alias = alias or free_alias(default_alias(document.data["name"]))
            taken = Lens.objects.filter(alias=alias).first()
            if taken is not None:
                form.add_error("alias", f"“{taken.name}” has the alias '{alias}'; choose another.")
                context["match"] = match
                return render(request, "lenses/upload.html", context)
        try:
            version = lens_import(raw=raw, user=request.user, alias=alias)
        except LensFileError as exc:
            context["problems"] = exc
        except LensError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Imported “{version.name}” as a draft. Review it, then publish it as a version.",
            )
            return redirect("lenses:version", alias=version.lens.alias, pk=version.pk)
    return render(request, "lenses/upload.html", context)


@require_POST
@login_required
def publish(request: HttpRequest, alias: str, pk: int) -> HttpResponse:
    version = _get_version_for_user(request, alias, pk)
    _require_staff(request)
    form = PublishForm(request.POST)
    if form.is_valid():
        try:
            lens_version_publish(lens_version=version, version=form.cleaned_data["version"])
        except LensError as exc:
            form.add_error("version", str(exc))
        else:
            messages.success(request, f"Published version {form.cleaned_data['version']}.")
            return redirect("lenses:version", alias=alias, pk=pk)
    return _render_version(request, version, form)


@require_POST
@login_required
def deprecate(request: HttpRequest, alias: str, pk: int) -> HttpResponse:
    version = _get_version_for_user(request, alias, pk)
    _require_staff(request)
    try:
        lens_version_deprecate(lens_version=version)
    except LensError as exc:
        messages.error(request, str(exc))
    else:
        in_use = _reviews_of(version).count()
        if in_use == 1:
            still = " 1 workload still reviews it: upgrade it to a newer version."
        elif in_use:
            still = f" {in_use} workloads still review it: upgrade them to a newer version."
        else:
            still = " No workload reviews it."
        messages.success(request, f"Version {version.label} is deprecated.{still}")
    return redirect("lenses:version", alias=alias, pk=pk)


def _reviews_of(version: LensVersion):
    from reviews.models import LensReview  # reviews builds on lenses, not the other way round

    return LensReview.objects.filter(lens_version=version, is_active=True)


@require_POST
@login_required
def upgrade_reviews(request: HttpRequest, alias: str, pk: int) -> HttpResponse:
    """Staff move every workload's review of the lens to this version, with a summary."""
    from reviews.upgrades import lens_reviews_upgrade_every

    version = _get_version_for_user(request, alias, pk)
    _require_staff(request)
    if version.status != LensVersion.Status.PUBLISHED:
        messages.error(request, f"Version {version.label} is not published: nothing moves to it.")
        return redirect("lenses:version", alias=alias, pk=pk)
    summaries = lens_reviews_upgrade_every(target=version, user=request.user)
    context = {"lens": version.lens, "version": version, "summaries": summaries}
    return render(request, "lenses/upgrade_summary.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def lens_delete_view(request: HttpRequest, alias: str) -> HttpResponse:
    """Staff delete a lens nothing uses, after confirming; a lens in use says where."""
    _require_staff(request)
    lens = get_object_or_404(Lens, alias=alias)
    if request.method == "POST":
        try:
            lens_delete(lens=lens)
        except LensError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"“{lens.name}” and its versions are deleted.")
            return redirect("lenses:catalogue")
    context = {"lens": lens, "used_by": lens_used_by(lens)}
    return render(request, "lenses/lens_confirm_delete.html", context)


@require_GET
@login_required
def export(request: HttpRequest, alias: str, pk: int) -> HttpResponse:
    version = _get_version_for_user(request, alias, pk)
    response = HttpResponse(
        dumps(lens_version_document(version)), content_type="application/json; charset=utf-8"
    )
    filename = f"{version.lens.alias}-{version.label}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
