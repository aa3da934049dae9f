"""The access walk of the lens operations: every operation as every persona.

Alice owns the workload, Bob contributes, Carol reads, Mallory has no access and Sam is staff
(who manage lenses but get no extra access to workloads), as in the browser.
"""

import json

import pytest

from api.operations.common import arn_of_lens
from lenses.services import lens_import
from reviews.services import workload_add_lens
from tests.api.lens_setup import next_document, publish_lens, publish_next
from tests.factories import lens_bytes, lens_document

PERSONAS = ("alice", "bob", "carol", "mallory", "admin_user")
EVERYONE = dict.fromkeys(PERSONAS, 200)
STAFF_ONLY = {"alice": 403, "bob": 403, "carol": 403, "mallory": 403, "admin_user": 200}
WRITERS = {"alice": 200, "bob": 200, "carol": 403, "mallory": 404, "admin_user": 404}
OWNER = {"alice": 200, "bob": 403, "carol": 403, "mallory": 404, "admin_user": 404}
READERS = {"alice": 200, "bob": 200, "carol": 200, "mallory": 404, "admin_user": 404}


@pytest.fixture
def world(workload, admin_user):
    team = publish_lens(admin_user, name="Team Lens")
    workload_add_lens(workload=workload, lens=team.lens)
    publish_next(team, admin_user)
    lens_import(
        raw=lens_bytes(next_document(team, title="Draft title?")),
        user=admin_user,
        alias=team.lens.alias,
    )
    spare = publish_lens(admin_user, name="Spare Lens")
    draft_only = lens_import(raw=lens_bytes(name="Draft Lens"), user=admin_user)
    return {
        "workload": workload.public_id,
        "team": arn_of_lens(team.lens),
        "spare": arn_of_lens(spare.lens),
        "draft": draft_only.lens.alias,
    }


CASES = {
    "ListLenses": ("GET", lambda w: ["lenses"], {}, EVERYONE),
    "GetLens": ("GET", lambda w: ["lenses", w["team"]], {}, EVERYONE),
    "GetLens of a draft": (
        "GET",
        lambda w: ["lenses", w["draft"]],
        {},
        {**STAFF_ONLY, "alice": 404, "bob": 404, "carol": 404, "mallory": 404},
    ),
    "ExportLens": ("GET", lambda w: ["lenses", w["team"], "export"], {}, EVERYONE),
    "GetLensVersionDifference": (
        "GET",
        lambda w: ["lenses", w["team"], "versionDifference"],
        {},
        EVERYONE,
    ),
    "ImportLens": (
        "PUT",
        lambda w: ["importLens"],
        {
            "body": {
                "JSONString": json.dumps(lens_document(name="New Lens")),
                "ClientRequestToken": "t",
            }
        },
        STAFF_ONLY,
    ),
    "CreateLensVersion": (
        "POST",
        lambda w: ["lenses", w["team"], "versions"],
        {"body": {"LensVersion": "2.0", "ClientRequestToken": "t"}},
        STAFF_ONLY,
    ),
    "DeleteLens": (
        "DELETE",
        lambda w: ["lenses", w["spare"]],
        {"query": {"LensStatus": "ALL", "ClientRequestToken": "t"}},
        STAFF_ONLY,
    ),
    "AssociateLenses": (
        "PATCH",
        lambda w: ["workloads", w["workload"], "associateLenses"],
        {"body": {"LensAliases": ["SPARE"]}},
        WRITERS,
    ),
    "DisassociateLenses": (
        "PATCH",
        lambda w: ["workloads", w["workload"], "disassociateLenses"],
        {"body": {"LensAliases": ["TEAM"]}},
        OWNER,
    ),
    "UpgradeLensReview": (
        "PUT",
        lambda w: ["workloads", w["workload"], "lensReviews", w["team"], "upgrade"],
        {"body": {"MilestoneName": "Before 1.1"}},
        WRITERS,
    ),
    "ListNotifications": (
        "POST",
        lambda w: ["notifications"],
        {"body": {"WorkloadId": "WORKLOAD"}},
        READERS,
    ),
    "ListLensShares": ("GET", lambda w: ["lenses", w["team"], "shares"], {}, EVERYONE),
    "CreateLensShare": (
        "POST",
        lambda w: ["lenses", w["team"], "shares"],
        {"body": {"SharedWith": "100000000009", "ClientRequestToken": "t"}},
        dict.fromkeys(PERSONAS, 400),
    ),
    "DeleteLensShare": (
        "DELETE",
        lambda w: ["lenses", w["team"], "shares", "a" * 32],
        {"query": {"ClientRequestToken": "t"}},
        dict.fromkeys(PERSONAS, 404),
    ),
}


def _filled(value, world):
    """The body or query with the world's names put in place of their placeholders."""
    names = {"SPARE": world["spare"], "TEAM": world["team"], "WORKLOAD": world["workload"]}
    return json.loads(
        json.dumps(value)
        .replace('"SPARE"', json.dumps(names["SPARE"]))
        .replace('"TEAM"', json.dumps(names["TEAM"]))
        .replace('"WORKLOAD"', json.dumps(names["WORKLOAD"]))
    )


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES)
def test_each_lens_operation_answers_each_persona_as_the_browser_would(
    signed, world, request, case, persona
):
    method, segments, extra, expected = CASES[case]
    user = request.getfixturevalue(persona)
    answer = signed(user, method, segments(world), **_filled(extra, world))
    assert answer.status == expected[persona], answer.body
    if answer.status >= 400:
        assert answer.error_type
