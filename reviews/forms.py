"""Forms of the review app: workload properties, the workload list's filter, lenses and sharing."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.validators import URLValidator
from django.db.models import Q
from django.template.loader import render_to_string

from lenses.models import Pillar
from people.models import Team
from reviews.models import NOTES_MAX, Role, Workload, name_key
from reviews.services import WORKLOAD_FIELDS

MAX_TAGS = 50
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
MAX_REGIONS = 50
REGION_MAX = 100


def moved(order: list[str], move: str) -> list[str]:
    """`order` with one pillar moved a place: `move` is "<pillar id>:up" or "<pillar id>:down".

    A move that names no pillar of the list, or would leave it, changes nothing.
    """
    pillar_id, _, direction = move.rpartition(":")
    if pillar_id not in order or direction not in ("up", "down"):
        return list(order)
    place = order.index(pillar_id)
    other = place - 1 if direction == "up" else place + 1
    if not 0 <= other < len(order):
        return list(order)
    result = list(order)
    result[place], result[other] = result[other], result[place]
    return result


class PillarOrderWidget(forms.Widget):
    """The pillars as an ordered list, each with "Move up" and "Move down" buttons.

    It works without JavaScript: each button submits the whole form with `pillar_move` set, and
    the form comes back with that pillar moved and nothing saved (see WorkloadForm). The order
    travels in hidden inputs, one per pillar.
    """

    template_name = "reviews/widgets/pillar_order.html"
    MOVE = "pillar_move"

    def __init__(self, names: dict[str, str] | None = None, attrs: dict | None = None) -> None:
        super().__init__(attrs)
        self.names = names or {}
        self.move = ""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        order = data.getlist(name) if hasattr(data, "getlist") else list(data.get(name) or [])
        self.move = data.get(self.MOVE) or ""
        return moved(order, self.move)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data

    def format_value(self, value: Any) -> list[str]:
        return list(value or [])

    def get_context(self, name: str, value: Any, attrs: dict | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        order = context["widget"]["value"]
        moved_id, _, direction = self.move.rpartition(":")
        pillars = []
        for place, pillar_id in enumerate(order):
            first, last = place == 0, place == len(order) - 1
            focus = ""
            if pillar_id == moved_id:
                # The focus stays on the pillar just moved, so that it can be moved on.
                focus = "down" if (direction == "down" and not last) or first else "up"
            pillars.append(
                {
                    "id": pillar_id,
                    "name": self.names.get(pillar_id, pillar_id),
                    "first": first,
                    "last": last,
                    "focus": focus,
                }
            )
        context["widget"]["pillars"] = pillars
        return context

    def render(self, name: str, value: Any, attrs: dict | None = None, renderer: Any = None) -> str:
        # The project's templates, not the form renderer's own folders.
        return render_to_string(self.template_name, self.get_context(name, value, attrs))


class PillarOrderField(forms.Field):
    """Every pillar exactly once, most important first."""

    def __init__(self, *, pillars: list[Pillar], **kwargs: Any) -> None:
        self.pillar_ids = [pillar.pillar_id for pillar in pillars]
        names = {pillar.pillar_id: pillar.name for pillar in pillars}
        super().__init__(widget=PillarOrderWidget(names), **kwargs)

    def to_python(self, value: Any) -> list[str]:
        return [str(item) for item in value or []]

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        if value and sorted(value) != sorted(self.pillar_ids):
            raise forms.ValidationError(
                "The pillar order must name each pillar once. Reload the page and order them again."
            )


class LinesField(forms.CharField):
    """A textarea whose lines (or comma-separated items) become a list of strings."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(value)
        return value

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value)
        items: list[str] = []
        for item in re.split(r"[\n,]", text):
            item = item.strip()
            if item and item not in items:
                items.append(item)
        return items

    def validate(self, value: list[str]) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if len(value) > MAX_REGIONS:
            raise forms.ValidationError(f"At most {MAX_REGIONS} regions ({len(value)} given).")
        for item in value:
            if len(item) > REGION_MAX:
                raise forms.ValidationError(
                    f"A region is at most {REGION_MAX} characters: “{item[:40]}…” is longer."
                )

    def run_validators(self, value: Any) -> None:
        # The length limits of CharField apply to each item (checked above), not to the list.
        return None


class TagsField(forms.CharField):
    """`key=value` lines become a dict; the value may be empty, the key may not."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return "\n".join(f"{key}={val}" for key, val in value.items())
        return value

    def to_python(self, value: Any) -> dict[str, str]:
        text = super().to_python(value)
        tags: dict[str, str] = {}
        errors: list[str] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            key, equals, val = line.partition("=")
            key, val = key.strip(), val.strip()
            if not equals or not key:
                errors.append(f"Line {number}: write a tag as key=value (“{line.strip()[:40]}”).")
            elif len(key) > TAG_KEY_MAX:
                errors.append(f"Line {number}: a tag key is at most {TAG_KEY_MAX} characters.")
            elif len(val) > TAG_VALUE_MAX:
                errors.append(f"Line {number}: a tag value is at most {TAG_VALUE_MAX} characters.")
            elif key in tags:
                errors.append(f"Line {number}: the key “{key}” is given twice.")
            else:
                tags[key] = val
        if len(tags) > MAX_TAGS:
            errors.append(f"At most {MAX_TAGS} tags ({len(tags)} given).")
        if errors:
            raise forms.ValidationError(errors)
        return tags

    def run_validators(self, value: Any) -> None:
        return None


class WebURLField(forms.URLField):
    """An http or https URL: no javascript:, data: or ftp: links on the workload page."""

    default_error_messages = {"invalid": "Enter a web address (http or https)."}
    default_validators = [URLValidator(schemes=["http", "https"])]


class WorkloadForm(forms.ModelForm):
    """Workload properties, and the pillar priorities as a list to move pillars up and down in.

    A "Move up" or "Move down" button posts the form as it is: it comes back unbound (nothing
    saved, no errors shown) with what was typed kept and the pillar moved.
    """

    name = forms.CharField(
        min_length=3,
        max_length=100,
        help_text="3 to 100 characters, unique: case and spaces do not count.",
    )
    description = forms.CharField(
        min_length=3,
        max_length=250,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="3 to 250 characters: what the workload does and for whom.",
    )
    regions = LinesField(
        required=False,
        help_text="One region per line or separated by commas, for example eu-west-1.",
    )
    review_owner = forms.CharField(
        max_length=255,
        help_text="The person or team who owns the review of this workload.",
    )
    architectural_design_url = WebURLField(
        label="Architectural design",
        required=False,
        max_length=2048,
        assume_scheme="https",
        help_text="A link to the architecture diagram or document (http or https).",
    )
    notes = forms.CharField(
        required=False,
        max_length=NOTES_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=f"At most {NOTES_MAX:,} characters.",
    )
    tags = TagsField(
        required=False,
        help_text=f"One key=value per line, at most {MAX_TAGS} tags "
        f"(key up to {TAG_KEY_MAX} characters, value up to {TAG_VALUE_MAX}).",
    )

    class Meta:
        model = Workload
        # The pillar order has a field of its own (PillarOrderField below).
        fields = [name for name in WORKLOAD_FIELDS if name != "pillar_priorities"]
        labels = {"industry_type": "Industry type"}
        help_texts = {"industry": "For example “Retail banking”."}

    def __init__(self, *args: Any, pillars: list[Pillar], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pillars = pillars
        self.fields["environment"].choices = [("", "Choose…"), *Workload.Environment.choices]
        self.fields["industry_type"].choices = [("", "Not given"), *Workload.IndustryType.choices]
        ids = [pillar.pillar_id for pillar in pillars]
        current = [pid for pid in (self.instance.pillar_priorities or []) if pid in ids]
        current += [pid for pid in ids if pid not in current]
        if pillars:
            self.fields["pillar_priorities"] = PillarOrderField(
                pillars=pillars, initial=current, required=False, label="Pillar priorities"
            )
        self.moving = self.is_bound and bool(self.data.get(PillarOrderWidget.MOVE))
        if self.moving:
            self.initial = {
                name: field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
                for name, field in self.fields.items()
            }
            self.is_bound = False

    @property
    def property_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.Meta.fields]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        key = name_key(name)
        if len(key) < 3:
            raise forms.ValidationError("A name has at least 3 characters besides spaces.")
        # Whether another workload has the name is the service's check (workload_create,
        # workload_update), so that every interface makes it; the view shows it on this field.
        return name

    def clean_pillar_priorities(self) -> list[str]:
        # Left out of the post, the order stays as it was.
        order = self.cleaned_data["pillar_priorities"] or self.fields["pillar_priorities"].initial
        # Set here because the model form copies only Meta.fields onto the instance.
        self.instance.pillar_priorities = order
        return order

    def workload_fields(self) -> dict[str, Any]:
        """The cleaned values as keyword arguments for `workload_create`."""
        fields = {name: self.cleaned_data[name] for name in self.Meta.fields}
        fields["pillar_priorities"] = self.instance.pillar_priorities
        return fields


class WorkloadFilterForm(forms.Form):
    """The list's filters, sort order and page; invalid values fall back to no filter."""

    SORTS = {
        "name": ("name_key",),
        "owner": ("owner__username", "name_key"),
        "environment": ("environment", "name_key"),
        "answered": ("answered", "name_key"),
        "high": ("high", "medium", "name_key"),
        "medium": ("medium", "name_key"),
        "updated": ("last_updated", "name_key"),
    }

    environment = forms.ChoiceField(
        required=False, choices=[("", "All environments"), *Workload.Environment.choices]
    )
    tag = forms.CharField(
        required=False,
        max_length=TAG_KEY_MAX + TAG_VALUE_MAX + 1,
        help_text="key or key=value",
    )
    team = forms.CharField(
        required=False,
        max_length=100,
        help_text="Workloads shared with the team or owned by one of its members",
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[(key, key) for key in SORTS] + [(f"-{key}", f"-{key}") for key in SORTS],
        widget=forms.HiddenInput,
    )
    page = forms.IntegerField(required=False, min_value=1)

    def value(self, name: str) -> str:
        # cleaned_data keeps the valid fields even when another one is invalid.
        self.is_valid()
        return self.cleaned_data.get(name) or ""

    def order_by(self) -> list[str]:
        """Every sort ends with the unique name key, so equal values keep a stable order."""
        sort = self.value("sort") or "name"
        fields = self.SORTS[sort.lstrip("-")]
        if sort.startswith("-"):
            return [f"-{field}" for field in fields]
        return list(fields)

    def tag_filter(self) -> tuple[str, str | None] | None:
        """The tag filter as (key, value), value None for "has this key"; None for no filter."""
        text = self.value("tag").strip()
        if not text:
            return None
        key, equals, value = text.partition("=")
        return (key.strip(), value.strip() if equals else None)


class LensChangeForm(forms.Form):
    action = forms.ChoiceField(choices=[("add", "Add"), ("remove", "Remove")])
    lens = forms.SlugField(max_length=128, error_messages={"required": "Choose a lens."})


def find_user(text: str) -> AbstractBaseUser | None:
    """An active user by exact username, else by username or email ignoring case."""
    users = get_user_model().objects.filter(is_active=True)
    user = users.filter(username=text).first()
    if user is None:
        matches = list(users.filter(Q(username__iexact=text) | Q(email__iexact=text))[:2])
        user = matches[0] if len(matches) == 1 else None
    return user


class UserField(forms.CharField):
    """A username or email address that must name exactly one active user."""

    def clean(self, value: Any) -> AbstractBaseUser:
        text = super().clean(value)
        user = find_user(text)
        if user is None:
            raise forms.ValidationError(
                f"No user “{text}”. Check the username or email address "
                "(a shared email address needs the username)."
            )
        return user


class ShareForm(forms.Form):
    user = UserField(
        label="Username or email",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    role = forms.ChoiceField(
        choices=[(Role.CONTRIBUTOR, "Contributor"), (Role.READONLY, "Read-only")],
        initial=Role.CONTRIBUTOR,
    )


class TeamShareForm(forms.Form):
    # On the same page as ShareForm, which has a `role` field too: keep the ids apart.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "team_%s")
        super().__init__(*args, **kwargs)

    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name_key"),
        empty_label="Choose a team",
        error_messages={
            "required": "Choose a team.",
            "invalid_choice": "There is no such team (it may just have been deleted).",
        },
    )
    role = forms.ChoiceField(
        choices=[(Role.CONTRIBUTOR, "Contributor"), (Role.READONLY, "Read-only")],
        initial=Role.READONLY,
    )


class MemberForm(forms.Form):
    action = forms.ChoiceField(choices=[("role", "Change role"), ("revoke", "Revoke")])
    role = forms.ChoiceField(
        required=False, choices=[(Role.CONTRIBUTOR, "Contributor"), (Role.READONLY, "Read-only")]
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("action") == "role" and not cleaned.get("role"):
            self.add_error("role", "Choose a role.")
        return cleaned


class TransferForm(forms.Form):
    # Shown on the same page as ShareForm, which has a `user` field too: keep the ids apart.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "transfer_%s")
        super().__init__(*args, **kwargs)

    user = UserField(
        label="New owner (username or email)",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    confirm = forms.BooleanField(
        label="I understand that the new owner takes over sharing and deletion, "
        "and that I stay on as a contributor.",
        error_messages={"required": "Tick the box to confirm the hand-over."},
    )
