import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from lenses.models import Lens, LensVersion, Question
from lenses.services import lens_import, lens_version_publish
from tests.factories import lens_bytes, lens_document


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/json")


@pytest.fixture
def draft(db, admin_user):
    return lens_import(raw=lens_bytes(name="Draft Lens"), user=admin_user)


@pytest.fixture
def published(db, admin_user):
    version = lens_import(raw=lens_bytes(name="Team Lens"), user=admin_user)
    return lens_version_publish(lens_version=version, version="1.0")


def version_url(name: str, version: LensVersion) -> str:
    return reverse(f"lenses:{name}", args=[version.lens.alias, version.pk])


# -- catalogue -------------------------------------------------------------------------------


def test_the_catalogue_requires_login(client, published):
    response = client.get(reverse("lenses:catalogue"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_catalogue_lists_published_lenses_with_version_and_question_count(
    client, alice, published, draft
):
    client.force_login(alice)

    response = client.get(reverse("lenses:catalogue"))

    body = response.content.decode()
    assert response.status_code == 200
    row = response.context["rows"][0]
    assert [r["lens"].name for r in response.context["rows"]] == ["Team Lens"]
    assert row["version"].version == "1.0"
    assert row["version"].question_count == 4
    assert "Draft Lens" not in body


def test_staff_see_drafts_in_the_catalogue(client, admin_user, published, draft):
    client.force_login(admin_user)

    response = client.get(reverse("lenses:catalogue"))

    names = [row["lens"].name for row in response.context["rows"]]
    assert names == ["Draft Lens", "Team Lens"]
    assert "Draft pending" in response.content.decode()


def test_the_catalogue_takes_the_same_number_of_queries_for_many_lenses(
    client, admin_user, django_assert_max_num_queries
):
    client.force_login(admin_user)
    lens_import(raw=lens_bytes(name="Lens 0"), user=admin_user)
    with django_assert_max_num_queries(4) as few:
        client.get(reverse("lenses:catalogue"))
    for n in range(1, 8):
        version = lens_import(raw=lens_bytes(name=f"Lens {n}"), user=admin_user)
        lens_version_publish(lens_version=version, version="1.0")

    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("lenses:catalogue"))


def test_the_catalogue_rejects_post(client, alice):
    client.force_login(alice)

    assert client.post(reverse("lenses:catalogue")).status_code == 405


# -- lens and version pages ------------------------------------------------------------------


def test_the_lens_page_shows_pillars_questions_choices_and_readable_rules(client, alice, published):
    client.force_login(alice)

    response = client.get(reverse("lenses:lens", args=[published.lens.alias]), follow=True)

    body = response.content.decode()
    assert response.status_code == 200
    assert "Pillar 1" in body and "Pillar 2" in body
    assert "Question p2_q2?" in body
    assert "Practice p1_q1_c3" in body
    assert "Do p1_q1_c2." in body
    assert "not “Practice p1_q1_c1”" in body
    assert "High risk" in body


def test_the_version_page_takes_the_same_number_of_queries_for_a_larger_lens(
    client, admin_user, django_assert_max_num_queries
):
    client.force_login(admin_user)
    small = lens_import(raw=lens_bytes(name="Small", pillars=1, questions=1), user=admin_user)
    large = lens_import(raw=lens_bytes(name="Large", pillars=5, questions=8), user=admin_user)
    with django_assert_max_num_queries(20) as baseline:
        client.get(version_url("version", small))

    with django_assert_max_num_queries(len(baseline.captured_queries)):
        client.get(version_url("version", large))


def test_a_draft_is_hidden_from_users_who_are_not_staff(client, alice, draft):
    client.force_login(alice)

    assert client.get(version_url("version", draft)).status_code == 404
    assert client.get(reverse("lenses:lens", args=[draft.lens.alias])).status_code == 404
    assert client.get(version_url("export", draft)).status_code == 404


def test_an_unknown_lens_is_not_found(client, alice):
    client.force_login(alice)

    assert client.get(reverse("lenses:lens", args=["nope"])).status_code == 404


def test_lens_text_is_escaped_on_the_lens_page(client, admin_user):
    document = lens_document(name="<script>alert(1)</script>")
    document["pillars"][0]["questions"][0]["choices"][0]["title"] = "<img src=x onerror=alert(2)>"
    version = lens_import(raw=lens_bytes(document), user=admin_user)
    client.force_login(admin_user)

    body = client.get(version_url("version", version)).content.decode()

    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<img src=x" not in body


# -- upload ----------------------------------------------------------------------------------


def test_staff_upload_a_lens_and_land_on_its_draft(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        reverse("lenses:import"), {"file": upload("lens.json", lens_bytes(name="Uploaded"))}
    )

    version = LensVersion.objects.get()
    assert response.status_code == 302
    assert response.url == version_url("version", version)
    assert version.is_draft and version.created_by == admin_user


def test_an_upload_with_quirks_shows_the_warnings_on_the_draft(client, admin_user):
    document = lens_document()
    document["_version"] = 3
    raw = b"\xef\xbb\xbf" + json.dumps(document, indent=2).replace("\n", "\r\n").encode()
    client.force_login(admin_user)

    response = client.post(reverse("lenses:import"), {"file": upload("q.json", raw)}, follow=True)

    body = response.content.decode()
    assert "byte-order mark" in body
    assert "CRLF" in body
    assert "_version: unknown key; ignored" in body


def test_a_broken_upload_lists_every_located_problem_and_changes_nothing(
    client, admin_user, published
):
    document = lens_document()
    document["pillars"][0]["questions"][1]["riskRules"][0]["condition"] = "!sec_3_bp9"
    document["pillars"][1]["questions"][0]["choices"][1]["id"] = "p2_q1_c1"
    client.force_login(admin_user)
    before = (Lens.objects.count(), LensVersion.objects.count(), Question.objects.count())

    response = client.post(
        reverse("lenses:import"), {"file": upload("bad.json", lens_bytes(document))}
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "3 problems found" in body
    assert (
        "pillars[0].questions[1].riskRules[0].condition: unknown choice &#x27;sec_3_bp9&#x27;"
        in body
    )
    assert "pillars[1].questions[0].choices[1].id: duplicate &#x27;p2_q1_c1&#x27;" in body
    # the renamed choice is now missing from its question's rules as well
    assert "pillars[1].questions[0].riskRules[1].condition: unknown choice &#x27;p2_q1_c2" in body
    assert (Lens.objects.count(), LensVersion.objects.count(), Question.objects.count()) == before


def test_an_upload_that_is_not_json_is_refused_with_its_line(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        reverse("lenses:import"), {"file": upload("nan.json", b'{"name": "x",\n "pillars": NaN}')}
    )

    assert "NaN is not valid JSON" in response.content.decode()
    assert not Lens.objects.exists()


def test_an_upload_over_500_kb_is_refused_before_reading_it(client, admin_user):
    client.force_login(admin_user)

    response = client.post(reverse("lenses:import"), {"file": upload("big.json", b" " * 600_000)})

    assert response.status_code == 200
    assert "at most 512,000 bytes" in response.content.decode()
    assert not Lens.objects.exists()


def test_the_upload_page_is_for_staff_only(client, alice):
    client.force_login(alice)

    assert client.get(reverse("lenses:import")).status_code == 403
    response = client.post(reverse("lenses:import"), {"file": upload("l.json", lens_bytes())})
    assert response.status_code == 403
    assert not Lens.objects.exists()


def test_the_upload_page_requires_login(client, db):
    assert client.get(reverse("lenses:import")).status_code == 302


# -- publish, deprecate, export --------------------------------------------------------------


def test_staff_publish_a_draft_with_the_suggested_version(client, admin_user, draft):
    client.force_login(admin_user)
    page = client.get(version_url("version", draft))
    assert page.context["publish_form"].initial == {"version": "1.0"}

    response = client.post(version_url("publish", draft), {"version": "1.0"})

    draft.refresh_from_db()
    assert response.status_code == 302
    assert (draft.status, draft.version) == (LensVersion.Status.PUBLISHED, "1.0")


def test_publishing_with_a_taken_version_name_says_so(client, admin_user, published):
    document = lens_document(name="Team Lens")
    document["description"] = "The next version."
    again = lens_import(raw=lens_bytes(document), user=admin_user)
    client.force_login(admin_user)

    response = client.post(version_url("publish", again), {"version": "1.0"})

    again.refresh_from_db()
    assert response.status_code == 200
    assert "Version 1.0 of this lens exists already." in response.content.decode()
    assert again.is_draft


def test_users_who_are_not_staff_cannot_publish_or_deprecate(client, alice, published, draft):
    client.force_login(alice)

    assert client.post(version_url("deprecate", published)).status_code == 403
    assert client.post(version_url("publish", draft), {"version": "1.0"}).status_code == 404
    published.refresh_from_db()
    assert published.status == LensVersion.Status.PUBLISHED


def test_publish_and_deprecate_reject_get(client, admin_user, published):
    client.force_login(admin_user)

    assert client.get(version_url("publish", published)).status_code == 405
    assert client.get(version_url("deprecate", published)).status_code == 405


def test_staff_deprecate_a_published_version(client, admin_user, published):
    client.force_login(admin_user)

    client.post(version_url("deprecate", published))

    published.refresh_from_db()
    assert published.status == LensVersion.Status.DEPRECATED


def test_export_downloads_the_lens_as_custom_lens_json(client, alice, published):
    client.force_login(alice)

    response = client.get(version_url("export", published))

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="team-lens-1.0.json"'
    assert json.loads(response.content) == lens_document(name="Team Lens")


def test_an_upload_with_many_identical_warnings_shows_them_as_one_line(client, admin_user):
    document = lens_document(pillars=2, questions=3)
    for pillar in document["pillars"]:
        for question in pillar["questions"]:
            question["_owner"] = "team"
    client.force_login(admin_user)

    response = client.post(
        reverse("lenses:import"), {"file": upload("q.json", lens_bytes(document))}, follow=True
    )

    body = response.content.decode()
    assert "unknown key; ignored (6 times: pillars[0].questions[0]._owner," in body
    assert "and 3 more" in body
    assert body.count("unknown key; ignored") == 1


def test_an_upload_with_hundreds_of_errors_lists_the_first_200(client, admin_user):
    document = lens_document(pillars=1, questions=1, choices=1)
    document["pillars"][0]["questions"][0]["riskRules"] = [
        {"condition": f"!nope{i}", "risk": "HIGH_RISK"} for i in range(300)
    ]
    client.force_login(admin_user)

    response = client.post(
        reverse("lenses:import"), {"file": upload("q.json", lens_bytes(document))}
    )

    body = response.content.decode()
    assert "300 problems found" in body
    assert "and 100 more problems, not listed" in body
    assert body.count("unknown choice") == 200


def test_an_upload_with_a_huge_number_is_refused_with_its_place(client, admin_user):
    raw = b'{"schemaVersion": "2021-11-01", "name": ' + b"7" * 5000 + b"}"
    client.force_login(admin_user)

    response = client.post(reverse("lenses:import"), {"file": upload("q.json", raw)})

    assert response.status_code == 200
    assert "a number of 5,000 digits; too long" in response.content.decode()


# -- a file that matches a lens here ---------------------------------------------------------


def passport(questions: int = 2) -> bytes:
    return lens_bytes(lens_document(name="Team Lens", questions=questions))


def test_a_file_named_like_a_lens_here_asks_what_it_is_and_creates_nothing(
    client, admin_user, published
):
    client.force_login(admin_user)
    before = (Lens.objects.count(), LensVersion.objects.count())

    response = client.post(reverse("lenses:import"), {"file": upload("p.json", passport(3))})

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="import-match"' in body
    assert "A lens called “Team Lens” (alias <code>team-lens</code>)" in body
    assert 'value="team-lens-2"' in body  # a free alias for a separate lens
    assert (Lens.objects.count(), LensVersion.objects.count()) == before


def second_step(client, response, **data):
    content = response.context["form"].initial["content"]
    return client.post(reverse("lenses:import"), {"content": content, **data})


def test_choosing_a_new_version_adds_a_draft_to_that_lens(client, admin_user, published):
    client.force_login(admin_user)
    asked = client.post(reverse("lenses:import"), {"file": upload("p.json", passport(3))})

    response = second_step(client, asked, target="version")

    assert response.status_code == 302
    assert Lens.objects.count() == 1
    assert published.lens.versions.filter(status=LensVersion.Status.DRAFT).exists()


def test_choosing_a_separate_lens_makes_a_new_lens_with_the_alias_given(
    client, admin_user, published
):
    client.force_login(admin_user)
    asked = client.post(reverse("lenses:import"), {"file": upload("p.json", passport(3))})

    response = second_step(client, asked, target="separate", alias="other-team-lens")

    assert response.status_code == 302
    assert sorted(Lens.objects.values_list("alias", flat=True)) == ["other-team-lens", "team-lens"]
    assert published.lens.versions.count() == 1


def test_a_separate_lens_with_a_taken_alias_is_refused_and_creates_nothing(
    client, admin_user, published
):
    client.force_login(admin_user)
    asked = client.post(reverse("lenses:import"), {"file": upload("p.json", passport(3))})

    response = second_step(client, asked, target="separate", alias="team-lens")

    assert response.status_code == 200
    assert "has the alias &#x27;team-lens&#x27;; choose another" in response.content.decode()
    assert LensVersion.objects.count() == 1


def test_a_damaged_file_sent_back_is_refused(client, admin_user, published):
    client.force_login(admin_user)

    response = client.post(
        reverse("lenses:import"), {"content": "not base64 at all!", "target": "version"}
    )

    assert response.status_code == 200
    assert "damaged; upload it again" in response.content.decode()
    assert LensVersion.objects.count() == 1


def test_an_explicit_alias_imports_without_asking(client, admin_user, published):
    client.force_login(admin_user)

    response = client.post(
        reverse("lenses:import"), {"file": upload("p.json", passport(3)), "alias": "my-own"}
    )

    assert response.status_code == 302
    assert Lens.objects.filter(alias="my-own").exists()


def test_an_identical_file_says_so_and_creates_nothing(client, admin_user, published):
    client.force_login(admin_user)
    asked = client.post(reverse("lenses:import"), {"file": upload("p.json", passport())})

    response = second_step(client, asked, target="version")

    assert response.status_code == 200
    assert "identical to Team Lens 1.0" in response.content.decode()
    assert LensVersion.objects.count() == 1


def test_an_upload_without_a_file_asks_for_one(client, admin_user):
    client.force_login(admin_user)

    response = client.post(reverse("lenses:import"), {})

    assert "Choose a lens file to import." in response.content.decode()
