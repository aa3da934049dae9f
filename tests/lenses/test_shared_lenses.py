"""The real custom lenses in ../shared/lenses import, export and import again unchanged."""

import json
import math
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lenses.lens_format import document_digest, dumps, read_lens_file
from lenses.models import Choice, LensVersion, Pillar, Question, RiskRule
from lenses.services import lens_import, lens_version_document
from tests.conftest import SHARED_LENSES
from tests.factories import lens_bytes

FILE_NAMES = sorted(path.name for path in SHARED_LENSES.glob("*.json"))

# Measured: a first import is a savepoint, two lens look-ups, the lens, the look-up of an earlier
# draft, the version, one insert per content table, the lens timestamp and the release.
IMPORT_QUERIES = 12


@pytest.fixture(params=FILE_NAMES)
def lens_path(request, shared_lens_files: list[Path]) -> Path:
    return SHARED_LENSES / request.param


def extra_insert_batches(data: dict[str, Any]) -> int:
    """Inserts beyond one per content table: SQLite caps the parameters of one statement.

    PostgreSQL has no such cap, so there this is 0 for any size.
    """
    questions = [q for p in data["pillars"] for q in p["questions"]]
    rows = {
        Pillar: len(data["pillars"]),
        Question: len(questions),
        Choice: sum(len(q["choices"]) for q in questions),
        RiskRule: sum(len(q["riskRules"]) for q in questions),
    }
    batches = 0
    for model, count in rows.items():
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        size = max(connection.ops.bulk_batch_size(fields, [None] * count), 1)
        batches += math.ceil(count / size) - 1
    return batches


def content(resource: dict | None) -> dict[str, str] | None:
    """A {displayText, url} pair as the file has it, `Url` read as `url`, empty keys left out.

    Links lose surrounding spaces (connect-customlens-sec.json has one ending in a space).
    """
    if not resource:
        return None
    url = resource.get("url") or resource.get("Url") or ""
    pair = {"displayText": resource.get("displayText"), "url": url.strip()}
    return {key: value for key, value in pair.items() if value} or None


def resources(item: dict) -> list:
    return [
        {"type": r["type"], "content": [c for c in map(content, r["content"]) if c]}
        for r in item.get("additionalResources") or []
    ]


def original_content(data: dict) -> dict:
    """What the file says, in plain terms: ids, titles, texts, links and conditions."""
    return {
        "name": data["name"],
        "description": data.get("description") or None,
        "pillars": [
            {
                "id": p["id"],
                "name": p["name"],
                "description": p.get("description") or None,
                "questions": [
                    {
                        "id": q["id"],
                        "title": q["title"],
                        "description": q.get("description") or None,
                        "helpfulResource": content(q.get("helpfulResource")),
                        "additionalResources": resources(q),
                        "choices": [
                            {
                                "id": c["id"],
                                "title": c["title"],
                                "description": c.get("description") or None,
                                "helpfulResource": content(c.get("helpfulResource")),
                                "improvementPlan": content(c.get("improvementPlan")),
                                "additionalResources": resources(c),
                            }
                            for c in q["choices"]
                        ],
                        "riskRules": [(r["condition"], r["risk"]) for r in q["riskRules"]],
                    }
                    for q in p["questions"]
                ],
            }
            for p in data["pillars"]
        ],
    }


def imported(raw: bytes, alias: str | None = None) -> LensVersion:
    return lens_import(raw=raw, alias=alias)


def test_it_imports_without_errors(db, lens_path):
    version = imported(lens_path.read_bytes())

    assert version.questions.count() > 0
    assert version.source == lens_path.read_bytes().decode("utf-8-sig")


def test_its_export_equals_the_document_read_from_the_file(db, lens_path):
    raw = lens_path.read_bytes()

    exported = lens_version_document(imported(raw))

    assert exported == read_lens_file(raw).data


def test_import_export_import_export_gives_the_same_document(db, lens_path):
    first = lens_version_document(imported(lens_path.read_bytes()))

    # Under an alias of its own: the same file again into the same lens is refused as identical.
    second = lens_version_document(imported(dumps(first).encode(), alias="round-trip"))

    assert second == first
    assert document_digest(second) == document_digest(first)


def test_its_export_keeps_what_the_file_says(db, lens_path):
    original = json.loads(lens_path.read_bytes().decode("utf-8-sig"))

    exported = lens_version_document(imported(lens_path.read_bytes()))

    assert original_content(exported) == original_content(original)


def test_its_export_reimported_keeps_what_the_file_says(db, lens_path):
    original = json.loads(lens_path.read_bytes().decode("utf-8-sig"))
    first = lens_version_document(imported(lens_path.read_bytes()))

    second = lens_version_document(imported(dumps(first).encode(), alias="round-trip"))

    assert original_content(second) == original_content(original)


def test_a_tiny_import_takes_the_measured_number_of_queries(db, django_assert_max_num_queries):
    with django_assert_max_num_queries(IMPORT_QUERIES):
        imported(lens_bytes(pillars=1, questions=1, choices=2))


def test_its_import_takes_no_more_queries_than_a_tiny_one(
    db, lens_path, django_assert_max_num_queries
):
    raw = lens_path.read_bytes()
    extra = extra_insert_batches(read_lens_file(raw).data)

    with django_assert_max_num_queries(IMPORT_QUERIES + extra):
        imported(raw)


def test_the_largest_lens_takes_as_many_queries_as_a_tiny_one(db, shared_lens_files):
    largest = max(shared_lens_files, key=lambda path: path.stat().st_size).read_bytes()
    tiny = lens_bytes(name="Tiny", pillars=1, questions=1, choices=2)

    with CaptureQueriesContext(connection) as tiny_queries:
        imported(tiny)
    with CaptureQueriesContext(connection) as largest_queries:
        imported(largest)

    extra = extra_insert_batches(read_lens_file(largest).data)
    assert len(largest_queries) == len(tiny_queries) + extra
