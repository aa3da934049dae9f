"""Deleting a draft, tags given at import, and the field a bad version name is about."""

import pytest

from lenses.models import Lens, LensVersion
from lenses.services import LensError, lens_draft_delete, lens_import, lens_version_publish
from reviews.errors import Kind
from tests.factories import lens_bytes, lens_document

pytestmark = pytest.mark.django_db


def test_deleting_the_draft_keeps_the_published_versions(admin_user):
    published = lens_version_publish(
        lens_version=lens_import(raw=lens_bytes(name="Team Lens"), user=admin_user), version="1.0"
    )
    lens_import(raw=lens_bytes(lens_document(name="Team Lens", questions=3)), user=admin_user)
    lens_draft_delete(lens=published.lens)
    assert list(LensVersion.objects.all()) == [published]


def test_deleting_the_only_draft_deletes_the_lens(admin_user):
    draft = lens_import(raw=lens_bytes(name="Team Lens"), user=admin_user)
    lens_draft_delete(lens=draft.lens)
    assert not Lens.objects.exists()


def test_a_lens_without_a_draft_has_no_draft_to_delete(admin_user):
    published = lens_version_publish(
        lens_version=lens_import(raw=lens_bytes(name="Team Lens"), user=admin_user), version="1.0"
    )
    with pytest.raises(LensError) as raised:
        lens_draft_delete(lens=published.lens)
    assert raised.value.kind is Kind.NOT_FOUND


def test_tags_given_at_import_are_added_to_the_lens_tags(admin_user):
    draft = lens_import(raw=lens_bytes(name="Team Lens"), user=admin_user, tags={"a": "1"})
    lens_import(
        raw=lens_bytes(lens_document(name="Team Lens", questions=3)),
        user=admin_user,
        alias=draft.lens.alias,
        tags={"b": "2"},
    )
    assert Lens.objects.get().tags == {"a": "1", "b": "2"}


@pytest.mark.parametrize("name", ["-1", "1.0"])
def test_a_bad_or_taken_version_name_is_about_the_version_field(admin_user, name):
    lens_version_publish(
        lens_version=lens_import(raw=lens_bytes(name="Team Lens"), user=admin_user), version="1.0"
    )
    draft = lens_import(
        raw=lens_bytes(lens_document(name="Team Lens", questions=3)), user=admin_user
    )
    with pytest.raises(LensError) as raised:
        lens_version_publish(lens_version=draft, version=name)
    assert raised.value.field == "version"
