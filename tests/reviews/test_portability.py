"""export_workload and import_workload: backup and restore of one workload."""

import datetime
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lenses.models import Lens, LensVersion
from lenses.services import BUILTIN_ALIAS, lens_import, lens_version_publish
from people.models import Team
from reviews.milestones import milestone_create
from reviews.models import (
    NOTES_MAX,
    Answer,
    ImprovementEvent,
    ImprovementItem,
    Role,
    Workload,
    WorkloadMember,
    WorkloadTeamShare,
)
from reviews.services import (
    answer_applicability_update,
    answer_choice_update,
    answer_notes_update,
    lens_review_notes_update,
    pillar_notes_update,
    workload_add_lens,
    workload_remove_lens,
    workload_share_team,
)
from tests.factories import lens_bytes, lens_document

ROOT = Path(__file__).resolve().parents[2]
UTC = datetime.UTC


def answer_of(workload, question_id, alias=BUILTIN_ALIAS) -> Answer:
    return Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload,
        lens_review__lens__alias=alias,
        question__question_id=question_id,
    )


def tick(workload, user, question_id, choice_id, alias=BUILTIN_ALIAS, **kwargs):
    answer_choice_update(
        answer=answer_of(workload, question_id, alias),
        choice_id=choice_id,
        status=kwargs.pop("status", "SELECTED"),
        user=user,
        **kwargs,
    )


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def export(workload) -> str:
    return run("export_workload", workload.public_id)[0]


def write(tmp_path: Path, document: dict | str | bytes, name: str = "workload.json") -> Path:
    path = tmp_path / name
    if isinstance(document, dict):
        document = json.dumps(document)
    path.write_bytes(document if isinstance(document, bytes) else document.encode())
    return path


def refuse(path: Path, *options: str) -> str:
    """Import a file that must be refused; returns what the command wrote to stderr."""
    err = StringIO()
    with pytest.raises(CommandError, match="not imported") as caught:
        call_command("import_workload", str(path), *options, stdout=StringIO(), stderr=err)
    return f"{err.getvalue()}\n{caught.value}"


def counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


@pytest.fixture
def custom_lens(admin_user) -> LensVersion:
    draft = lens_import(raw=lens_bytes(), user=admin_user)
    return lens_version_publish(lens_version=draft, version="1.0")


@pytest.fixture
def rich_workload(workload, alice, bob, custom_lens) -> Workload:
    """Answers with choices and N/A, notes everywhere, history, an item, two milestones, and
    an extra lens that was answered and then removed (its review kept inactive)."""
    Workload.objects.filter(pk=workload.pk).update(
        regions=["eu-west-1", "eu-central-1"],
        tags={"team": "payments", "cost-centre": "42"},
        industry_type=Workload.IndustryType.RETAIL,
        industry="Web shop",
        architectural_design_url="https://example.com/design",
        notes="PCI scope.",
    )
    workload.refresh_from_db()
    tick(workload, alice, "sec1", "sec1_no")
    tick(workload, bob, "ops1", "ops1_bp1")
    tick(workload, bob, "ops1", "ops1_bp2")
    tick(
        workload,
        bob,
        "ops1",
        "ops1_bp3",
        status="NOT_APPLICABLE",
        reason="BUSINESS_PRIORITIES",
        notes="No budget this year",
    )
    answer_applicability_update(
        answer=answer_of(workload, "ops2"), is_applicable=False, reason="OUT_OF_SCOPE", user=bob
    )
    answer_notes_update(
        answer=answer_of(workload, "sec1"), notes="Audit due in May", base_version=0, user=alice
    )
    review = workload.lens_reviews.get(lens__alias=BUILTIN_ALIAS)
    lens_review_notes_update(lens_review=review, notes="Workshop 1", base_version=0, user=alice)
    security = review.lens_version.pillars.get(pillar_id="security")
    pillar_notes_update(
        lens_review=review, pillar_pk=security.pk, notes="Ask the SOC", base_version=0, user=bob
    )
    item = ImprovementItem.objects.get(answer=answer_of(workload, "sec1"))
    item.status, item.assignee, item.comment = "IN_PROGRESS", bob, "Ticket SEC-12"
    item.due_date = datetime.date(2031, 5, 1)
    item.save()
    ImprovementEvent.objects.create(item=item, user=alice, text="Status changed; assignee changed.")
    milestone_create(workload=workload, name="Baseline", user=alice)
    workload_add_lens(workload=workload, lens=custom_lens.lens)
    tick(workload, bob, "p1_q1", "p1_q1_c1", alias="test-lens")
    tick(workload, bob, "p2_q2", "p2_q2_no", alias="test-lens")
    milestone_create(workload=workload, name="After the workshop", user=bob)
    workload_remove_lens(workload=workload, lens=custom_lens.lens)
    Workload.objects.filter(pk=workload.pk).update(
        created_at=datetime.datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
    )
    return workload


@pytest.fixture
def exported(rich_workload, tmp_path) -> tuple[str, Path]:
    """The rich workload's export as text and as a file; the workload itself is deleted."""
    text = export(rich_workload)
    rich_workload.delete()
    return text, write(tmp_path, text)


# -- export ---------------------------------------------------------------------------------------


def test_export_writes_a_marked_document_with_everything_the_workload_owns(rich_workload):
    document = json.loads(export(rich_workload))

    assert (document["format"], document["version"]) == ("archlens-workload", 1)
    assert [(lens["alias"], lens["version"]) for lens in document["lenses"]] == [
        ("test-lens", "1.0"),
        (BUILTIN_ALIAS, rich_workload.lens_reviews.get(lens__is_builtin=True).lens_version.version),
    ]
    assert document["lenses"][0]["document"] == lens_document()
    assert document["workload"]["public_id"] == rich_workload.public_id
    assert document["workload"]["created_at"] == "2024-03-01T09:30:00+00:00"
    assert document["members"] == [
        {"username": "alice", "email": "alice@example.com", "role": "OWNER"},
        {"username": "bob", "email": "bob@example.com", "role": "CONTRIBUTOR"},
        {"username": "carol", "email": "carol@example.com", "role": "READONLY"},
    ]
    custom, builtin = document["lens_reviews"]
    assert (custom["lens"], custom["is_active"], builtin["is_active"]) == ("test-lens", False, True)
    assert builtin["notes"] == "Workshop 1"
    assert builtin["pillar_notes"] == [
        {"pillar": "security", "notes": "Ask the SOC", "notes_version": 1}
    ]
    answers = {answer["question"]: answer for answer in builtin["answers"]}
    assert len(answers) == Answer.objects.filter(lens_review__lens__is_builtin=True).count()
    assert answers["ops2"]["risk"] == "NOT_APPLICABLE"
    assert answers["ops1"]["choices"][2] == {
        "choice": "ops1_bp3",
        "status": "NOT_APPLICABLE",
        "reason": "BUSINESS_PRIORITIES",
        "notes": "No budget this year",
    }
    sec1 = answers["sec1"]
    assert (sec1["risk"], sec1["notes"], sec1["updated_by"]) == (
        "HIGH",
        "Audit due in May",
        "alice",
    )
    assert [event["user"] for event in sec1["events"]] == ["alice", "alice"]
    assert sec1["improvement"]["assignee"] == "bob"
    assert sec1["improvement"]["due_date"] == "2031-05-01"
    assert [e["text"][:6] for e in sec1["improvement"]["events"]] == ["Opened", "Status"]
    assert [m["name"] for m in document["milestones"]] == ["Baseline", "After the workshop"]
    assert document["milestones"][1]["recorded_by"] == "bob"


def test_export_keys_are_sorted_so_the_text_is_stable(rich_workload):
    text = export(rich_workload)

    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert export(rich_workload) == text


def test_export_queries_do_not_grow_with_answers_history_or_milestones(rich_workload, alice):
    with CaptureQueriesContext(connection) as before:
        export(rich_workload)
    for question_id in ("sec2", "sec3", "rel1", "cost1"):
        tick(rich_workload, alice, question_id, f"{question_id}_no")
    milestone_create(workload=rich_workload, name="Later", user=alice)

    with CaptureQueriesContext(connection) as after:
        export(rich_workload)

    assert len(after) == len(before) <= 25


def test_export_writes_to_a_file_with_output(rich_workload, tmp_path):
    path = tmp_path / "backup.json"

    out, _ = run("export_workload", rich_workload.public_id, "--output", str(path))

    assert json.loads(path.read_text())["workload"]["name"] == "Payments API"
    assert str(path) in out


def test_export_refuses_an_unknown_public_id(db):
    with pytest.raises(CommandError, match="no workload with the public id 'f00'"):
        run("export_workload", "f00")


def test_export_takes_the_public_id_not_the_name_and_says_which_id_to_use(workload):
    with pytest.raises(CommandError, match=f"its public id is {workload.public_id}"):
        run("export_workload", "payments api")


# -- round trip -----------------------------------------------------------------------------------


def test_export_import_export_gives_the_same_document(exported):
    text, path = exported

    out, err = run("import_workload", str(path))

    workload = Workload.objects.get()
    assert f"imported as {workload.public_id}" in out
    assert err == ""
    assert export(workload) == text


def test_import_restores_owner_members_times_and_the_inactive_lens(exported, alice, bob, carol):
    run("import_workload", str(exported[1]))

    workload = Workload.objects.get()
    assert workload.owner == alice
    assert dict(workload.members.values_list("user__username", "role")) == {
        "alice": Role.OWNER,
        "bob": Role.CONTRIBUTOR,
        "carol": Role.READONLY,
    }
    assert workload.created_at == datetime.datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
    assert workload.name_key == "paymentsapi"
    assert not workload.lens_reviews.get(lens__alias="test-lens").is_active
    assert ImprovementItem.objects.get(answer__question__question_id="sec1").assignee == bob
    assert workload.milestones.get(number=2).recorded_by == bob


def test_import_works_out_each_milestones_score_from_its_frozen_copy(rich_workload, tmp_path):
    saved = dict(rich_workload.milestones.values_list("number", "score"))
    assert saved[1] is not None and saved[2] is not None
    text = export(rich_workload)
    rich_workload.delete()

    run("import_workload", str(write(tmp_path, text)))

    assert dict(Workload.objects.get().milestones.values_list("number", "score")) == saved


def test_import_runs_a_bounded_number_of_queries(exported):
    with CaptureQueriesContext(connection) as queries:
        run("import_workload", str(exported[1]))

    assert len(queries) <= 60


def test_a_missing_custom_lens_is_imported_first(exported, custom_lens):
    text, path = exported
    published_at = custom_lens.published_at
    Lens.objects.filter(alias="test-lens").delete()

    out, _ = run("import_workload", str(path))

    version = LensVersion.objects.get(lens__alias="test-lens")
    assert "lens test-lens 1.0 imported from the file" in out
    assert (version.version, version.status) == ("1.0", LensVersion.Status.PUBLISHED)
    assert version.digest == custom_lens.digest
    assert version.published_at == published_at
    assert export(Workload.objects.get()) == text


def test_an_older_imported_version_does_not_become_the_newest(exported, custom_lens, admin_user):
    text, path = exported
    Lens.objects.filter(alias="test-lens").delete()
    newer = lens_import(raw=lens_bytes(name="Test Lens Two"), alias="test-lens", user=admin_user)
    lens_version_publish(lens_version=newer, version="2.0")

    run("import_workload", str(path))

    lens = Lens.objects.get(alias="test-lens")
    assert lens.name == "Test Lens Two"
    assert lens.versions.order_by("-published_at").first().version == "2.0"
    assert export(Workload.objects.get()) == text


def test_a_deprecated_version_is_imported_deprecated(exported, custom_lens):
    text, path = exported
    document = json.loads(text)
    document["lenses"][0]["status"] = "DEPRECATED"
    Lens.objects.filter(alias="test-lens").delete()

    run("import_workload", str(write(path.parent, document, "deprecated.json")))

    assert LensVersion.objects.get(lens__alias="test-lens").status == "DEPRECATED"


# -- people ---------------------------------------------------------------------------------------


def test_unknown_members_are_skipped_with_a_warning(exported, carol):
    carol.delete()

    _, err = run("import_workload", str(exported[1]))

    assert "warning: members[2]: no user 'carol' (carol@example.com) here" in err
    workload = Workload.objects.get()
    assert sorted(workload.members.values_list("user__username", flat=True)) == ["alice", "bob"]


def test_mentions_of_unknown_users_are_left_empty_with_a_warning(exported, bob):
    bob.delete()

    _, err = run("import_workload", str(exported[1]))

    assert "user 'bob' has no account here" in err
    assert ImprovementItem.objects.get(answer__question__question_id="sec1").assignee is None
    assert Workload.objects.get().milestones.get(number=2).recorded_by is None


def test_an_owner_without_account_is_refused_unless_owner_is_given(exported, alice, mallory):
    text, path = exported
    alice.delete()
    before = counts()

    message = refuse(path)

    assert "members[0]: the owner 'alice' (alice@example.com) has no account here" in message
    assert "--owner USERNAME" in message
    assert counts() == before

    run("import_workload", str(path), "--owner", "mallory")

    workload = Workload.objects.get()
    assert workload.owner == mallory
    assert WorkloadMember.objects.get(workload=workload, role=Role.OWNER).user == mallory


def test_owner_hands_the_workload_over_and_the_file_owner_stays_as_contributor(exported, bob):
    _, err = run("import_workload", str(exported[1]), "--owner", "bob")

    workload = Workload.objects.get()
    assert workload.owner == bob
    assert dict(workload.members.values_list("user__username", "role")) == {
        "alice": Role.CONTRIBUTOR,
        "bob": Role.OWNER,
        "carol": Role.READONLY,
    }
    assert "'alice' owned the workload in the file and stays on as contributor" in err


def test_owner_must_be_a_user_here(exported):
    before = counts()

    message = refuse(exported[1], "--owner", "nobody")

    assert "--owner: there is no user 'nobody' here" in message
    assert counts() == before


def test_new_id_and_name_import_a_copy_next_to_the_original(rich_workload, tmp_path):
    path = write(tmp_path, export(rich_workload))

    run("import_workload", str(path), "--new-id", "--name", "Payments API copy")

    copy = Workload.objects.get(name="Payments API copy")
    assert copy.public_id != rich_workload.public_id
    assert Answer.objects.filter(lens_review__workload=copy).count() == (
        Answer.objects.filter(lens_review__workload=rich_workload).count()
    )


# -- refusals -------------------------------------------------------------------------------------


def builtin_answer(document: dict, index: int) -> dict:
    return document["lens_reviews"][1]["answers"][index]


def sec1(document: dict) -> dict:
    return next(a for a in document["lens_reviews"][1]["answers"] if a["question"] == "sec1")


def set_key(obj: dict, key: str, value) -> None:
    obj[key] = value


BREAKAGES = {
    "wrong format marker": (
        lambda d: set_key(d, "format", "something-else"),
        "format: not an Archlens workload file",
    ),
    "unsupported version": (
        lambda d: set_key(d, "version", 2),
        "version: unsupported version 2; this Archlens reads version 1",
    ),
    "missing section": (lambda d: d.pop("milestones"), "milestones: missing"),
    "missing workload key": (lambda d: d["workload"].pop("name"), "workload.name: missing"),
    "missing answer key": (
        lambda d: builtin_answer(d, 3).pop("risk"),
        "lens_reviews[1].answers[3].risk: missing",
    ),
    "unknown question": (
        lambda d: set_key(builtin_answer(d, 3), "question", "sec99"),
        "lens_reviews[1].answers[3].question: unknown question 'sec99'",
    ),
    "unknown choice": (
        lambda d: set_key(builtin_answer(d, 0)["choices"][0], "choice", "ops1_bp99"),
        "lens_reviews[1].answers[0].choices[0].choice: unknown choice 'ops1_bp99'",
    ),
    "unknown pillar": (
        lambda d: set_key(d["lens_reviews"][1]["pillar_notes"][0], "pillar", "nowhere"),
        "lens_reviews[1].pillar_notes[0].pillar: unknown pillar 'nowhere'",
    ),
    "a pillar that is not text": (
        lambda d: set_key(d["lens_reviews"][1]["pillar_notes"][0], "pillar", ["security"]),
        'lens_reviews[1].pillar_notes[0].pillar: unknown pillar ["security"]',
    ),
    "answers that are not a list": (
        lambda d: set_key(d["lens_reviews"][1], "answers", {}),
        "lens_reviews[1].answers: expected a list, found an object",
    ),
    "none of these with another choice": (
        lambda d: sec1(d)["choices"].append(
            {"choice": "sec1_bp1", "status": "SELECTED", "reason": "NONE", "notes": ""}
        ),
        "'sec1_no' (none of these) is selected together with other choices",
    ),
    "unknown reason": (
        lambda d: set_key(builtin_answer(d, 1), "reason", "BORED"),
        "lens_reviews[1].answers[1].reason: unknown value 'BORED'",
    ),
    "unknown risk": (
        lambda d: set_key(builtin_answer(d, 0), "risk", "SEVERE"),
        "lens_reviews[1].answers[0].risk: unknown value 'SEVERE'",
    ),
    "risk that the choices do not give": (
        lambda d: set_key(sec1(d), "risk", "NONE"),
        "risk: 'NONE' does not follow from the answer, which gives 'HIGH'",
    ),
    "unknown choice status": (
        lambda d: set_key(builtin_answer(d, 0)["choices"][0], "status", "MAYBE"),
        "lens_reviews[1].answers[0].choices[0].status: unknown value 'MAYBE'",
    ),
    "unknown improvement status": (
        lambda d: set_key(sec1(d)["improvement"], "status", "DONE"),
        "improvement.status: unknown value 'DONE'",
    ),
    "over-long notes": (
        lambda d: set_key(sec1(d), "notes", "x" * (NOTES_MAX + 1)),
        f"notes: {NOTES_MAX + 1:,} characters; at most {NOTES_MAX:,} allowed",
    ),
    "over-long choice notes": (
        lambda d: set_key(builtin_answer(d, 0)["choices"][2], "notes", "x" * 251),
        "lens_reviews[1].answers[0].choices[2].notes: 251 characters; at most 250 allowed",
    ),
    "a time without offset": (
        lambda d: set_key(d["workload"], "updated_at", "2024-03-01T09:30:00"),
        "workload.updated_at: expected a date and time with its UTC offset",
    ),
    "a question answered twice": (
        lambda d: d["lens_reviews"][1]["answers"].append(sec1(d)),
        "'sec1' answered twice",
    ),
    "a missing answer": (
        lambda d: d["lens_reviews"][1]["answers"].remove(sec1(d)),
        "lens_reviews[1].answers: no answer for question 'sec1'",
    ),
    "a lens that the file does not include": (
        lambda d: d["lenses"].pop(0),
        "lens_reviews[0]: lens 'test-lens' version '1.0' is not in the file's lenses",
    ),
    "two owners": (
        lambda d: set_key(d["members"][1], "role", "OWNER"),
        "members: exactly one member has the role OWNER (2 found)",
    ),
    "a broken milestone copy": (
        lambda d: d["milestones"][0]["data"]["lens_reviews"][0].pop("pillars"),
        "milestones[0].data.lens_reviews[0].pillars: missing",
    ),
    "a milestone name given twice": (
        lambda d: set_key(d["milestones"][1], "name", "BASELINE"),
        "milestones[1].name: two milestones are named “BASELINE”",
    ),
    "an invalid lens document": (
        lambda d: set_key(d["lenses"][0]["document"]["pillars"][0], "id", "x"),
        "lenses[0].document.pillars[0].id",
    ),
    "a bad public id": (
        lambda d: set_key(d["workload"], "public_id", "../etc"),
        "workload.public_id: '../etc' is not 32 lowercase hex digits",
    ),
    "a javascript design link": (
        lambda d: set_key(d["workload"], "architectural_design_url", "javascript:alert(1)"),
        "workload.architectural_design_url: not a web address",
    ),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES), ids=list(BREAKAGES))
def test_a_broken_file_is_refused_with_the_place_and_changes_nothing(exported, breakage):
    text, path = exported
    document = json.loads(text)
    change, expected = BREAKAGES[breakage]
    change(document)
    before = counts()

    message = refuse(write(path.parent, document, "broken.json"))

    assert expected in message
    assert "nothing was changed" in message
    assert counts() == before


def test_an_incomplete_answer_is_reported_once(exported):
    text, path = exported
    document = json.loads(text)
    sec1(document).pop("risk")

    message = refuse(write(path.parent, document, "incomplete.json"))

    assert "risk: missing" in message
    assert "no answer for question" not in message
    assert "1 problem(s) found" in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{nope", "line 1, column 2: not valid JSON"),
        (b'{"format": "archlens-workload", "version": NaN}', "NaN is not valid JSON"),
        (b"\xff\xfe", "file: not UTF-8 text"),
        (b"[1, 2]", "format: not an Archlens workload file"),
        (lens_bytes(), "it looks like a lens file (import it with import_lens)"),
    ],
    ids=["not json", "nan", "not utf-8", "a list", "a lens file"],
)
def test_a_foreign_file_is_refused(db, tmp_path, content, expected):
    before = counts()

    message = refuse(write(tmp_path, content))

    assert expected in message
    assert counts() == before


def test_a_lens_version_with_other_content_is_refused(exported, custom_lens):
    text, path = exported
    document = json.loads(text)
    document["lenses"][0]["document"]["pillars"][0]["name"] = "Renamed"
    before = counts()

    message = refuse(write(path.parent, document, "other.json"))

    assert "lenses[0]: lens 'test-lens' version '1.0' exists here with different content" in (
        message
    )
    assert counts() == before


def test_a_file_with_an_error_after_a_missing_lens_leaves_no_lens_behind(exported, custom_lens):
    text, path = exported
    document = json.loads(text)
    sec1(document)["risk"] = "SEVERE"
    Lens.objects.filter(alias="test-lens").delete()
    before = counts()

    refuse(write(path.parent, document, "late-error.json"))

    assert counts() == before
    assert not Lens.objects.filter(alias="test-lens").exists()


def test_a_missing_version_of_a_lens_with_a_draft_is_refused(exported, custom_lens, admin_user):
    _, path = exported
    custom_lens.delete()
    lens_import(raw=lens_bytes(), user=admin_user)
    before = counts()

    message = refuse(path)

    assert "lens 'test-lens' has no version '1.0' here and has an unpublished draft" in message
    assert counts() == before


def test_a_missing_built_in_lens_is_refused(exported, custom_lens):
    _, path = exported
    Lens.objects.filter(alias=BUILTIN_ALIAS).delete()
    before = counts()

    message = refuse(path)

    assert "the built-in lens is not loaded here; run manage.py load_builtin_lens" in message
    assert counts() == before


def test_an_existing_public_id_is_refused(rich_workload, tmp_path):
    path = write(tmp_path, export(rich_workload))
    before = counts()

    message = refuse(path)

    assert f"a workload with public id {rich_workload.public_id} exists here already" in message
    assert "--new-id" in message
    assert counts() == before


def test_an_existing_name_is_refused(rich_workload, tmp_path):
    path = write(tmp_path, export(rich_workload))
    before = counts()

    message = refuse(path, "--new-id")

    assert "workload.name: a workload named “Payments API” exists here already" in message
    assert counts() == before


def test_unknown_keys_are_ignored_with_a_warning(exported):
    text, path = exported
    document = json.loads(text)
    document["workload"]["colour"] = "blue"

    _, err = run("import_workload", str(write(path.parent, document, "extra.json")))

    assert "warning: workload.colour: unknown key; ignored" in err
    assert export(Workload.objects.get()) == text


def test_the_notes_writer_travels_with_the_answer(exported, alice):
    text, path = exported
    sec1 = next(
        answer
        for review in json.loads(text)["lens_reviews"]
        for answer in review["answers"]
        if answer["question"] == "sec1"
    )
    assert sec1["notes_updated_by"] == "alice"

    run("import_workload", str(path))

    assert answer_of(Workload.objects.get(), "sec1").notes_updated_by == alice


def test_a_file_from_before_the_notes_writer_was_kept_is_still_imported(exported):
    text, path = exported
    document = json.loads(text)
    for review in document["lens_reviews"]:
        for answer in review["answers"]:
            del answer["notes_updated_by"]

    _, err = run("import_workload", str(write(path.parent, document, "older.json")))

    assert err == ""
    workload = Workload.objects.get()
    assert answer_of(workload, "sec1").notes == "Audit due in May"
    assert answer_of(workload, "sec1").notes_updated_by is None


def test_the_command_line_refuses_a_bad_file_without_a_traceback(tmp_path):
    path = write(tmp_path, b"not json at all")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "ARCHLENS_VAR_DIR": str(tmp_path / "var"),
        "SECRET_KEY": "only-for-command-line-tests",
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "import_workload", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "error: line 1, column 1: not valid JSON" in result.stderr
    assert "nothing was changed" in result.stderr


def test_users_are_matched_by_username_and_a_changed_email_is_reported(exported, bob):
    User.objects.filter(pk=bob.pk).update(email="robert@example.com")

    _, err = run("import_workload", str(exported[1]))

    assert "user 'bob' has the email robert@example.com here, bob@example.com in the file" in err


# -- teams and people matched by email ------------------------------------------------------------


def test_team_shares_travel_by_team_name(workload, tmp_path):
    platform = Team.objects.create(name="Platform team")
    auditors = Team.objects.create(name="Auditors")
    workload_share_team(workload=workload, team=platform, role=Role.CONTRIBUTOR)
    workload_share_team(workload=workload, team=auditors, role=Role.READONLY)
    document = json.loads(export(workload))
    workload.delete()
    auditors.delete()
    # The same team here, spelt as people type it.
    Team.objects.filter(pk=platform.pk).update(name="platform Team")

    _, err = run("import_workload", str(write(tmp_path, document)))

    assert document["team_shares"] == [
        {"team": "Auditors", "role": "READONLY"},
        {"team": "Platform team", "role": "CONTRIBUTOR"},
    ]
    assert "warning: team_shares[0]: no team 'Auditors' here; the workload is not shared" in err
    shares = WorkloadTeamShare.objects.filter(workload=Workload.objects.get())
    assert list(shares.values_list("team__name", "role")) == [("platform Team", "CONTRIBUTOR")]


def test_a_file_from_before_teams_still_imports(exported):
    text, path = exported
    document = json.loads(text)
    del document["team_shares"]

    _, err = run("import_workload", str(write(path.parent, document, "old.json")))

    assert "team_shares" not in err
    workload = Workload.objects.get()
    assert not workload.team_shares.exists()
    assert export(workload) == text


@pytest.mark.parametrize(
    ("share", "problem"),
    [
        ({"team": "Ops", "role": "OWNER"}, "team_shares[0].role: unknown value 'OWNER'"),
        ({"team": "", "role": "READONLY"}, "team_shares[0].team: 0 characters"),
        ({"role": "READONLY"}, "team_shares[0].team: missing"),
    ],
)
def test_a_broken_team_share_is_refused(exported, share, problem):
    text, path = exported
    document = json.loads(text)
    document["team_shares"] = [share]
    before = counts()

    message = refuse(write(path.parent, document, "broken.json"))

    assert problem in message
    assert counts() == before


def test_a_team_listed_twice_is_refused(exported):
    text, path = exported
    document = json.loads(text)
    document["team_shares"] = [
        {"team": "Ops", "role": "READONLY"},
        {"team": " ops", "role": "CONTRIBUTOR"},
    ]

    message = refuse(write(path.parent, document, "twice.json"))

    assert "team_shares[1].team: the team ' ops' is listed twice" in message


def test_a_member_renamed_here_is_matched_by_email(exported, bob):
    bob.username = "robert"
    bob.save()

    _, err = run("import_workload", str(exported[1]))

    workload = Workload.objects.get()
    assert dict(workload.members.values_list("user__username", "role")) == {
        "alice": Role.OWNER,
        "robert": Role.CONTRIBUTOR,
        "carol": Role.READONLY,
    }
    assert "members[1]: no user 'bob' here; matched by the email bob@example.com to 'robert'" in err
    # What bob did in the file is his here too.
    assert ImprovementItem.objects.get(answer__question__question_id="sec1").assignee == bob


def test_an_email_of_several_users_matches_nobody(exported, bob):
    bob.username = "robert"
    bob.save()
    User.objects.create_user("bobby", "BOB@example.com", "pw-for-tests-9")

    _, err = run("import_workload", str(exported[1]))

    assert "members[1]: no user 'bob' (bob@example.com) here" in err
    workload = Workload.objects.get()
    assert sorted(workload.members.values_list("user__username", flat=True)) == ["alice", "carol"]
