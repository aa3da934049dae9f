"""Forms of the improvement plan: one item edited in place, and one change for many items."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser

from reviews.improvements import KEEP, BulkChange, ItemChange, person_label
from reviews.models import NOTES_MAX, ImprovementItem, ImprovementStatus

NOT_A_MEMBER = "The assignee must be someone this workload is shared with."
BAD_DATE = "Enter the due date as a date, like 2030-06-30."
NOBODY = "none"


def assignee_choices(people: list[AbstractBaseUser]) -> list[tuple[int, str]]:
    return [(person.pk, person_label(person)) for person in people]


class ItemForm(forms.Form):
    status = forms.ChoiceField(choices=ImprovementStatus.choices)
    assignee = forms.TypedChoiceField(
        coerce=int,
        empty_value=None,
        required=False,
        error_messages={"invalid_choice": NOT_A_MEMBER},
    )
    due_date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": BAD_DATE},
    )
    comment = forms.CharField(
        required=False,
        max_length=NOTES_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required for “Risk acknowledged”: why the risk is accepted.",
        error_messages={
            "max_length": f"The comment is at most {NOTES_MAX:,} characters "
            "(it has %(show_value)d)."
        },
    )

    def __init__(self, *args, item: ImprovementItem, people: list[AbstractBaseUser], **kwargs):
        self.item = item
        kwargs.setdefault("auto_id", f"item-{item.pk}-%s")
        kwargs.setdefault("label_suffix", "")
        if not args and "data" not in kwargs:
            kwargs["initial"] = {
                "status": item.status,
                "assignee": item.assignee_id,
                "due_date": item.due_date,
                "comment": item.comment,
            }
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", "Nobody"), *assignee_choices(people)]

    def change(self) -> ItemChange:
        data = self.cleaned_data
        return ItemChange(data["status"], data["assignee"], data["due_date"], data["comment"])


class ItemIdsField(forms.Field):
    """The ids of the ticked items (checkboxes of one name); the service checks they exist."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": "Tick the items to change first.",
        "invalid": "Some ticked items are not in this plan. Reload the plan.",
    }

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, list | tuple) else [value] if value else []
        ids = set()
        for text in values:
            # isdecimal() alone would let "²" and other Unicode digits through to int().
            if not (
                isinstance(text, str) and text.isascii() and text.isdecimal() and len(text) < 12
            ):
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            ids.add(int(text))
        return sorted(ids)


class BulkForm(forms.Form):
    """Set a status, an assignee or a due date for the ticked items; blank keeps each one's."""

    items = ItemIdsField()
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Keep"), *ImprovementStatus.choices]
    )
    assignee = forms.ChoiceField(
        label="Assignee", required=False, error_messages={"invalid_choice": NOT_A_MEMBER}
    )
    due_date = forms.DateField(
        label="Due date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": BAD_DATE},
    )
    reason = forms.CharField(
        label="Comment",
        required=False,
        max_length=500,
        help_text="Added to each item’s comment; the reason is required for “Risk acknowledged”.",
    )

    def __init__(self, *args: Any, people: list[AbstractBaseUser], **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "bulk-%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [
            ("", "Keep"),
            (NOBODY, "Nobody"),
            *assignee_choices(people),
        ]

    def ticked(self) -> set[int]:
        """The ids ticked in the posted form (valid or not), to keep them ticked on an error."""
        if not self.is_bound:
            return set()
        values = self.data.getlist("items")
        return {int(v) for v in values if v.isascii() and v.isdecimal() and len(v) < 12}

    def change(self) -> BulkChange:
        data = self.cleaned_data
        assignee = data["assignee"]
        due: datetime.date | None = data["due_date"]
        return BulkChange(
            status=data["status"] or KEEP,
            assignee_id=KEEP if not assignee else None if assignee == NOBODY else int(assignee),
            due_date=due or KEEP,
            reason=data["reason"],
        )
