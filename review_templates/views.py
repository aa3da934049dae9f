"""Review template pages: the list, a template's page, its question pages, apply, propagate.

Who may do what: every member reads a template and may apply it to a workload they can
change; contributors answer its questions; the owner renames, shares, propagates and deletes.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lenses.models import Lens, LensVersion, Question
from review_templates import access, services
from review_templates.models import ReviewTemplate, TemplateLens
from review_templates.selectors import (
    lens_outline,
    propagation_latest,
    template_members,
    templates_for_list,
    workloads_using,
    writable_workloads,
)
from reviews.access import AccessError
from reviews.errors import NOT_FOUND
from reviews.models import SHARE_ROLES, ChoiceAnswer, Reason, Role
from reviews.views.access import get_workload_for_user


def _template_for(request: HttpRequest, template_id: str, **need: bool) -> ReviewTemplate:
    try:
        return access.template_for(request.user, template_id, **need)
    except AccessError as exc:
        if exc.kind == NOT_FOUND:
            raise Http404(exc.message) from None
        raise PermissionDenied(exc.message) from None


def _published_lenses():
    published = LensVersion.objects.filter(status=LensVersion.Status.PUBLISHED).values("lens")
    return Lens.objects.filter(pk__in=published).order_by("-is_builtin", "name")


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(max_length=250, required=False)
    lenses = forms.ModelMultipleChoiceField(
        queryset=Lens.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lenses"].queryset = _published_lenses()


class PropertiesForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(max_length=250, required=False)


class FromWorkloadForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(max_length=250, required=False)


class TemplateShareForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=[(r.value, r.label) for r in SHARE_ROLES] + [("", "Remove")])

    def clean_username(self):
        username = self.cleaned_data["username"]
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise forms.ValidationError(f"There is no active user called {username}.")
        return user


class ApplyForm(forms.Form):
    workload = forms.CharField(max_length=32)


# -- list and create -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    """The templates shared with the user; POST creates one."""
    form = TemplateForm(request.POST or None, initial={"lenses": _published_lenses()[:1]})
    if request.method == "POST" and form.is_valid():
        try:
            template = services.template_create(
                owner=request.user,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                lenses=list(form.cleaned_data["lenses"]),
            )
        except services.TemplateError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"Created the template “{template.name}”.")
            return redirect("review_templates:detail", template_id=template.public_id)
    templates = list(templates_for_list(request.user))
    for template in templates:
        template.role_label = Role(template.role).label
    return render(request, "review_templates/list.html", {"templates": templates, "form": form})


@require_POST
@login_required
def template_from_workload(request: HttpRequest, public_id: str) -> HttpResponse:
    """Save a workload's answers as a new template (anyone who reads the workload)."""
    workload = get_workload_for_user(request, public_id)
    form = FromWorkloadForm(request.POST)
    if form.is_valid():
        try:
            template = services.template_create_from_workload(
                workload=workload,
                owner=request.user,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
            )
        except services.TemplateError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Saved the answers of {workload.name} as “{template.name}”.")
            return redirect("review_templates:detail", template_id=template.public_id)
    else:
        messages.error(request, "A template needs a name of 3 to 100 characters.")
    return redirect("reviews:workload_detail", public_id=public_id)


# -- one template ----------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, template: ReviewTemplate, **extra) -> dict:
    lenses = list(template.lenses.select_related("lens", "lens_version"))
    return {
        "template": template,
        "lenses": [(tl, lens_outline(tl)) for tl in lenses],
        "can_write": template.role in (Role.OWNER, Role.CONTRIBUTOR),
        "is_owner": template.role == Role.OWNER,
        "members": template_members(template),
        "uses": workloads_using(template),
        "targets": writable_workloads(request.user, template),
        "propagation": propagation_latest(template),
        "properties_form": PropertiesForm(
            initial={"name": template.name, "description": template.description}
        ),
        "share_form": TemplateShareForm(),
        **extra,
    }


@require_GET
@login_required
def template_detail(request: HttpRequest, template_id: str) -> HttpResponse:
    template = _template_for(request, template_id)
    return render(request, "review_templates/detail.html", _detail_context(request, template))


@require_POST
@login_required
def template_edit(request: HttpRequest, template_id: str) -> HttpResponse:
    template = _template_for(request, template_id, owner=True)
    form = PropertiesForm(request.POST)
    if form.is_valid():
        try:
            services.template_update(template=template, user=request.user, **form.cleaned_data)
        except services.TemplateError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Saved.")
            return redirect("review_templates:detail", template_id=template_id)
    return render(
        request,
        "review_templates/detail.html",
        _detail_context(request, template, properties_form=form),
    )


@require_POST
@login_required
def template_delete(request: HttpRequest, template_id: str) -> HttpResponse:
    template = _template_for(request, template_id, owner=True)
    name = template.name
    services.template_delete(template=template)
    messages.success(request, f"Deleted the template “{name}”. Workloads keep the answers it gave.")
    return redirect("review_templates:list")


@require_POST
@login_required
def template_share(request: HttpRequest, template_id: str) -> HttpResponse:
    template = _template_for(request, template_id, owner=True)
    form = TemplateShareForm(request.POST)
    if form.is_valid():
        user, role = form.cleaned_data["username"], form.cleaned_data["role"]
        try:
            if role:
                services.template_share(template=template, user=user, role=role)
            else:
                services.template_unshare(template=template, user=user)
        except services.TemplateError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Sharing saved.")
            return redirect("review_templates:detail", template_id=template_id)
    return render(
        request,
        "review_templates/detail.html",
        _detail_context(request, template, share_form=form),
    )


@require_POST
@login_required
def template_apply(request: HttpRequest, template_id: str) -> HttpResponse:
    """Apply to a workload: read access to the template, write access to the workload."""
    template = _template_for(request, template_id)
    form = ApplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick the workload to apply the template to.")
        return redirect("review_templates:detail", template_id=template_id)
    workload = get_workload_for_user(request, form.cleaned_data["workload"], write=True)
    try:
        changed = services.template_apply(template=template, workload=workload, user=request.user)
    except services.TemplateError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Applied “{template.name}” to {workload.name}: {changed} questions changed."
        )
    return redirect("review_templates:detail", template_id=template_id)


@require_POST
@login_required
def template_propagate(request: HttpRequest, template_id: str) -> HttpResponse:
    template = _template_for(request, template_id, owner=True)
    try:
        services.propagation_request(template=template, user=request.user)
    except services.TemplateError as exc:
        messages.error(request, exc.message)
    return redirect("review_templates:detail", template_id=template_id)


@require_GET
@login_required
def template_progress(request: HttpRequest, template_id: str) -> HttpResponse:
    """The propagation card alone, which the template page polls while one runs."""
    template = _template_for(request, template_id)
    context = {"template": template, "propagation": propagation_latest(template)}
    return render(request, "review_templates/_propagation.html", context)


# -- a template's question page --------------------------------------------------------------------


def _question_of(template_lens: TemplateLens, question_id: str) -> Question:
    question = (
        Question.objects.select_related("pillar")
        .prefetch_related("choices")
        .filter(pillar__lens_version=template_lens.lens_version, question_id=question_id)
        .first()
    )
    if question is None:
        raise Http404("No such question in this lens.")
    return question


def _lens_of(template: ReviewTemplate, alias: str) -> TemplateLens:
    template_lens = (
        template.lenses.select_related("lens", "lens_version").filter(lens__alias=alias).first()
    )
    if template_lens is None:
        raise Http404("The template does not answer this lens.")
    return template_lens


def _posted_choices(post, question: Question) -> dict[str, services.ChoiceSetting]:
    settings = {}
    for choice in question.choices.all():
        status = post.get(f"status-{choice.choice_id}", ChoiceAnswer.Status.UNSELECTED)
        settings[choice.choice_id] = services.ChoiceSetting(
            status=status,
            reason=post.get(f"reason-{choice.choice_id}", Reason.OTHER) or Reason.OTHER,
            notes=post.get(f"notes-{choice.choice_id}", ""),
        )
    return settings


@require_http_methods(["GET", "POST"])
@login_required
def template_question(
    request: HttpRequest, template_id: str, alias: str, question_id: str
) -> HttpResponse:
    """The template's answer to one question: GET shows it, POST saves all of it at once."""
    template = _template_for(request, template_id, write=request.method == "POST")
    template_lens = _lens_of(template, alias)
    question = _question_of(template_lens, question_id)
    error = None
    if request.method == "POST":
        try:
            if request.POST.get("action") == "clear":
                services.template_answer_clear(template_lens=template_lens, question=question)
                notice = "The template leaves this question to each workload now."
            else:
                services.template_answer_set(
                    template_lens=template_lens,
                    question=question,
                    user=request.user,
                    choices=_posted_choices(request.POST, question),
                    is_applicable=request.POST.get("applicable") != "no",
                    reason=request.POST.get("reason", Reason.NONE),
                    notes=request.POST.get("notes", ""),
                )
                notice = "Saved in the template."
        except services.TemplateError as exc:
            error = exc.message
        else:
            messages.success(request, notice)
            return redirect(
                "review_templates:question",
                template_id=template_id,
                alias=alias,
                question_id=question_id,
            )
    outline = lens_outline(template_lens)
    saved = template_lens.answers.filter(question=question).first()
    choices = []
    for choice in question.choices.all():
        setting = (saved.choices if saved else {}).get(choice.choice_id, {})
        if request.method == "POST":  # show what was sent, with the error
            setting = {
                "status": request.POST.get(f"status-{choice.choice_id}", "UNSELECTED"),
                "reason": request.POST.get(f"reason-{choice.choice_id}", ""),
                "notes": request.POST.get(f"notes-{choice.choice_id}", ""),
            }
        choices.append((choice, setting))
    ordered = [q for pillar in outline for q in pillar.question_list]
    index = next(i for i, q in enumerate(ordered) if q.pk == question.pk)
    context = {
        "template": template,
        "template_lens": template_lens,
        "question": question,
        "pillars": outline,
        "saved": saved,
        "choices": choices,
        "reasons": [(v, label) for v, label in Reason.choices if v != Reason.NONE],
        "can_write": template.role in (Role.OWNER, Role.CONTRIBUTOR),
        "error": error,
        "previous_question": ordered[index - 1] if index > 0 else None,
        "next_question": ordered[index + 1] if index + 1 < len(ordered) else None,
        "posted": request.POST if request.method == "POST" else None,
    }
    return render(request, "review_templates/question.html", context)
