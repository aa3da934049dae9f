"""The profile file: the built-in profiles, the round trip, and files that are wrong."""

import json
from pathlib import Path

import pytest

from profiles import profile_format
from profiles.models import Profile
from profiles.profile_format import ProfileFileError, read_profile_file
from profiles.services import (
    BUILTIN_DIR,
    ProfileError,
    builtin_profiles_load,
    profile_import,
    profile_save,
)
from tests.profiles.conftest import document

BUILTIN_LENS = Path(__file__).resolve().parents[2] / "lenses" / "builtin" / "wellarchitected.json"


def raw(data) -> bytes:
    return json.dumps(data).encode()


def problems(data) -> list[str]:
    with pytest.raises(ProfileFileError) as caught:
        read_profile_file(data if isinstance(data, bytes) else raw(data))
    return caught.value.errors


def test_the_five_built_in_profiles_load_with_their_business_contexts(builtin_lens):
    profiles = [profile for profile, created in builtin_profiles_load() if created]

    names = {profile.name for profile in profiles}
    assert names == {
        "Healthcare and finance",
        "E-commerce",
        "Startup, first product",
        "Media and content",
        "IoT and industrial",
    }
    assert all(profile.is_builtin for profile in profiles)
    assert Profile.objects.count() == 5


def test_the_built_in_profiles_suggest_the_pillar_orders_of_the_founding_notes(builtin_lens):
    firsts = {}
    for profile, _ in builtin_profiles_load():
        orders = [
            tuple(choice["pillarOrder"])
            for question in profile.questions
            for choice in question["choices"]
            if choice["pillarOrder"]
        ]
        assert orders, profile.name
        firsts[profile.name] = set(orders)
    assert firsts["Healthcare and finance"] == {
        ("security", "reliability", "operationalExcellence")
    }
    assert firsts["E-commerce"] == {("reliability", "performance", "costOptimization")}
    assert firsts["Startup, first product"] == {
        ("costOptimization", "operationalExcellence", "performance")
    }
    assert firsts["Media and content"] == {("performance", "costOptimization", "reliability")}
    assert firsts["IoT and industrial"] == {("reliability", "security", "performance")}


def test_every_question_a_built_in_profile_prioritises_is_in_the_built_in_lens_file():
    lens = json.loads(BUILTIN_LENS.read_text())
    question_ids = {q["id"] for pillar in lens["pillars"] for q in pillar["questions"]}
    pillar_ids = {pillar["id"] for pillar in lens["pillars"]}
    for path in BUILTIN_DIR.glob("*.json"):
        data = json.loads(path.read_text())
        for question in data["questions"]:
            for choice in question["choices"]:
                for ref in choice["prioritises"]:
                    assert ref["lens"] == "wellarchitected", path.name
                    assert ref["question"] in question_ids, (path.name, ref)
                assert set(choice["pillarOrder"]) <= pillar_ids, (path.name, choice["id"])


def test_loading_the_built_in_profiles_again_keeps_what_staff_changed(builtin_lens, admin_user):
    [(first, _), *_] = builtin_profiles_load()
    edited = dict(read_profile_file(first_file_bytes()), description="Our own words.")
    profile_save(document=edited, user=admin_user, profile=first)

    again = builtin_profiles_load()

    assert [created for _, created in again] == [False] * 5
    assert Profile.objects.count() == 5
    first.refresh_from_db()
    assert first.description == "Our own words."


def test_a_deleted_built_in_profile_comes_back_on_the_next_load(builtin_lens):
    [(first, _), *_] = builtin_profiles_load()
    Profile.objects.filter(pk=first.pk).delete()

    again = builtin_profiles_load()

    assert [created for _, created in again] == [True, False, False, False, False]


def test_a_built_in_profile_whose_name_is_taken_is_refused_and_nothing_loads(
    builtin_lens, admin_user
):
    taken = read_profile_file(first_file_bytes())
    profile_save(document=taken, user=admin_user)

    with pytest.raises(ProfileError, match="exists already; rename it"):
        builtin_profiles_load()
    assert Profile.objects.count() == 1


def first_file_bytes() -> bytes:
    return sorted(BUILTIN_DIR.glob("*.json"))[0].read_bytes()


def test_a_profile_survives_export_and_import_unchanged(profile, admin_user):
    exported = profile_format.dumps(profile_format.export(profile))
    profile.delete()

    imported = profile_import(raw=exported.encode(), user=admin_user)

    assert profile_format.dumps(profile_format.export(imported)) == exported
    assert imported.questions == profile.questions


def test_a_file_with_a_profile_name_that_exists_creates_nothing(profile, admin_user):
    exported = profile_format.dumps(profile_format.export(profile)).replace(
        "Clinic systems", "CLINIC SYSTEMS"
    )
    with pytest.raises(ProfileError, match="exists already"):
        profile_import(raw=exported.encode(), user=admin_user)
    assert Profile.objects.count() == 1


def test_each_problem_is_named_by_its_place(builtin_lens):
    data = document()
    data["questions"] = json.loads(json.dumps(data["questions"]))
    data["questions"][0]["choices"][1]["id"] = "regulated"
    data["questions"][0]["choices"][0]["prioritises"].append({"question": 7})
    data["questions"][1]["selectionType"] = "SOME"
    data["questions"][1]["colour"] = "red"

    found = problems(data)

    assert "questions[0].choices[1].id: duplicate 'regulated'" in found
    assert "questions[0].choices[0].prioritises[2].question: must be a question id" in found
    assert "questions[1].selectionType: must be SINGLE or MULTIPLE" in found
    assert "questions[1].colour: unknown key" in found


def test_a_question_or_pillar_the_lens_does_not_have_is_refused(builtin_lens):
    data = document()
    data["questions"] = json.loads(json.dumps(data["questions"]))
    data["questions"][0]["choices"][0]["prioritises"][1]["question"] = "rel99"
    data["questions"][0]["choices"][1]["prioritises"][0]["lens"] = "no-such-lens"
    data["questions"][0]["choices"][0]["pillarOrder"] = ["security", "compliance"]

    found = problems(data)

    assert (
        "questions[0].choices[0].prioritises[1].question: no question 'rel99' in the lens "
        "'wellarchitected'"
    ) in found
    assert "questions[0].choices[1].prioritises[0].lens: no lens 'no-such-lens'" in found
    assert "questions[0].choices[0].pillarOrder: no pillar 'compliance' in the built-in lens" in (
        found
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"name": "x", "questions": [NaN]}', "not valid JSON: NaN is not allowed in JSON"),
        (b"\xff\xfe{", "the file is not UTF-8 text (byte 0)"),
        (b"[1, 2]", "the file must hold one JSON object"),
        (b'{"name": "Empty", "questions": []}', "questions: a profile needs at least one question"),
        (b'{"questions": [{}]}', "name: is required"),
    ],
)
def test_a_broken_file_says_what_is_wrong(builtin_lens, content, expected):
    assert expected in problems(content)


def test_importing_a_wrong_file_creates_nothing(builtin_lens, admin_user):
    with pytest.raises(ProfileFileError):
        profile_import(raw=b'{"name": "Half", "questions": [{"id": "a"}]}', user=admin_user)
    assert not Profile.objects.exists()


def test_an_exported_file_keeps_the_documented_key_order(profile):
    exported = profile_format.export(profile)

    assert list(exported["questions"][0]) == list(profile_format.QUESTION_KEYS)
    assert list(exported["questions"][0]["choices"][0]) == list(profile_format.CHOICE_KEYS)


def test_a_built_in_file_is_what_export_writes(builtin_lens):
    for path in BUILTIN_DIR.glob("*.json"):
        document = read_profile_file(path.read_bytes())
        assert json.loads(path.read_text()) == document, path.name


def test_a_nul_character_in_a_question_id_is_refused_before_any_lookup(builtin_lens):
    data = document()
    data["questions"] = json.loads(json.dumps(data["questions"]))
    data["questions"][0]["choices"][0]["prioritises"][0]["question"] = "sec\x002"
    data["questions"][0]["title"] = "Which\x00 data?"

    found = problems(data)

    assert "questions[0].choices[0].prioritises[0].question: must be a question id" in found
    assert "questions[0].title: holds a NUL character" in found
