"""The access walk of the lens review, answer, milestone and report operations: every operation
with every persona, as tests/test_access.py walks the browser's URLs. No access is
ResourceNotFoundException (the browser's 404), a role too weak is AccessDeniedException (403)."""

import pytest

from reviews.milestones import milestone_create

LENS = "wellarchitected"
ROLES = {"read": {"alice", "bob", "carol"}, "write": {"alice", "bob"}, "owner": {"alice"}}
REVIEW = ["lensReviews", LENS]
# operation: (method, path after /workloads/{id}, query, body, who may)
OPERATIONS = {
    "ListLensReviews": ("GET", ["lensReviews"], {}, None, "read"),
    "GetLensReview": ("GET", REVIEW, {}, None, "read"),
    "UpdateLensReview": ("PATCH", REVIEW, {}, {"LensNotes": "Walked."}, "write"),
    "ListAnswers": ("GET", [*REVIEW, "answers"], {}, None, "read"),
    "GetAnswer": ("GET", [*REVIEW, "answers", "sec1"], {}, None, "read"),
    "GetAnswerOfMilestone": (
        "GET",
        [*REVIEW, "answers", "sec1"],
        {"MilestoneNumber": 1},
        None,
        "read",
    ),
    "UpdateAnswer": ("PATCH", [*REVIEW, "answers", "sec1"], {}, {"Notes": "Walked."}, "write"),
    "ListLensReviewImprovements": ("GET", [*REVIEW, "improvements"], {}, None, "read"),
    "GetLensReviewReport": ("GET", [*REVIEW, "report"], {}, None, "read"),
    "CreateMilestone": (
        "POST",
        ["milestones"],
        {},
        {"MilestoneName": "Walked", "ClientRequestToken": "walk"},
        "owner",
    ),
    "ListMilestones": ("POST", ["milestonesSummaries"], {}, {}, "read"),
    "GetMilestone": ("GET", ["milestones", "1"], {}, None, "read"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_each_persona_gets_exactly_what_its_role_allows_through_the_api(
    signed, name, workload, alice, bob, carol, mallory
):
    milestone_create(workload=workload, name="Walk start", user=alice)
    method, rest, query, body, rule = OPERATIONS[name]
    for user in (mallory, carol, bob, alice):
        answer = signed(
            user, method, ["workloads", workload.public_id, *rest], query=query, body=body
        )
        if user.username in ROLES[rule]:
            assert answer.status == 200, (name, user.username, answer.body)
        elif user is mallory:
            assert (answer.status, answer.error_type) == (404, "ResourceNotFoundException"), name
        else:
            assert (answer.status, answer.error_type) == (403, "AccessDeniedException"), (
                name,
                user.username,
            )


@pytest.mark.django_db
def test_the_consolidated_report_covers_only_what_each_persona_sees(
    signed, workload, mallory, carol
):
    query = {"Format": "JSON", "IncludeSharedResources": "true"}
    theirs = signed(mallory, "GET", ["consolidatedReport"], query=query)
    assert (theirs.status, theirs.body["Metrics"]) == (200, [])
    shared = signed(carol, "GET", ["consolidatedReport"], query=query)
    assert [m["WorkloadId"] for m in shared.body["Metrics"]] == [workload.public_id]
