"""The account page's API keys: list, create (the secret is shown once) and revoke.

The key list is a partial (`api/account_keys.html#keys`) so that the account page can show it
too: its forms post here with htmx and swap the partial in place, wherever it is shown.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from api.identifiers import account_id
from api.keys import ApiKeyError, IssuedKey, api_key_create, api_key_revoke
from api.models import MAX_ACTIVE_KEYS, ApiKey
from reviews.views.htmx import wants_partial


class KeyActionForm(forms.Form):
    action = forms.ChoiceField(choices=[("create", "Create"), ("revoke", "Revoke")])
    key = forms.CharField(required=False, max_length=20)


def keys_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    """What the keys partial shows, for this page and for any page that includes it."""
    keys = list(ApiKey.objects.filter(user=request.user))
    return {
        "api_keys": keys,
        "api_keys_active": sum(1 for key in keys if key.revoked_at is None),
        "api_keys_max": MAX_ACTIVE_KEYS,
        "api_endpoint": request.build_absolute_uri("/aws"),
        "api_account_id": account_id(request.user.pk),
        **extra,
    }


@require_http_methods(["GET", "POST"])
@login_required
def account_keys(request: HttpRequest) -> HttpResponse:
    issued: IssuedKey | None = None
    notice = error = None
    if request.method == "POST":
        form = KeyActionForm(request.POST)
        if not form.is_valid():
            error = "Choose to create a key or to revoke one."
        else:
            try:
                if form.cleaned_data["action"] == "create":
                    issued = api_key_create(user=request.user)
                else:
                    key = api_key_revoke(user=request.user, access_key_id=form.cleaned_data["key"])
                    notice = f"Key {key.access_key_id} is revoked: it no longer signs requests."
            except ApiKeyError as exc:
                error = exc.message
    context = keys_context(request, issued=issued, notice=notice, error=error)
    template = "api/account_keys.html"
    response = render(request, f"{template}#keys" if wants_partial(request) else template, context)
    # The page may carry a secret: no cache, no back button, may keep it.
    response["Cache-Control"] = "private, no-store"
    return response
