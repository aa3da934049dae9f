"""Branding: the organisation's name and logo on report covers and page headers (staff only)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from reviews.forms_reports import BrandingForm
from reviews.models import Branding
from reviews.reports.rendering import logo_data_uri
from reviews.views.htmx import wants_partial


@require_http_methods(["GET", "POST"])
@login_required
def branding(request: HttpRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise PermissionDenied("Only staff set the branding.")
    current = Branding.current()
    old_logo = current.logo.name if current.logo else ""
    # Read before the form is bound: binding writes the submitted values into `current`.
    preview = logo_data_uri(current)
    form = BrandingForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        instance=current,
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save(commit=False)
            if form.cleaned_data.get("remove_logo") and "logo" not in request.FILES:
                saved.logo = ""
            saved.save()
            new_logo = saved.logo.name if saved.logo else ""
            if old_logo and old_logo != new_logo:
                # The old file goes once the new row is committed, never before.
                storage = Branding.logo.field.storage
                transaction.on_commit(lambda: storage.delete(old_logo))
        messages.success(request, "Saved the branding. New reports use it.")
        return redirect("reviews:branding")
    context = {"form": form, "logo": preview}
    if wants_partial(request):
        return render(request, "reports/branding.html#form", context)
    return render(request, "reports/branding.html", context)
