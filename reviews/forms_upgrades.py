"""The form that upgrades a lens review: which newer version, and the milestone saved first."""

from __future__ import annotations

from typing import Any

from django import forms

from lenses.models import LensVersion


class UpgradeForm(forms.Form):
    version = forms.TypedChoiceField(label="Upgrade to", coerce=int)
    milestone_name = forms.CharField(
        label="Milestone saved first",
        min_length=3,
        max_length=100,
        help_text="Freezes the review as it is now, so it stays comparable after the upgrade.",
    )

    def __init__(self, *args: Any, versions: list[LensVersion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.versions = {version.pk: version for version in versions}
        self.fields["version"].choices = [(v.pk, v.label) for v in versions]

    def clean_milestone_name(self) -> str:
        # Django's CharField refuses NUL characters already.
        return " ".join(self.cleaned_data["milestone_name"].split())

    @property
    def target(self) -> LensVersion:
        return self.versions[self.cleaned_data["version"]]
