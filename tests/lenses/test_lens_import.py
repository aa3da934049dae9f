"""Lens services: import, publish, deprecate, the risk of a question and the built-in lens."""

import pytest

from lenses.lens_format import LensFileError
from lenses.models import Choice, Lens, LensVersion, Pillar, Question, Risk, RiskRule
from lenses.services import (
    LensError,
    builtin_lens_load,
    lens_import,
    lens_version_deprecate,
    lens_version_publish,
    suggest_version_name,
)
from tests.factories import lens_bytes, lens_document

LENS_MODELS = (Lens, LensVersion, Pillar, Question, Choice, RiskRule)
BUILTIN_PILLARS = [
    "operationalExcellence",
    "security",
    "reliability",
    "performance",
    "costOptimization",
    "sustainability",
]


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in LENS_MODELS}


def published(raw: bytes | None = None, version: str = "1.0") -> LensVersion:
    draft = lens_import(raw=raw or next_edition())
    return lens_version_publish(lens_version=draft, version=version)


_editions = iter(range(1, 1000))


def next_edition() -> bytes:
    """The test lens again, a little different each time: an identical file is refused."""
    document = lens_document()
    document["description"] = f"Edition {next(_editions)} of the test lens."
    return lens_bytes(document)


def question(lens_version: LensVersion, question_id: str) -> Question:
    return lens_version.questions.prefetch_related("risk_rules").get(question_id=question_id)


# --- import ------------------------------------------------------------------------------------


def test_import_creates_a_lens_with_a_draft_version(alice):
    version = lens_import(raw=lens_bytes(), user=alice)

    assert version.status == LensVersion.Status.DRAFT
    assert version.version == ""
    assert version.label == "draft"
    assert version.lens.alias == "test-lens"
    assert version.lens.name == "Test Lens"
    assert version.lens.owner == alice
    assert version.created_by == alice
    assert not version.lens.is_builtin


def test_import_keeps_the_name_description_and_schema_version(db):
    version = lens_import(raw=lens_bytes())

    assert version.name == "Test Lens"
    assert version.description == "A lens made for tests."
    assert version.schema_version == "2021-11-01"


def test_import_keeps_the_source_text(db):
    raw = b"\n" + lens_bytes() + b"\n"

    version = lens_import(raw=raw)

    version.refresh_from_db()
    assert version.source == raw.decode()


def test_import_keeps_the_warnings(db):
    document = lens_document()
    document["_version"] = 2

    version = lens_import(raw=lens_bytes(document))

    version.refresh_from_db()
    assert version.warnings == ["_version: unknown key; ignored"]


def test_import_creates_pillars_in_file_order(db):
    document = lens_document(pillars=3)
    document["pillars"].reverse()

    version = lens_import(raw=lens_bytes(document))

    assert list(version.pillars.values_list("pillar_id", "name", "order")) == [
        ("pillar3", "Pillar 3", 0),
        ("pillar2", "Pillar 2", 1),
        ("pillar1", "Pillar 1", 2),
    ]


def test_import_creates_questions_in_file_order(db):
    document = lens_document(pillars=2, questions=3)
    document["pillars"][1]["questions"].reverse()

    version = lens_import(raw=lens_bytes(document))

    assert list(version.questions.values_list("question_id", "pillar__pillar_id", "order")) == [
        ("p1_q1", "pillar1", 0),
        ("p1_q2", "pillar1", 1),
        ("p1_q3", "pillar1", 2),
        ("p2_q3", "pillar2", 0),
        ("p2_q2", "pillar2", 1),
        ("p2_q1", "pillar2", 2),
    ]


def test_import_keeps_the_texts_and_links_of_a_question(db):
    version = lens_import(raw=lens_bytes())

    q = version.questions.get(question_id="p1_q1")
    assert q.title == "Question p1_q1?"
    assert q.description == "What p1_q1 asks."
    assert q.helpful_resource_text == "Read this."
    assert q.helpful_resource_url == "https://example.com/help"


def test_import_creates_choices_in_file_order(db):
    document = lens_document(choices=3)
    document["pillars"][0]["questions"][0]["choices"].reverse()

    version = lens_import(raw=lens_bytes(document))

    q = version.questions.get(question_id="p1_q1")
    assert list(q.choices.values_list("choice_id", "order")) == [
        ("p1_q1_no", 0),
        ("p1_q1_c3", 1),
        ("p1_q1_c2", 2),
        ("p1_q1_c1", 3),
    ]


def test_import_keeps_the_texts_and_links_of_a_choice(db):
    version = lens_import(raw=lens_bytes())

    c = Choice.objects.get(question__lens_version=version, choice_id="p1_q1_c2")
    assert c.title == "Practice p1_q1_c2"
    assert c.helpful_resource_text == "Why p1_q1_c2."
    assert c.helpful_resource_url == "https://example.com/h"
    assert c.improvement_plan_text == "Do p1_q1_c2."
    assert c.improvement_plan_url == "https://example.com/i"


def test_import_marks_only_the_no_choices_as_none_of_these(db):
    document = lens_document(pillars=1, questions=1)
    document["pillars"][0]["questions"][0]["choices"].insert(
        0,
        {
            "id": "p1_q1_no_downtime",
            "title": "No downtime",
            "improvementPlan": {"url": "https://x.io"},
        },
    )

    version = lens_import(raw=lens_bytes(document))

    assert list(
        Choice.objects.filter(question__lens_version=version)
        .order_by("order")
        .values_list("choice_id", "is_none")
    ) == [
        ("p1_q1_no_downtime", False),
        ("p1_q1_c1", False),
        ("p1_q1_c2", False),
        ("p1_q1_c3", False),
        ("p1_q1_no", True),
    ]


def test_import_creates_risk_rules_in_file_order(db):
    version = lens_import(raw=lens_bytes())

    q = version.questions.get(question_id="p2_q1")
    assert list(q.risk_rules.values_list("condition", "risk", "order")) == [
        ("!p2_q1_c1", Risk.HIGH, 0),
        ("!p2_q1_c2 || !p2_q1_c3", Risk.MEDIUM, 1),
        ("default", Risk.NONE, 2),
    ]


def test_import_stores_the_parsed_condition(db):
    version = lens_import(raw=lens_bytes())

    rule = RiskRule.objects.get(
        question__lens_version=version, question__question_id="p1_q1", order=1
    )
    assert rule.expression == [
        "or",
        ["not", ["choice", "p1_q1_c2"]],
        ["not", ["choice", "p1_q1_c3"]],
    ]


def test_a_refused_file_creates_nothing(db):
    before = counts()

    with pytest.raises(LensFileError):
        lens_import(raw=lens_bytes(lens_document(name="")))

    assert counts() == before


def test_a_refused_file_leaves_an_existing_lens_untouched(db):
    old = published()
    draft = lens_import(raw=next_edition())
    before = counts()
    broken = lens_document()
    broken["pillars"][0]["questions"][0]["riskRules"][0]["condition"] = "!nope"

    with pytest.raises(LensFileError):
        lens_import(raw=lens_bytes(broken))

    assert counts() == before
    assert list(old.lens.versions.order_by("pk").values_list("pk", "status")) == [
        (old.pk, LensVersion.Status.PUBLISHED),
        (draft.pk, LensVersion.Status.DRAFT),
    ]


def test_importing_the_same_name_again_adds_a_draft_to_the_same_lens(db):
    first = published()

    again = lens_import(raw=next_edition())

    assert Lens.objects.count() == 1
    assert again.lens == first.lens
    assert again.is_draft


def test_importing_the_same_name_in_other_case_finds_the_same_lens(db):
    lens_import(raw=lens_bytes(name="Test Lens"), alias="mine")

    again = lens_import(raw=lens_bytes(name="TEST LENS"))

    assert Lens.objects.count() == 1
    assert again.lens.alias == "mine"


def test_importing_again_replaces_the_earlier_draft(db):
    first = lens_import(raw=lens_bytes(questions=2))

    second = lens_import(raw=lens_bytes(questions=3))

    assert list(second.lens.versions.values_list("pk", flat=True)) == [second.pk]
    assert not LensVersion.objects.filter(pk=first.pk).exists()
    assert Question.objects.count() == 2 * 3


def test_importing_again_never_touches_a_published_version(db):
    old = published(lens_bytes(questions=2))
    old_questions = list(old.questions.values_list("pk", "question_id"))

    lens_import(raw=lens_bytes(questions=3))
    lens_import(raw=lens_bytes(questions=4))

    old.refresh_from_db()
    assert old.status == LensVersion.Status.PUBLISHED
    assert old.version == "1.0"
    assert list(old.questions.values_list("pk", "question_id")) == old_questions
    assert old.lens.versions.count() == 2


def test_two_lenses_with_different_names_become_two_lenses(db):
    lens_import(raw=lens_bytes(name="Games Lens"))
    lens_import(raw=lens_bytes(name="SAP Lens"))

    assert sorted(Lens.objects.values_list("alias", flat=True)) == ["games-lens", "sap-lens"]


def test_two_lenses_whose_names_make_no_slug_stay_apart(db):
    games = lens_import(raw=lens_bytes(name="ゲームレンズ"))
    lake = lens_import(raw=lens_bytes(name="数据湖"))

    assert lake.lens != games.lens
    assert LensVersion.objects.filter(pk=games.pk).exists()


# --- publish and deprecate ---------------------------------------------------------------------


def test_the_first_suggested_version_name_is_1_0(db):
    draft = lens_import(raw=lens_bytes())

    assert suggest_version_name(draft.lens) == "1.0"


def test_the_next_suggested_version_name_adds_one_to_the_minor(db):
    first = published()

    assert suggest_version_name(first.lens) == "1.1"


def test_the_suggested_version_name_counts_minors_as_numbers(db):
    first = published(version="1.9")
    assert suggest_version_name(first.lens) == "1.10"
    published(version="1.10")

    assert suggest_version_name(first.lens) == "1.11"


def test_the_suggested_version_name_follows_the_newest_major(db):
    published(version="2.3")
    last = published(version="10.0")
    published(version="release-candidate")

    assert suggest_version_name(last.lens) == "10.1"


def test_publish_names_the_version_and_marks_it_published(db):
    draft = lens_import(raw=lens_bytes())

    lens_version_publish(lens_version=draft, version=suggest_version_name(draft.lens))

    draft.refresh_from_db()
    assert draft.status == LensVersion.Status.PUBLISHED
    assert draft.version == "1.0"
    assert draft.published_at is not None


def test_publish_twice_gives_1_0_then_1_1(db):
    for _ in range(2):
        draft = lens_import(raw=next_edition())
        lens_version_publish(lens_version=draft, version=suggest_version_name(draft.lens))

    assert list(LensVersion.objects.order_by("pk").values_list("version", "status")) == [
        ("1.0", LensVersion.Status.PUBLISHED),
        ("1.1", LensVersion.Status.PUBLISHED),
    ]


def test_publish_gives_the_lens_the_name_of_the_published_version(db):
    published(lens_bytes(name="Test Lens"))
    draft = lens_import(raw=lens_bytes(name="TEST LENS"))
    assert draft.lens.name == "Test Lens"

    lens_version_publish(lens_version=draft, version="1.1")

    assert Lens.objects.get().name == "TEST LENS"


def test_publish_refuses_a_version_name_that_exists(db):
    published(version="1.0")
    draft = lens_import(raw=next_edition())

    with pytest.raises(LensError, match="Version 1.0 of this lens exists already"):
        lens_version_publish(lens_version=draft, version="1.0")

    draft.refresh_from_db()
    assert draft.is_draft


@pytest.mark.parametrize("name", ["", "  ", "1 0", ".1", "-1", "1/0", "v" * 33, "1.0\n2"])
def test_publish_refuses_an_ill_formed_version_name(db, name):
    draft = lens_import(raw=lens_bytes())

    with pytest.raises(LensError, match="A version name is 1 to 32"):
        lens_version_publish(lens_version=draft, version=name)

    draft.refresh_from_db()
    assert draft.is_draft


def test_publish_accepts_a_32_character_version_name(db):
    draft = lens_import(raw=lens_bytes())

    lens_version_publish(lens_version=draft, version="2024.06-rc_1." + "x" * 19)

    draft.refresh_from_db()
    assert len(draft.version) == 32


def test_publish_refuses_a_version_that_is_published_already(db):
    version = published()

    with pytest.raises(LensError, match="already published"):
        lens_version_publish(lens_version=version, version="2.0")

    version.refresh_from_db()
    assert version.version == "1.0"


def test_deprecate_marks_a_published_version_deprecated(db):
    version = published()

    lens_version_deprecate(lens_version=version)

    version.refresh_from_db()
    assert version.status == LensVersion.Status.DEPRECATED


def test_deprecate_refuses_a_draft(db):
    draft = lens_import(raw=lens_bytes())

    with pytest.raises(LensError, match="Only a published version"):
        lens_version_deprecate(lens_version=draft)

    draft.refresh_from_db()
    assert draft.is_draft


def test_deprecate_refuses_a_deprecated_version(db):
    version = lens_version_deprecate(lens_version=published())

    with pytest.raises(LensError, match="Only a published version"):
        lens_version_deprecate(lens_version=version)


def test_a_deprecated_version_cannot_be_published_again(db):
    version = lens_version_deprecate(lens_version=published())

    with pytest.raises(LensError, match="already published"):
        lens_version_publish(lens_version=version, version="1.1")


# --- the risk of a question --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selected", "risk"),
    [
        (set(), Risk.HIGH),
        ({"p1_q1_c2", "p1_q1_c3"}, Risk.HIGH),
        ({"p1_q1_no"}, Risk.HIGH),
        ({"p1_q1_c1"}, Risk.MEDIUM),
        ({"p1_q1_c1", "p1_q1_c2"}, Risk.MEDIUM),
        ({"p1_q1_c1", "p1_q1_c2", "p1_q1_c3"}, Risk.NONE),
    ],
)
def test_the_risk_of_a_question_follows_its_rules_in_order(db, selected, risk):
    q = question(lens_import(raw=lens_bytes()), "p1_q1")

    assert q.risk_for(selected) == risk


def test_the_first_rule_that_holds_wins(db):
    document = lens_document(pillars=1, questions=1)
    document["pillars"][0]["questions"][0]["riskRules"] = [
        {"condition": "p1_q1_c1", "risk": "MEDIUM_RISK"},
        {"condition": "p1_q1_c1 && p1_q1_c2", "risk": "HIGH_RISK"},
        {"condition": "default", "risk": "NO_RISK"},
    ]
    q = question(lens_import(raw=lens_bytes(document)), "p1_q1")

    assert q.risk_for({"p1_q1_c1", "p1_q1_c2"}) == Risk.MEDIUM


def test_a_question_without_default_rule_has_no_risk_when_nothing_holds(db):
    document = lens_document(pillars=1, questions=1)
    document["pillars"][0]["questions"][0]["riskRules"] = [
        {"condition": "p1_q1_c1 && p1_q1_c2", "risk": "HIGH_RISK"},
        {"condition": "p1_q1_c3", "risk": "MEDIUM_RISK"},
    ]
    q = question(lens_import(raw=lens_bytes(document)), "p1_q1")

    assert q.risk_for({"p1_q1_c3"}) == Risk.MEDIUM
    assert q.risk_for({"p1_q1_c1"}) == Risk.NONE


# --- the built-in lens -------------------------------------------------------------------------


def test_the_builtin_lens_is_published_as_1_0(builtin_lens):
    assert builtin_lens.lens.alias == "wellarchitected"
    assert builtin_lens.lens.is_builtin
    assert builtin_lens.lens.owner is None
    assert builtin_lens.status == LensVersion.Status.PUBLISHED
    assert builtin_lens.version == "1.0"


def test_loading_the_builtin_lens_again_creates_nothing(builtin_lens):
    before = counts()

    version, created = builtin_lens_load()

    assert not created
    assert version == builtin_lens
    assert counts() == before


def test_the_builtin_lens_has_the_six_pillars_in_order(builtin_lens):
    assert list(builtin_lens.pillars.values_list("pillar_id", flat=True)) == BUILTIN_PILLARS


def test_every_builtin_pillar_has_at_least_six_questions(builtin_lens):
    for pillar in builtin_lens.pillars.all():
        assert pillar.questions.count() >= 6, pillar.pillar_id


def test_every_builtin_question_has_4_to_8_practices_and_one_none_of_these(builtin_lens):
    for q in builtin_lens.questions.prefetch_related("choices"):
        ids = [c.choice_id for c in q.choices.all()]
        practices = [i for i in ids if not i.endswith("_no")]
        assert 4 <= len(practices) <= 8, q.question_id
        assert len(ids) == len(practices) + 1, q.question_id


def test_every_builtin_question_has_a_high_and_a_medium_rule(builtin_lens):
    for q in builtin_lens.questions.prefetch_related("risk_rules"):
        risks = {rule.risk for rule in q.risk_rules.all()}
        assert {Risk.HIGH, Risk.MEDIUM} <= risks, q.question_id


def test_every_builtin_question_is_high_risk_when_nothing_is_selected(builtin_lens):
    for q in builtin_lens.questions.prefetch_related("risk_rules"):
        assert q.risk_for(set()) == Risk.HIGH, q.question_id


def test_a_file_identical_to_the_latest_version_is_refused_and_creates_nothing(db):
    first = published(lens_bytes())
    before = counts()

    with pytest.raises(LensError, match="identical to Test Lens 1.0"):
        lens_import(raw=lens_bytes())

    assert counts() == before
    assert first.lens.versions.count() == 1


def test_a_file_identical_to_the_draft_is_refused_too(db):
    lens_import(raw=lens_bytes())

    with pytest.raises(LensError, match="identical to Test Lens draft"):
        lens_import(raw=lens_bytes())


def test_an_explicit_alias_makes_a_separate_lens_although_the_name_matches(db):
    """Two real lenses share the name "AWS Passport Custom Lens"."""
    first = published(lens_bytes(name="AWS Passport Custom Lens"))
    other = lens_document(name="AWS Passport Custom Lens", questions=3)

    draft = lens_import(raw=lens_bytes(other), alias="passport-custom-lens")

    assert draft.lens != first.lens
    assert draft.lens.alias == "passport-custom-lens"
    assert first.lens.versions.count() == 1


@pytest.mark.parametrize(
    ("name", "alias"),
    [
        ("AWS Games Industry Lens v1.0.0", "aws-games-industry-lens"),
        ("SAP Lens 2.0", "sap-lens"),
        ("Glue Lens (2023-05-01)", "glue-lens"),
        ("FinOps Lens version 3 - 2024", "finops-lens-3"),
        ("Lens 42", "lens-42"),
        ("1.0", "10"),  # nothing but a version: the whole name it is
    ],
)
def test_default_aliases_leave_out_version_numbers_and_dates(db, name, alias):
    assert lens_import(raw=lens_bytes(name=name)).lens.alias == alias
