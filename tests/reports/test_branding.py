"""The branding settings page: staff set the organisation name and a PNG or JPEG logo."""

import io
import warnings

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from reviews.forms_reports import LOGO_MAX_BYTES
from reviews.models import Branding
from tests.reports.conftest import HTMX, image_bytes

URL = reverse("reviews:branding")


def upload(content: bytes, name: str = "logo.png", content_type: str = "image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_staff_set_the_name_and_logo(client, admin_user, media_root):
    client.force_login(admin_user)

    response = client.post(
        URL, {"organisation_name": "Acme Corporation", "logo": upload(image_bytes("PNG"))}
    )

    assert response.status_code == 302
    branding = Branding.current()
    assert branding.organisation_name == "Acme Corporation"
    assert branding.logo.name.startswith("branding/logo") and branding.logo.name.endswith(".png")
    page = client.get(URL).content.decode()
    assert "Acme Corporation" in page
    assert 'src="data:image/png;base64,' in page


def test_a_jpeg_is_stored_as_jpeg_whatever_its_name(client, admin_user):
    client.force_login(admin_user)

    client.post(URL, {"organisation_name": "Acme", "logo": upload(image_bytes("JPEG"))})

    assert Branding.current().logo.name.endswith(".jpg")


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (image_bytes("GIF"), "logo.gif", "File extension “gif” is not allowed"),
        (image_bytes("GIF"), "logo.png", "must be a PNG or JPEG"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>", "logo.svg", "valid image"),
        (b"not an image at all", "logo.png", "valid image"),
    ],
)
def test_other_files_are_refused(client, admin_user, content, name, message):
    client.force_login(admin_user)

    response = client.post(URL, {"organisation_name": "Acme", "logo": upload(content, name)})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Branding.objects.exists()


def test_a_logo_over_one_megabyte_is_refused(client, admin_user):
    client.force_login(admin_user)
    # Noise does not compress: a PNG of random pixels is large.
    import os

    from PIL import Image

    side = 700
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    import io

    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    assert len(buffer.getvalue()) > LOGO_MAX_BYTES

    response = client.post(URL, {"organisation_name": "Acme", "logo": upload(buffer.getvalue())})

    assert response.status_code == 200
    assert "larger than 1 MB" in response.content.decode()


def blank_png(width: int, height: int) -> bytes:
    """A real PNG of that many pixels: one bit each and all white, so it compresses to little."""
    buffer = io.BytesIO()
    Image.new("1", (width, height), 1).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_logo_of_at_most_2000_by_2000_pixels_is_accepted(client, admin_user):
    client.force_login(admin_user)

    response = client.post(URL, {"organisation_name": "Acme", "logo": upload(blank_png(2000, 800))})

    assert response.status_code == 302
    assert Branding.current().logo


@pytest.mark.parametrize("size", [(9400, 9400), (2001, 100), (100, 2001)])
def test_a_logo_of_more_pixels_is_refused_saying_its_size(client, admin_user, size):
    client.force_login(admin_user)
    content = blank_png(*size)
    assert len(content) < LOGO_MAX_BYTES  # small as a file, huge once drawn

    response = client.post(URL, {"organisation_name": "Acme", "logo": upload(content)})

    assert response.status_code == 200
    body = response.content.decode()
    assert f"The logo is {size[0]} × {size[1]} pixels; at most 2000 × 2000" in body
    assert not Branding.objects.exists()


@pytest.mark.parametrize("warnings_as_errors", [False, True])
@pytest.mark.parametrize("side", [10_000, 14_000])
def test_a_decompression_bomb_is_refused_as_too_large(client, admin_user, side, warnings_as_errors):
    """Past Pillow's limits (a warning above 89 million pixels, an error above twice that)."""
    client.force_login(admin_user)
    content = blank_png(side, side)

    with warnings.catch_warnings():
        warnings.simplefilter("error" if warnings_as_errors else "ignore")
        response = client.post(URL, {"organisation_name": "Acme", "logo": upload(content)})

    assert response.status_code == 200
    body = response.content.decode()
    assert "at most 2000 × 2000 pixels" in body
    assert "valid image" not in body
    assert not Branding.objects.exists()


def test_the_form_says_how_large_a_logo_may_be(client, admin_user):
    client.force_login(admin_user)

    assert "at most 2000 × 2000 pixels" in client.get(URL).content.decode()


def test_replacing_or_removing_the_logo_deletes_the_old_file(
    client, admin_user, media_root, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    client.post(URL, {"organisation_name": "Acme", "logo": upload(image_bytes("PNG"))})
    first = Branding.current().logo.name

    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, {"organisation_name": "Acme", "logo": upload(image_bytes("JPEG"))})
    second = Branding.current().logo.name
    assert not (media_root / first).exists()
    assert (media_root / second).exists()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, {"organisation_name": "Acme", "remove_logo": "on"})
    assert not Branding.current().logo
    assert not (media_root / second).exists()
    assert Branding.objects.count() == 1


def test_it_requires_login(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_is_for_staff_only(client, alice, workload):
    client.force_login(alice)

    assert client.get(URL).status_code == 403
    assert client.post(URL, {"organisation_name": "Evil"}).status_code == 403
    assert not Branding.objects.exists()


def test_it_rejects_other_methods(client, admin_user):
    client.force_login(admin_user)

    assert client.delete(URL).status_code == 405


def test_its_htmx_request_returns_the_form_partial(client, admin_user):
    client.force_login(admin_user)

    response = client.get(URL, **HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card branding" id="branding">')
    assert "<html" not in body
