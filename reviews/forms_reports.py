"""Forms of the report pages: ask for a lens review report or a consolidated one; branding."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import FileExtensionValidator
from PIL import Image

from reviews.models import Branding, LensReview, Milestone, Report, Workload

PAPER_CHOICES = [("A4", "A4"), ("LETTER", "Letter")]
LOGO_MAX_BYTES = 1024 * 1024
# Each report draws the logo from its pixels: a 9400 × 9400 PNG of 258 KB cost every report
# 4–6 s and about 500 MB. 2000 px a side is plenty for a cover and costs a fraction of a second.
LOGO_MAX_SIDE = 2000
LOGO_TOO_LARGE = f"at most {LOGO_MAX_SIDE} × {LOGO_MAX_SIDE} pixels"
LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg"}
TAG_MAX = 200


class LensReportForm(forms.Form):
    lens = forms.ChoiceField(label="Lens")
    milestone = forms.TypedChoiceField(label="State", coerce=int, required=False, empty_value=None)
    paper = forms.ChoiceField(label="Paper", choices=PAPER_CHOICES, initial="A4", required=False)

    def clean_paper(self) -> str:
        return self.cleaned_data["paper"] or "A4"

    def __init__(
        self, *args: Any, lens_reviews: list[LensReview], milestones: list[Milestone], **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.fields["lens"].choices = [(r.lens.alias, r.lens.name) for r in lens_reviews]
        self.fields["milestone"].choices = [("", "Current state")] + [
            (m.number, f"Milestone {m.number}: {m.name}") for m in reversed(milestones)
        ]


class ConsolidatedReportForm(forms.Form):
    format = forms.ChoiceField(label="Format", choices=Report.Format.choices, initial="PDF")
    environment = forms.ChoiceField(
        label="Environment",
        required=False,
        choices=[("", "All environments"), *Workload.Environment.choices],
    )
    tag = forms.CharField(
        label="Tag", required=False, max_length=TAG_MAX, help_text="key or key=value"
    )
    owner = forms.ChoiceField(label="Owner", required=False)
    # The dashboard's "workloads where this question is at risk" filter (lens-alias:question-id).
    question = forms.CharField(required=False, max_length=300, widget=forms.HiddenInput)
    # The dashboard's team filter (a team's name; see WorkloadQuerySet.of_team).
    team = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)
    paper = forms.ChoiceField(
        label="Paper (PDF)", choices=PAPER_CHOICES, initial="A4", required=False
    )

    def __init__(self, *args: Any, owners: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "Anyone"), *((o, o) for o in owners)]

    def filters(self) -> dict[str, str]:
        """What Report.filters keeps: the filters that are set, and the paper size."""
        data = self.cleaned_data
        keys = ("environment", "tag", "owner", "question", "team")
        filters = {key: data[key].strip() for key in keys if data[key].strip()}
        filters["paper"] = data["paper"] or "A4"
        return filters


class LogoField(forms.ImageField):
    """An image field that calls a decompression bomb too large rather than not an image.

    Django's ImageField reads only the image's header and checks its chunks, never its pixels;
    Pillow refuses (or, between its two limits, warns about) an image of very many pixels, and
    Django reports either as "not a valid image", which would send the person looking for a
    broken file.
    """

    def to_python(self, data: Any) -> Any:
        try:
            return super().to_python(data)
        except ValidationError as exc:
            bomb = (Image.DecompressionBombError, Image.DecompressionBombWarning)
            if isinstance(exc.__cause__, bomb):
                raise ValidationError(
                    f"The logo has far too many pixels; it may be {LOGO_TOO_LARGE}.",
                    code="logo_too_large",
                ) from exc
            raise


class BrandingForm(forms.ModelForm):
    logo = LogoField(
        required=False,
        help_text=(
            f"PNG or JPEG, at most 1 MB and {LOGO_TOO_LARGE}. Shown on report covers and page "
            "headers."
        ),
        validators=[FileExtensionValidator(["png", "jpg", "jpeg"])],
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg"}),
    )
    remove_logo = forms.BooleanField(label="Remove the logo", required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not self.instance.logo:
            del self.fields["remove_logo"]

    class Meta:
        model = Branding
        fields = ["organisation_name", "logo"]
        help_texts = {"organisation_name": "Shown on report covers and page headers."}

    def clean_logo(self) -> Any:
        logo = self.cleaned_data.get("logo")
        if not isinstance(logo, UploadedFile):  # nothing new uploaded
            return logo
        if logo.size > LOGO_MAX_BYTES:
            raise ValidationError("The logo is larger than 1 MB.")
        # forms.ImageField has opened the file with Pillow: trust its reading, not the name.
        image = getattr(logo, "image", None)
        image_format = getattr(image, "format", None)
        if image_format not in LOGO_FORMATS:
            raise ValidationError("The logo must be a PNG or JPEG image.")
        width, height = image.size  # from the header: the pixels are never decoded here
        if width > LOGO_MAX_SIDE or height > LOGO_MAX_SIDE:
            raise ValidationError(
                f"The logo is {width} × {height} pixels; {LOGO_TOO_LARGE} are allowed. "
                "Scale it down and upload it again."
            )
        logo.name = f"logo.{LOGO_FORMATS[image_format]}"
        return logo
