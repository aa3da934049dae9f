"""read_lens_file: what a lens file must look like, and where each problem is reported."""

import json

import pytest
from django.conf import settings

from lenses.lens_format import LensFileError, group_problems, read_lens_file
from tests.factories import lens_bytes, lens_document

Q0 = "pillars[0].questions[0]"


def errors_of(raw: bytes | dict) -> list[str]:
    if isinstance(raw, dict):
        raw = lens_bytes(raw)
    with pytest.raises(LensFileError) as caught:
        read_lens_file(raw)
    return caught.value.errors


def first_question(document: dict) -> dict:
    return document["pillars"][0]["questions"][0]


def two_choice_question(qid: str) -> dict:
    """A question whose choices have the generic ids real lenses reuse (choice1, choice2)."""
    return {
        "id": qid,
        "title": f"Question {qid}?",
        "choices": [
            {"id": "choice1", "title": "One", "improvementPlan": {"displayText": "Do one."}},
            {"id": "choice2", "title": "Two", "improvementPlan": {"displayText": "Do two."}},
            {"id": "choice_no", "title": "None of these"},
        ],
        "riskRules": [
            {"condition": "choice1 && choice2", "risk": "NO_RISK"},
            {"condition": "choice1 || choice2", "risk": "MEDIUM_RISK"},
            {"condition": "default", "risk": "HIGH_RISK"},
        ],
    }


# --- a valid file ------------------------------------------------------------------------------


def test_a_valid_file_gives_the_normalised_document():
    document = read_lens_file(lens_bytes())

    assert document.data == lens_document()


def test_a_valid_file_gives_no_warnings():
    assert read_lens_file(lens_bytes()).warnings == []


def test_it_keeps_the_text_of_the_file():
    raw = lens_bytes()

    assert read_lens_file(raw).text == raw.decode()


def test_it_leaves_out_empty_optional_keys():
    document = lens_document()
    document["description"] = ""
    first_question(document)["description"] = ""
    first_question(document)["helpfulResource"] = {"displayText": "", "url": ""}
    first_question(document)["choices"][0]["helpfulResource"] = {}

    data = read_lens_file(lens_bytes(document)).data

    assert "description" not in data
    assert "description" not in first_question(data)
    assert "helpfulResource" not in first_question(data)
    assert "helpfulResource" not in first_question(data)["choices"][0]


def test_it_assumes_the_schema_version_when_it_is_missing():
    document = lens_document()
    del document["schemaVersion"]

    result = read_lens_file(lens_bytes(document))

    assert result.data["schemaVersion"] == "2021-11-01"
    assert "schemaVersion: missing; assumed 2021-11-01" in result.warnings


def test_it_accepts_the_same_choice_id_in_two_questions():
    document = lens_document(questions=1)
    document["pillars"][0]["questions"] = [two_choice_question("q1"), two_choice_question("q2")]

    data = read_lens_file(lens_bytes(document)).data

    assert [c["id"] for c in data["pillars"][0]["questions"][1]["choices"]] == [
        "choice1",
        "choice2",
        "choice_no",
    ]


def test_it_accepts_texts_at_their_limits():
    document = lens_document()
    document["name"] = "n" * 128
    document["description"] = "d" * 2048
    first_question(document)["title"] = "t" * 512
    first_question(document)["helpfulResource"]["displayText"] = "h" * 2048

    data = read_lens_file(lens_bytes(document)).data

    assert len(first_question(data)["title"]) == 512


def test_it_accepts_a_file_of_exactly_the_largest_size():
    raw = lens_bytes()
    raw += b" " * (settings.LENS_MAX_BYTES - len(raw))

    assert read_lens_file(raw).data == lens_document()


def test_it_accepts_nan_inside_a_text():
    document = lens_document()
    first_question(document)["title"] = "NaN, Infinity and other numbers?"

    data = read_lens_file(lens_bytes(document)).data

    assert first_question(data)["title"] == "NaN, Infinity and other numbers?"


# --- not strict JSON ---------------------------------------------------------------------------


def test_it_refuses_a_bare_nan_with_its_line():
    raw = b'{\n  "name": "Lens",\n  "score": NaN,\n  "pillars": []\n}'

    errors = errors_of(raw)

    assert len(errors) == 1
    assert errors[0].split(": ")[0] == "line 3, column 12"
    assert "NaN" in errors[0]


def test_it_refuses_infinity_with_its_line():
    raw = b'{\n  "name": "Lens",\n  "pillars": [],\n  "weight": -Infinity\n}'

    errors = errors_of(raw)

    assert len(errors) == 1
    assert errors[0].split(": ")[0] == "line 4, column 13"
    assert "Infinity" in errors[0]


def test_it_refuses_a_trailing_comma_with_its_line_and_column():
    raw = b'{\n  "name": "Lens",\n  "pillars": [],\n}'

    assert errors_of(raw) == [
        "line 4, column 1: not valid JSON: Expecting property name enclosed in double quotes"
    ]


def test_it_refuses_a_truncated_file_with_its_line_and_column():
    raw = b'{\n  "name": "Lens",\n  "pillars": ['

    assert errors_of(raw) == ["line 3, column 15: not valid JSON: Expecting value"]


def test_it_refuses_a_file_that_is_not_utf8():
    raw = lens_bytes().replace(b"A lens made for tests.", "Une qualité.".encode("latin-1"))
    offset = raw.index(b"\xe9")

    assert errors_of(raw) == [f"file: not UTF-8 text (invalid byte at offset {offset})"]


def test_it_refuses_a_file_over_the_size_limit():
    raw = lens_bytes()
    raw += b" " * (settings.LENS_MAX_BYTES + 1 - len(raw))

    assert errors_of(raw) == [
        f"file: {len(raw):,} bytes; a lens file may be at most {settings.LENS_MAX_BYTES:,} bytes"
    ]


@pytest.mark.parametrize(
    ("raw", "kind"), [(b"[]", "a list"), (b'"lens"', "text"), (b"null", "null"), (b"7", "a number")]
)
def test_it_refuses_a_root_that_is_not_an_object(raw, kind):
    assert errors_of(raw) == [f"file: must hold a JSON object, not {kind}"]


# --- required parts ----------------------------------------------------------------------------


def test_it_refuses_a_missing_name():
    document = lens_document()
    del document["name"]

    assert errors_of(document) == ["name: missing"]


@pytest.mark.parametrize("name", ["", "   "])
def test_it_refuses_an_empty_name(name):
    document = lens_document(name=name)

    assert errors_of(document) == ["name: must not be empty"]


def test_it_refuses_missing_pillars():
    document = lens_document()
    del document["pillars"]

    assert errors_of(document) == ["pillars: missing"]


def test_it_refuses_empty_pillars():
    document = lens_document()
    document["pillars"] = []

    assert errors_of(document) == ["pillars: must not be empty"]


def test_it_refuses_a_pillar_without_questions():
    document = lens_document()
    del document["pillars"][1]["questions"]

    assert errors_of(document) == ["pillars[1].questions: missing"]


def test_it_refuses_a_pillar_with_empty_questions():
    document = lens_document()
    document["pillars"][1]["questions"] = []

    assert errors_of(document) == ["pillars[1].questions: must not be empty"]


def test_it_refuses_a_question_without_choices():
    document = lens_document()
    del first_question(document)["choices"]

    assert f"{Q0}.choices: missing" in errors_of(document)


def test_it_refuses_a_question_with_empty_choices():
    document = lens_document()
    first_question(document)["choices"] = []

    assert f"{Q0}.choices: must not be empty" in errors_of(document)


# --- ids ---------------------------------------------------------------------------------------


def test_it_refuses_a_duplicate_pillar_id():
    document = lens_document()
    document["pillars"][1]["id"] = "pillar1"

    assert errors_of(document) == ["pillars[1].id: duplicate 'pillar1'"]


def test_it_refuses_a_duplicate_question_id_across_pillars():
    document = lens_document()
    document["pillars"][1]["questions"][1]["id"] = "p1_q2"

    assert errors_of(document) == ["pillars[1].questions[1].id: duplicate 'p1_q2'"]


def test_it_refuses_a_duplicate_choice_id_within_a_question():
    document = lens_document()
    first_question(document)["choices"].append({"id": "p1_q1_c2", "title": "Again"})

    assert errors_of(document) == [f"{Q0}.choices[4].id: duplicate 'p1_q1_c2'"]


@pytest.mark.parametrize("pillar_id", ["my-pillar", "sécurité", "two words", "ab"])
def test_it_refuses_a_pillar_id_with_bad_characters_or_length(pillar_id):
    document = lens_document()
    document["pillars"][0]["id"] = pillar_id

    assert errors_of(document) == [
        f"pillars[0].id: '{pillar_id}' must be 3 to 128 of A-Z, a-z, 0-9, _"
    ]


def test_it_refuses_a_pillar_id_over_128_characters():
    document = lens_document()
    document["pillars"][0]["id"] = "p" * 129

    assert "pillars[0].id: 129 characters; at most 128 are allowed" in errors_of(document)


def test_it_refuses_a_choice_id_with_bad_characters():
    document = lens_document()
    first_question(document)["choices"][3]["id"] = "p1 q1 no"

    assert errors_of(document) == [
        f"{Q0}.choices[3].id: 'p1 q1 no' must be 1 to 128 of A-Z, a-z, 0-9, _, -"
    ]


# --- risk rules --------------------------------------------------------------------------------


def test_it_refuses_an_unknown_choice_in_a_condition():
    document = lens_document()
    document["pillars"][0]["questions"][1]["riskRules"][0]["condition"] = "!x"

    assert errors_of(document) == [
        "pillars[0].questions[1].riskRules[0].condition: unknown choice 'x'"
    ]


def test_it_refuses_a_choice_of_another_question_in_a_condition():
    document = lens_document()
    first_question(document)["riskRules"][1]["condition"] = "!p1_q1_c2 || !p1_q2_c3"

    assert errors_of(document) == [f"{Q0}.riskRules[1].condition: unknown choice 'p1_q2_c3'"]


@pytest.mark.parametrize("risk", ["CRITICAL", "high_risk", "HIGH", None, 1])
def test_it_refuses_a_bad_risk_value(risk):
    document = lens_document()
    first_question(document)["riskRules"][2]["risk"] = risk

    assert errors_of(document) == [
        f"{Q0}.riskRules[2].risk: {json.dumps(risk)} is not one of HIGH_RISK, MEDIUM_RISK, NO_RISK"
    ]


def test_it_refuses_a_missing_risk():
    document = lens_document()
    del first_question(document)["riskRules"][2]["risk"]

    assert errors_of(document) == [
        f"{Q0}.riskRules[2].risk: null is not one of HIGH_RISK, MEDIUM_RISK, NO_RISK"
    ]


@pytest.mark.parametrize("risk", [["HIGH_RISK"], {"level": "HIGH_RISK"}])
def test_it_refuses_a_risk_that_is_a_list_or_an_object(risk):
    document = lens_document()
    first_question(document)["riskRules"][2]["risk"] = risk

    errors = errors_of(document)

    assert len(errors) == 1
    assert errors[0].startswith(f"{Q0}.riskRules[2].risk: ")


@pytest.mark.parametrize("condition", ["", "   "])
def test_it_refuses_an_empty_condition(condition):
    document = lens_document()
    first_question(document)["riskRules"][0]["condition"] = condition

    assert errors_of(document) == [f"{Q0}.riskRules[0].condition: must not be empty"]


def test_it_refuses_a_missing_condition():
    document = lens_document()
    del first_question(document)["riskRules"][0]["condition"]

    assert errors_of(document) == [f"{Q0}.riskRules[0].condition: missing"]


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("p1_q1_c1 & p1_q1_c2", "unexpected '&' at position 9 (use '&&')"),
        ("(p1_q1_c1 || p1_q1_c2", "unclosed '(' at position 0"),
        ("p1_q1_c1 &&", "unexpected end of condition"),
        ("|| p1_q1_c1", "expected a choice id at position 0"),
        (
            "p1_q1_c1 || default",
            "unexpected 'default' at position 12 ('default' must be the whole condition)",
        ),
    ],
)
def test_it_refuses_an_unparsable_condition_with_the_parsers_position(condition, message):
    document = lens_document()
    first_question(document)["riskRules"][0]["condition"] = condition

    assert errors_of(document) == [f"{Q0}.riskRules[0].condition: {message}"]


def test_it_refuses_a_condition_that_is_not_text():
    document = lens_document()
    first_question(document)["riskRules"][0]["condition"] = True

    assert errors_of(document) == [f"{Q0}.riskRules[0].condition: must be text, not true/false"]


# --- lengths -----------------------------------------------------------------------------------


def test_it_refuses_a_name_over_128_characters():
    document = lens_document(name="n" * 129)

    assert errors_of(document) == ["name: 129 characters; at most 128 are allowed"]


def test_it_refuses_a_schema_version_too_long_to_store():
    # LensVersion.schema_version holds 32 characters; PostgreSQL raises DataError beyond that.
    document = lens_document()
    document["schemaVersion"] = "2021-11-01" + "x" * 23

    errors = errors_of(document)

    assert len(errors) == 1
    assert errors[0].startswith("schemaVersion: ")


def test_it_refuses_a_description_over_2048_characters():
    document = lens_document()
    document["description"] = "d" * 2049

    assert errors_of(document) == ["description: 2,049 characters; at most 2,048 are allowed"]


def test_it_refuses_a_question_title_over_512_characters():
    document = lens_document()
    document["pillars"][1]["questions"][0]["title"] = "t" * 513

    assert errors_of(document) == [
        "pillars[1].questions[0].title: 513 characters; at most 512 are allowed"
    ]


def test_it_refuses_a_choice_title_over_512_characters():
    document = lens_document()
    first_question(document)["choices"][2]["title"] = "t" * 513

    assert errors_of(document) == [
        f"{Q0}.choices[2].title: 513 characters; at most 512 are allowed"
    ]


def test_it_refuses_a_display_text_over_2048_characters():
    document = lens_document()
    first_question(document)["choices"][1]["improvementPlan"]["displayText"] = "x" * 2049

    assert errors_of(document) == [
        f"{Q0}.choices[1].improvementPlan.displayText: 2,049 characters; at most 2,048 are allowed"
    ]


# --- links -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "ftp://example.com/file", "example.com", "https://", "mailto:a@b"],
)
def test_it_refuses_a_link_that_is_not_http(url):
    document = lens_document()
    first_question(document)["helpfulResource"]["url"] = url

    assert errors_of(document) == [f"{Q0}.helpfulResource.url: '{url}' is not an http(s) link"]


def test_it_refuses_a_javascript_link_in_an_improvement_plan():
    document = lens_document()
    first_question(document)["choices"][0]["improvementPlan"]["url"] = "JavaScript:alert(1)"

    assert errors_of(document) == [
        f"{Q0}.choices[0].improvementPlan.url: 'JavaScript:alert(1)' is not an http(s) link"
    ]


def test_it_refuses_a_non_http_link_in_additional_resources():
    document = lens_document()
    first_question(document)["additionalResources"] = [
        {"type": "HELPFUL_RESOURCE", "content": [{"displayText": "Old", "url": "ftp://x/y"}]}
    ]

    assert errors_of(document) == [
        f"{Q0}.additionalResources[0].content[0].url: 'ftp://x/y' is not an http(s) link"
    ]


def test_it_refuses_an_unknown_additional_resource_type():
    document = lens_document()
    first_question(document)["additionalResources"] = [
        {"type": "VIDEO", "content": [{"displayText": "Watch", "url": "https://example.com/v"}]}
    ]

    assert errors_of(document) == [
        f"{Q0}.additionalResources[0].type: must be one of HELPFUL_RESOURCE, IMPROVEMENT_PLAN"
    ]


# --- wrong types -------------------------------------------------------------------------------


def test_it_refuses_a_title_that_is_a_number():
    document = lens_document()
    first_question(document)["title"] = 42

    assert errors_of(document) == [f"{Q0}.title: must be text, not a number"]


def test_it_refuses_choices_that_are_an_object():
    document = lens_document()
    first_question(document)["choices"] = {"id": "p1_q1_c1", "title": "One"}

    assert f"{Q0}.choices: must be a list, not an object" in errors_of(document)


def test_it_refuses_pillars_that_are_text():
    document = lens_document()
    document["pillars"] = "security"

    assert errors_of(document) == ["pillars: must be a list, not text"]


def test_it_refuses_a_question_that_is_not_an_object():
    document = lens_document()
    document["pillars"][1]["questions"][1] = "What?"

    assert errors_of(document) == ["pillars[1].questions[1]: must be an object, not text"]


def test_it_refuses_a_helpful_resource_that_is_text():
    document = lens_document()
    first_question(document)["helpfulResource"] = "https://example.com"

    assert errors_of(document) == [f"{Q0}.helpfulResource: must be an object, not text"]


def test_it_refuses_a_link_that_is_a_number():
    document = lens_document()
    first_question(document)["helpfulResource"]["url"] = 80

    assert errors_of(document) == [f"{Q0}.helpfulResource.url: must be text, not a number"]


# --- several problems --------------------------------------------------------------------------


def test_it_reports_every_problem_together_in_file_order():
    document = lens_document()
    document["name"] = ""
    first_question(document)["title"] = 42
    document["pillars"][1]["questions"][1]["riskRules"][2]["risk"] = "SEVERE"

    assert errors_of(document) == [
        "name: must not be empty",
        f"{Q0}.title: must be text, not a number",
        "pillars[1].questions[1].riskRules[2].risk: "
        '"SEVERE" is not one of HIGH_RISK, MEDIUM_RISK, NO_RISK',
    ]


def test_it_reports_the_warnings_with_the_errors():
    document = lens_document(name="")
    document["_version"] = 3

    with pytest.raises(LensFileError) as caught:
        read_lens_file(lens_bytes(document))

    assert caught.value.warnings == ["_version: unknown key; ignored"]


# --- accepted with a warning -------------------------------------------------------------------


def test_it_ignores_an_unknown_key_at_the_root_with_a_warning():
    document = lens_document()
    document["_version"] = "1.2"

    result = read_lens_file(lens_bytes(document))

    assert "_version" not in result.data
    assert result.warnings == ["_version: unknown key; ignored"]


def test_it_ignores_a_number_on_a_question_with_a_warning():
    document = lens_document()
    document["pillars"][1]["questions"][0]["number"] = 3

    result = read_lens_file(lens_bytes(document))

    assert result.data == lens_document()
    assert result.warnings == ["pillars[1].questions[0].number: unknown key; ignored"]


def test_it_keeps_a_description_on_a_choice_with_a_warning():
    document = lens_document()
    first_question(document)["choices"][0]["description"] = "Why this matters."

    result = read_lens_file(lens_bytes(document))

    assert first_question(result.data)["choices"][0]["description"] == "Why this matters."
    assert result.warnings == [
        f"{Q0}.choices[0].description: not part of the custom-lens format; kept"
    ]


def test_it_reads_url_with_a_capital_u_as_url():
    document = lens_document()
    first_question(document)["helpfulResource"] = {
        "displayText": "Read this.",
        "Url": "https://example.com/capital",
    }

    result = read_lens_file(lens_bytes(document))

    assert first_question(result.data)["helpfulResource"] == {
        "displayText": "Read this.",
        "url": "https://example.com/capital",
    }
    assert result.warnings == [f"{Q0}.helpfulResource.Url: read as 'url'"]


def test_it_prefers_url_when_both_spellings_are_given():
    document = lens_document()
    resource = first_question(document)["choices"][0]["improvementPlan"]
    resource["Url"] = "https://example.com/other"

    result = read_lens_file(lens_bytes(document))

    assert first_question(result.data)["choices"][0]["improvementPlan"]["url"] == (
        "https://example.com/i"
    )
    assert result.warnings == [f"{Q0}.choices[0].improvementPlan.Url: ignored; 'url' is also given"]


def test_it_ignores_a_utf8_byte_order_mark_with_a_warning():
    result = read_lens_file(b"\xef\xbb\xbf" + lens_bytes())

    assert result.data == lens_document()
    assert result.warnings == ["file: starts with a UTF-8 byte-order mark; ignored"]


def test_it_accepts_crlf_line_ends_with_a_warning():
    raw = json.dumps(lens_document(), indent=2).replace("\n", "\r\n").encode()

    result = read_lens_file(raw)

    assert result.data == lens_document()
    assert result.warnings == ["file: Windows (CRLF) line ends; accepted"]


def test_it_accepts_a_question_without_a_default_rule_with_a_warning():
    document = lens_document()
    del document["pillars"][1]["questions"][1]["riskRules"][2]

    result = read_lens_file(lens_bytes(document))

    assert len(result.data["pillars"][1]["questions"][1]["riskRules"]) == 2
    assert result.warnings == [
        "pillars[1].questions[1].riskRules: "
        "no 'default' rule; when no condition holds the question has no risk"
    ]


def test_a_number_too_long_for_python_is_a_located_error():
    raw = b'{\n  "schemaVersion": ' + b"9" * 5000 + b"\n}"

    with pytest.raises(LensFileError) as caught:
        read_lens_file(raw)

    assert caught.value.errors == ["line 2, column 20: a number of 5,000 digits; too long"]


def test_errors_are_capped_and_the_rest_counted():
    document = lens_document(pillars=1, questions=1, choices=1)
    question = document["pillars"][0]["questions"][0]
    question["riskRules"] = [{"condition": f"!nope{i}", "risk": "HIGH_RISK"} for i in range(450)]

    with pytest.raises(LensFileError) as caught:
        read_lens_file(json.dumps(document).encode())

    assert len(caught.value.errors) == 200
    assert caught.value.error_count == 450
    assert caught.value.more_errors == 250


def test_repeated_warnings_are_grouped_with_a_count_and_the_first_places():
    groups = group_problems([f"pillars[{i}]._teams: unknown key; ignored" for i in range(100)])

    assert len(groups) == 1
    assert (groups[0].message, groups[0].count, groups[0].more) == (
        "unknown key; ignored",
        100,
        97,
    )
    assert groups[0].places == ["pillars[0]._teams", "pillars[1]._teams", "pillars[2]._teams"]
