import base64

from django import forms
from django.conf import settings


class LensUploadForm(forms.Form):
    NEW_VERSION, SEPARATE = "version", "separate"

    file = forms.FileField(
        label="Lens file", required=False, help_text="A custom-lens JSON file, at most 500 KB."
    )
    alias = forms.SlugField(
        required=False,
        max_length=128,
        help_text="Optional. Leave empty to derive it from the lens name; "
        "an existing alias adds a new draft version to that lens.",
    )
    # The second step, when the file's name or alias matches a lens here: the file comes back
    # in a hidden field (browsers do not keep a chosen file), and staff say what it is.
    content = forms.CharField(required=False, widget=forms.HiddenInput)
    target = forms.ChoiceField(
        required=False,
        widget=forms.RadioSelect,
        label="This file is",
        choices=[(NEW_VERSION, "a new version of that lens"), (SEPARATE, "a separate lens")],
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload and upload.size > settings.LENS_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size:,} bytes; a lens file may be at most "
                f"{settings.LENS_MAX_BYTES:,} bytes."
            )
        return upload

    def clean_content(self) -> bytes | None:
        content = self.cleaned_data["content"]
        if not content:
            return None
        try:
            raw = base64.b64decode(content, validate=True)
        except ValueError as exc:
            raise forms.ValidationError("The file sent back is damaged; upload it again.") from exc
        if len(raw) > settings.LENS_MAX_BYTES:
            raise forms.ValidationError("The file sent back is too large; upload it again.")
        return raw

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("file") and not cleaned.get("content"):
            self.add_error("file", "Choose a lens file to import.")
        return cleaned

    @property
    def raw(self) -> bytes:
        upload = self.cleaned_data.get("file")
        return upload.read() if upload else self.cleaned_data["content"]


class PublishForm(forms.Form):
    # The service checks the name's form and uniqueness; its message is shown on the field.
    version = forms.CharField(max_length=32, help_text="For example 1.0 or 2.3.")
