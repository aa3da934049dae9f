"""Forms of the people pages: they parse input; the rules are in people.services."""

from __future__ import annotations

from django import forms

from people.models import TEAM_NAME_MAX
from reviews.forms import UserField


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    name = forms.CharField(
        label="Name (optional)", required=False, max_length=150, help_text="To greet them."
    )


class InvitationAcceptForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    username = forms.CharField(
        max_length=150,
        help_text="Letters, digits and @ . + - _ only. You log in with it.",
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    # The service names the field at fault by the model's name for it.
    FIELDS = {"password": "password1", "username": "username", "first_name": "first_name"}

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return data


class TeamForm(forms.Form):
    name = forms.CharField(max_length=TEAM_NAME_MAX)
    description = forms.CharField(max_length=250, required=False)


class TeamMemberForm(forms.Form):
    user = UserField(
        label="Username or email",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class HandOverForm(forms.Form):
    workload = forms.CharField(max_length=32, widget=forms.HiddenInput)
    user = UserField(
        label="New owner (username or email)",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class AccountForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(max_length=254)


class FlagForm(forms.Form):
    """Grant or remove a flag (staff, portfolio viewer): the button says which."""

    value = forms.ChoiceField(choices=[("on", "Grant"), ("off", "Remove")])

    @property
    def granted(self) -> bool:
        return self.cleaned_data["value"] == "on"
