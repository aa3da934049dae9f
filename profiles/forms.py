from __future__ import annotations

import json
from typing import Any

from django import forms

from profiles import profile_format
from profiles.models import DESCRIPTION_MAX, NAME_MAX, Profile

STARTER_QUESTIONS = [
    {
        "id": "context",
        "title": "Which business context fits the workload best?",
        "description": "",
        "selectionType": "SINGLE",
        "choices": [
            {
                "id": "regulated",
                "title": "Regulated data",
                "description": "",
                "prioritises": [{"lens": "wellarchitected", "question": "sec6"}],
                "pillarOrder": ["security", "reliability"],
            }
        ],
    }
]


class ProfileForm(forms.Form):
    """A profile's name, description and questions (JSON, checked as a profile file is)."""

    name = forms.CharField(max_length=NAME_MAX, min_length=3)
    description = forms.CharField(
        max_length=DESCRIPTION_MAX, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    questions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false", "class": "code"}),
        help_text="The questions as JSON: see the format beside this form.",
    )

    def __init__(self, *args: Any, profile: Profile | None = None, **kwargs: Any) -> None:
        if profile is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": profile.name,
                    "description": profile.description,
                    "questions": json.dumps(
                        profile_format.in_file_order(profile.questions),
                        indent=2,
                        ensure_ascii=False,
                    ),
                },
            )
        else:
            kwargs.setdefault("initial", {"questions": json.dumps(STARTER_QUESTIONS, indent=2)})
        super().__init__(*args, **kwargs)
        self.problems: list[str] = []

    def clean_questions(self) -> list[dict[str, Any]]:
        text = self.cleaned_data["questions"]
        try:
            data = json.loads(text, parse_constant=_refuse)
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from None
        try:
            return profile_format.check_questions(data)
        except profile_format.ProfileFileError as exc:
            self.problems = exc.errors
            raise forms.ValidationError(
                f"{len(exc.errors)} problem{'s' if len(exc.errors) != 1 else ''} in the questions."
            ) from None

    def document(self) -> dict[str, Any]:
        return {
            "schemaVersion": profile_format.SCHEMA_VERSION,
            "name": self.cleaned_data["name"].strip(),
            "description": self.cleaned_data["description"].strip(),
            "questions": self.cleaned_data["questions"],
        }


def _refuse(name: str) -> None:
    raise ValueError(f"{name} is not allowed in JSON")


class ProfileImportForm(forms.Form):
    file = forms.FileField(help_text="A profile exported from Archlens, or written by hand.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > profile_format.FILE_MAX:
            raise forms.ValidationError(
                f"The file is larger than {profile_format.FILE_MAX // 1000} kB."
            )
        return upload


class WorkloadProfileForm(forms.Form):
    """The answers to one profile's questions: a field per question, named after its id."""

    follows_pillar_order = forms.BooleanField(
        required=False,
        label="Take the workload's pillar order from the profile",
        help_text="The pillars the ticked choices put first lead every page of the review.",
    )

    def __init__(self, *args: Any, profile: Profile, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.profile = profile
        for question in profile.questions:
            options = [(choice["id"], choice["title"]) for choice in question["choices"]]
            field_class = (
                forms.MultipleChoiceField
                if question["selectionType"] == "MULTIPLE"
                else forms.ChoiceField
            )
            widget = (
                forms.CheckboxSelectMultiple
                if question["selectionType"] == "MULTIPLE"
                else forms.RadioSelect
            )
            self.fields[f"q_{question['id']}"] = field_class(
                choices=options,
                required=False,
                widget=widget,
                label=question["title"],
                help_text=question["description"],
            )

    def answers(self) -> dict[str, list[str]]:
        answers = {}
        for question in self.profile.questions:
            value = self.cleaned_data.get(f"q_{question['id']}") or []
            answers[question["id"]] = [value] if isinstance(value, str) else list(value)
        return {key: value for key, value in answers.items() if value}
