from django import forms
from django.conf import settings


class LensUploadForm(forms.Form):
    file = forms.FileField(label="Lens file", help_text="A custom-lens JSON file, at most 500 KB.")
    alias = forms.SlugField(
        required=False,
        max_length=128,
        help_text="Optional. Leave empty to derive it from the lens name; "
        "an existing alias adds a new draft version to that lens.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.LENS_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size:,} bytes; a lens file may be at most "
                f"{settings.LENS_MAX_BYTES:,} bytes."
            )
        return upload


class PublishForm(forms.Form):
    # The service checks the name's form and uniqueness; its message is shown on the field.
    version = forms.CharField(max_length=32, help_text="For example 1.0 or 2.3.")
