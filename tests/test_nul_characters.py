"""A NUL character from a path or a raw form field: 404 for an id, a clear message for text.

PostgreSQL refuses NUL in text, so each of these gave a 500 there; run on both databases.
Values read through a Django form are covered by its fields (they refuse NUL themselves).
"""

import pytest
from django.urls import reverse

from reviews.milestones import milestone_create
from reviews.models import Answer, ChoiceAnswer, LensReview, Milestone, PillarNote

LENS = "wellarchitected"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ids(workload, alice) -> dict[str, str]:
    milestone_create(workload=workload, name="Baseline", user=alice)
    return {"workload": workload.public_id}


def with_nul(url: str, segment: str, *, alone: bool = False) -> str:
    """`url` with a NUL after (or, `alone`, instead of) its path segment `segment`."""
    assert f"/{segment}/" in url
    return url.replace(f"/{segment}/", "/%00/" if alone else f"/{segment}%00/", 1)


def url(name: str, public_id: str, *args) -> str:
    return reverse(f"reviews:{name}", args=[public_id, *args])


# (method, view name, its arguments after the workload id, the id segment given a NUL)
ID_URLS = [
    ("get", "workload_detail", [], "WORKLOAD"),
    ("get", "workload_edit", [], "WORKLOAD"),
    ("get", "milestones", [], "WORKLOAD"),
    ("get", "compare", [], "WORKLOAD"),
    ("get", "reports", [], "WORKLOAD"),
    ("get", "overview", [LENS], "WORKLOAD"),
    ("get", "answers_csv", [LENS], "WORKLOAD"),
    ("get", "overview", [LENS], LENS),
    ("get", "improvement_plan", [LENS], LENS),
    ("post", "lens_notes", [LENS], LENS),
    ("get", "question", [LENS, "sec1"], "sec1"),
    ("get", "question_poll", [LENS, "sec1"], "sec1"),
    ("post", "choice_update", [LENS, "sec1", "sec1_bp1"], "sec1"),
    ("post", "choice_update", [LENS, "sec1", "sec1_bp1"], "sec1_bp1"),
    ("post", "applicability", [LENS, "sec1"], "sec1"),
    ("post", "question_notes", [LENS, "sec1"], "sec1"),
    ("get", "pillar", [LENS, "security"], "security"),
    ("post", "pillar_notes", [LENS, "security"], "security"),
    ("get", "milestone_pillar", [1, LENS, "security"], "security"),
    ("get", "milestone_question", [1, LENS, "sec1"], "sec1"),
]


@pytest.mark.parametrize("alone", [False, True], ids=["after the id", "instead of the id"])
@pytest.mark.parametrize(("method", "name", "args", "segment"), ID_URLS)
def test_an_id_with_a_nul_character_is_not_found(
    client, workload, alice, ids, method, name, args, segment, alone
):
    client.force_login(alice)
    segment = workload.public_id if segment == "WORKLOAD" else segment
    target = with_nul(url(name, workload.public_id, *args), segment, alone=alone)
    data = {"status": "SELECTED", "applicable": "no", "notes": "x", "notes_version": "0"}

    response = getattr(client, method)(target, data if method == "post" else None)

    assert response.status_code == 404
    assert not ChoiceAnswer.objects.exists()
    assert not Answer.objects.filter(notes="x").exists()
    assert not PillarNote.objects.exists()


def question_notes(workload):
    return url("question_notes", workload.public_id, LENS, "sec1"), "notes"


def pillar_notes(workload):
    return url("pillar_notes", workload.public_id, LENS, "security"), "notes"


def lens_notes(workload):
    return url("lens_notes", workload.public_id, LENS), "notes"


def stored_notes(workload) -> list[str]:
    review = LensReview.objects.get(workload=workload, lens__alias=LENS)
    return [
        review.notes,
        *PillarNote.objects.values_list("notes", flat=True),
        *Answer.objects.exclude(notes="").values_list("notes", flat=True),
    ]


@pytest.mark.parametrize("notes_url", [question_notes, pillar_notes, lens_notes])
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_notes_with_a_nul_character_get_a_clear_message_and_are_not_saved(
    client, workload, bob, notes_url, htmx
):
    client.force_login(bob)
    target, field = notes_url(workload)

    response = client.post(
        target,
        {field: "Runs on\x00 two zones", "notes_version": "0"},
        follow=not htmx,
        **(HTMX if htmx else {}),
    )

    assert response.status_code == 200
    assert "contain a NUL character, which cannot be stored" in response.content.decode()
    assert stored_notes(workload) == [""]


def test_a_choice_note_with_a_nul_character_gets_a_clear_message_and_is_not_saved(
    client, workload, bob
):
    client.force_login(bob)

    response = client.post(
        url("choice_update", workload.public_id, LENS, "sec1", "sec1_bp1"),
        {"status": "NOT_APPLICABLE", "reason": "OTHER", "notes": "Handled\x00 elsewhere"},
        **HTMX,
    )

    assert response.status_code == 200
    assert "Choice notes contain a NUL character" in response.content.decode()
    assert not ChoiceAnswer.objects.exists()


@pytest.mark.parametrize(("field", "value"), [("status", "SELECTED\x00"), ("reason", "OTHER\x00")])
def test_a_choice_status_or_reason_with_a_nul_character_is_refused(
    client, workload, bob, field, value
):
    client.force_login(bob)
    data = {"status": "NOT_APPLICABLE", "reason": "OTHER", field: value}

    response = client.post(
        url("choice_update", workload.public_id, LENS, "sec1", "sec1_bp1"), data, **HTMX
    )

    assert response.status_code == 200
    assert "Unknown" in response.content.decode()
    assert not ChoiceAnswer.objects.exists()


def test_a_milestone_name_with_a_nul_character_gets_a_clear_message_and_is_not_saved(
    client, workload, alice
):
    client.force_login(alice)

    response = client.post(url("milestones", workload.public_id), {"name": "Go\x00 live"})

    assert response.status_code == 200
    assert "A milestone name cannot contain a NUL character." in response.content.decode()
    assert not Milestone.objects.exists()


def test_an_applicability_reason_with_a_nul_character_is_refused(client, workload, bob):
    client.force_login(bob)

    response = client.post(
        url("applicability", workload.public_id, LENS, "sec1"),
        {"applicable": "no", "reason": "OTHER\x00"},
        **HTMX,
    )

    assert "Unknown reason" in response.content.decode()
    assert Answer.objects.filter(is_applicable=False).count() == 0
