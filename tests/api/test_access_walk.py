"""Call every registered API operation as every persona and check what each may do.

The API's counterpart of tests/test_access.py. Each operation in api.routing.OPERATIONS needs
a row in INPUTS: who may call it, what a permitted call answers, and a minimal valid input.
An operation registered without a row fails `test_every_operation_has_a_row`, naming it, so
nothing new escapes the access rules.

Requests are serialized by botocore itself from the service model (path labels, query lists,
JSON body), signed with SigV4 and sent in-process through Django's test client. As in the
browser: people without access to the workload (mallory, and staff who are not members) get
ResourceNotFoundException where the browser gives 404; read-only members get
AccessDeniedException on writes; contributors get AccessDeniedException on owner-only actions.
Access through a team and the portfolio viewer's read-only access follow the same rules
(tests.personas); a deactivated account's key is refused as unrecognised, whatever it was given.
Nobody ever gets a 500.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.serialize import create_serializer
from botocore.validate import validate_parameters

from api.identifiers import account_id
from api.operations.common import arn_of_workload
from api.operations.review_templates import template_arn
from api.operations.shares import share_id
from api.routing import OPERATIONS
from lenses.models import Lens
from profiles.models import Profile, WorkloadProfile
from review_templates.services import template_create, template_share
from reviews.milestones import milestone_create
from reviews.models import Role, WorkloadMember
from tests.factories import lens_bytes
from tests.personas import more_personas

boto3 = pytest.importorskip("boto3")

MODEL = boto3.client("wellarchitected", region_name="us-east-1").meta.service_model
SERIALIZER = create_serializer("rest-json")
# Least access first, so that the owner's destructive calls come last. tina contributes and rita
# reads through a team, vera is a portfolio viewer, dora is deactivated (tests.personas).
PERSONAS = ("dora", "mallory", "sam", "vera", "rita", "carol", "tina", "bob", "alice")
WORKLOAD_ROLES = {
    "read": {"vera", "rita", "carol", "tina", "bob", "alice"},
    "write": {"tina", "bob", "alice"},
    "owner": {"alice"},
}
PROFILE_ARN = "arn:aws:wellarchitected:us-east-1:100000000001:profile/900001"
# Review templates are shared with people only: nobody else (teams, viewers, staff) reaches one.
TEMPLATE_ROLES = {
    "template_read": {"carol", "bob", "alice"},
    "template_write": {"bob", "alice"},
    "template_owner": {"alice"},
}
TEMPLATE_ARN = "arn:aws:wellarchitected:us-east-1:100000000001:review-template/" + "a" * 32


@dataclass
class Walk:
    """What an input may name: the workload, Bob's share of it, the caller's name."""

    who: str
    workload_id: str
    workload_arn: str
    bob_share: str
    dave_account: str
    template_arn: str = TEMPLATE_ARN

    def token(self) -> str:
        return f"walk-{self.who}"


@dataclass(frozen=True)
class Row:
    rule: str  # "user" (anyone), "staff", or the workload role needed: "read", "write", "owner"
    given: Callable[[Walk], dict[str, Any]]
    answer: str = "ok"  # what a permitted call gets: "ok" or an error type


def _workload(walk: Walk, **more: Any) -> dict[str, Any]:
    return {"WorkloadId": walk.workload_id, **more}


def _token(walk: Walk) -> dict[str, str]:
    return {"ClientRequestToken": walk.token()}


def _template_lens(walk: Walk, **more: Any) -> dict[str, Any]:
    return {"TemplateArn": walk.template_arn, "LensAlias": "wellarchitected", **more}


def _lens_review(walk: Walk, **more: Any) -> dict[str, Any]:
    return _workload(walk, LensAlias="wellarchitected", **more)


CHECK = {"LensArn": "wellarchitected", "PillarId": "security", "QuestionId": "sec1"}
UNSUPPORTED = "ValidationException"

INPUTS: dict[str, Row] = {
    # workloads
    "CreateWorkload": Row(
        "user",
        lambda w: {
            "WorkloadName": f"Walk of {w.who}",
            "Description": "Made by the access walk.",
            "Environment": "PREPRODUCTION",
            "Lenses": ["wellarchitected"],
            "ClientRequestToken": w.token(),
        },
    ),
    "GetWorkload": Row("read", _workload),
    "UpdateWorkload": Row("write", lambda w: _workload(w, Notes=f"Notes of {w.who}.")),
    "DeleteWorkload": Row("owner", lambda w: _workload(w, ClientRequestToken=w.token())),
    "ListWorkloads": Row("user", lambda w: {}),
    # shares
    "CreateWorkloadShare": Row(
        "owner",
        lambda w: _workload(
            w, SharedWith=w.dave_account, PermissionType="READONLY", ClientRequestToken=w.token()
        ),
    ),
    "ListWorkloadShares": Row("read", _workload),
    "UpdateWorkloadShare": Row(
        "owner", lambda w: _workload(w, ShareId=w.bob_share, PermissionType="CONTRIBUTOR")
    ),
    "DeleteWorkloadShare": Row(
        "owner", lambda w: _workload(w, ShareId=w.bob_share, ClientRequestToken=w.token())
    ),
    "ListShareInvitations": Row("user", lambda w: {}),
    "UpdateShareInvitation": Row(
        "user",
        lambda w: {"ShareInvitationId": "0" * 32, "ShareInvitationAction": "ACCEPT"},
        UNSUPPORTED,
    ),
    # tags
    "TagResource": Row("write", lambda w: {"WorkloadArn": w.workload_arn, "Tags": {w.who: "1"}}),
    "UntagResource": Row("write", lambda w: {"WorkloadArn": w.workload_arn, "TagKeys": ["a"]}),
    "ListTagsForResource": Row("read", lambda w: {"WorkloadArn": w.workload_arn}),
    # lens reviews, answers, milestones (api-answers) and lenses (api-lenses): the lead checks
    # these rows against those branches at merge; a row whose operation is not registered is
    # not walked.
    "ListLenses": Row("user", lambda w: {}),
    "GetLens": Row("user", lambda w: {"LensAlias": "wellarchitected"}),
    "ExportLens": Row("user", lambda w: {"LensAlias": "wellarchitected"}),
    "AssociateLenses": Row("write", lambda w: _workload(w, LensAliases=["wellarchitected"])),
    "ListNotifications": Row("user", lambda w: {}),
    "GetLensVersionDifference": Row("user", lambda w: {"LensAlias": "wellarchitected"}),
    # Lens management is for staff, as in the browser; the built-in lens has no draft to
    # publish and cannot be deleted, so staff get the refusal that says so.
    "ImportLens": Row(
        "staff",
        lambda w: {"JSONString": lens_bytes(name=f"Lens of {w.who}").decode(), **_token(w)},
    ),
    "CreateLensVersion": Row(
        "staff",
        lambda w: {"LensAlias": "wellarchitected", "LensVersion": "9.9", **_token(w)},
        "ConflictException",
    ),
    "DeleteLens": Row(
        "staff",
        lambda w: {"LensAlias": "wellarchitected", "LensStatus": "ALL", **_token(w)},
        "ValidationException",
    ),
    # Removing a lens is the owner's, as in the browser.
    "DisassociateLenses": Row(
        "owner", lambda w: _workload(w, LensAliases=["wellarchitected"]), "ValidationException"
    ),
    "UpgradeLensReview": Row(
        "write",
        lambda w: _lens_review(w, MilestoneName=f"Before {w.who}", **_token(w)),
        "ConflictException",
    ),
    "GetConsolidatedReport": Row("user", lambda w: {"Format": "JSON"}),
    "ListLensReviews": Row("read", _workload),
    "GetLensReview": Row("read", _lens_review),
    "UpdateLensReview": Row("write", lambda w: _lens_review(w, LensNotes=f"By {w.who}.")),
    "ListAnswers": Row("read", _lens_review),
    "GetAnswer": Row("read", lambda w: _lens_review(w, QuestionId="sec1")),
    "UpdateAnswer": Row(
        "write", lambda w: _lens_review(w, QuestionId="sec1", SelectedChoices=["sec1_bp1"])
    ),
    "ListLensReviewImprovements": Row("read", _lens_review),
    "GetLensReviewReport": Row("read", _lens_review),
    "CreateMilestone": Row(
        "owner", lambda w: _workload(w, MilestoneName=f"Walk {w.who}", ClientRequestToken=w.token())
    ),
    "ListMilestones": Row("read", _workload),
    "GetMilestone": Row("read", lambda w: _workload(w, MilestoneNumber=1)),
    # what Archlens does not have: a list is empty, the rest a ValidationException
    # profiles (api.operations.profiles): the walk's workload uses the profile at PROFILE_ARN
    "AssociateProfiles": Row("write", lambda w: _workload(w, ProfileArns=[PROFILE_ARN])),
    "DisassociateProfiles": Row("write", lambda w: _workload(w, ProfileArns=[PROFILE_ARN])),
    "UpgradeProfileVersion": Row("write", lambda w: _workload(w, ProfileArn=PROFILE_ARN)),
    "UpdateIntegration": Row(
        "write",
        lambda w: _workload(w, ClientRequestToken=w.token(), IntegratingService="JIRA"),
        UNSUPPORTED,
    ),
    "ListCheckDetails": Row("read", lambda w: _workload(w, ChoiceId="sec1_bp1", **CHECK)),
    "ListCheckSummaries": Row("read", lambda w: _workload(w, ChoiceId="sec1_bp1", **CHECK)),
    "CreateProfile": Row(
        "staff",
        lambda w: {
            "ProfileName": "Startup",
            "ProfileDescription": "Early stage.",
            "ProfileQuestions": [{"QuestionId": "q1", "SelectedChoiceIds": ["c1"]}],
            "ClientRequestToken": w.token(),
        },
        UNSUPPORTED,  # profiles write their own questions: in the browser or a profile file
    ),
    "CreateProfileShare": Row(
        "user",
        lambda w: {
            "ProfileArn": PROFILE_ARN,
            "SharedWith": w.dave_account,
            "ClientRequestToken": w.token(),
        },
        UNSUPPORTED,
    ),
    "DeleteProfile": Row(
        "staff", lambda w: {"ProfileArn": PROFILE_ARN, "ClientRequestToken": w.token()}
    ),
    "DeleteProfileShare": Row(
        "user",
        lambda w: {"ProfileArn": PROFILE_ARN, "ShareId": "0" * 32, "ClientRequestToken": w.token()},
        UNSUPPORTED,
    ),
    "GetProfile": Row("user", lambda w: {"ProfileArn": PROFILE_ARN}),
    "GetProfileTemplate": Row("user", lambda w: {}, UNSUPPORTED),
    "ListProfileNotifications": Row("user", lambda w: {}),
    "ListProfileShares": Row("user", lambda w: {"ProfileArn": PROFILE_ARN}),
    "ListProfiles": Row("user", lambda w: {}),
    "UpdateProfile": Row(
        "staff", lambda w: {"ProfileArn": PROFILE_ARN, "ProfileDescription": "Newer."}
    ),
    # review templates: alice owns the walk's template, bob contributes, carol reads
    "CreateReviewTemplate": Row(
        "user",
        lambda w: {
            "TemplateName": f"Walk template of {w.who}",
            "Description": "Made by the access walk.",
            "Lenses": ["wellarchitected"],
            "ClientRequestToken": w.token(),
        },
    ),
    "GetReviewTemplate": Row("template_read", lambda w: {"TemplateArn": w.template_arn}),
    "UpdateReviewTemplate": Row(
        "template_owner", lambda w: {"TemplateArn": w.template_arn, "Description": "New one."}
    ),
    "DeleteReviewTemplate": Row(
        "template_owner",
        lambda w: {"TemplateArn": w.template_arn, "ClientRequestToken": w.token()},
    ),
    "ListReviewTemplates": Row("user", lambda w: {}),
    "GetReviewTemplateAnswer": Row("template_read", lambda w: _template_lens(w, QuestionId="sec1")),
    "ListReviewTemplateAnswers": Row("template_read", lambda w: _template_lens(w)),
    "UpdateReviewTemplateAnswer": Row(
        "template_write",
        lambda w: _template_lens(w, QuestionId="sec1", SelectedChoices=["sec1_bp1"]),
    ),
    "GetReviewTemplateLensReview": Row("template_read", lambda w: _template_lens(w)),
    "UpdateReviewTemplateLensReview": Row(
        "template_write", lambda w: _template_lens(w, LensNotes=f"By {w.who}.")
    ),
    "UpgradeReviewTemplateLensReview": Row(
        "template_owner", lambda w: _template_lens(w), UNSUPPORTED
    ),
    "CreateTemplateShare": Row(
        "template_owner",
        lambda w: {
            "TemplateArn": w.template_arn,
            "SharedWith": w.dave_account,
            "ClientRequestToken": w.token(),
        },
    ),
    "DeleteTemplateShare": Row(
        "template_owner",
        lambda w: {
            "TemplateArn": w.template_arn,
            "ShareId": "0" * 32,
            "ClientRequestToken": w.token(),
        },
        "ResourceNotFoundException",  # no share has that id
    ),
    "ListTemplateShares": Row("template_read", lambda w: {"TemplateArn": w.template_arn}),
    "CreateLensShare": Row(
        "user",
        lambda w: {
            "LensAlias": "wellarchitected",
            "SharedWith": w.dave_account,
            "ClientRequestToken": w.token(),
        },
        UNSUPPORTED,
    ),
    "DeleteLensShare": Row(
        "user",
        lambda w: {
            "LensAlias": "wellarchitected",
            "ShareId": "0" * 32,
            "ClientRequestToken": w.token(),
        },
        "ResourceNotFoundException",  # no share can exist
    ),
    "ListLensShares": Row("user", lambda w: {"LensAlias": "wellarchitected"}),
    "GetGlobalSettings": Row("user", lambda w: {}),
    "UpdateGlobalSettings": Row("user", lambda w: {"OrganizationSharingStatus": "DISABLED"}),
}

REGISTERED = sorted({operation.name for operation in OPERATIONS})


def allowed(rule: str, who: str) -> bool:
    if who == "dora":
        return False
    if rule == "user":
        return True
    if rule == "staff":
        return who == "sam"
    if rule in TEMPLATE_ROLES:
        return who in TEMPLATE_ROLES[rule]
    return who in WORKLOAD_ROLES[rule]


def refusal(rule: str, who: str) -> str:
    """What the browser's 404 or 403 (or, signed out, its login page) is in the API."""
    if who == "dora":
        return "UnrecognizedClientException"
    if rule in WORKLOAD_ROLES and who in ("mallory", "sam"):
        return "ResourceNotFoundException"
    if rule in TEMPLATE_ROLES and who not in TEMPLATE_ROLES["template_read"]:
        return "ResourceNotFoundException"
    return "AccessDeniedException"


@pytest.fixture(autouse=True)
def walk_profile(request):
    """The profile at PROFILE_ARN, used by the walk's workload (for the tests that have one)."""
    if "workload" not in request.fixturenames:
        return
    workload = request.getfixturevalue("workload")
    profile = Profile.objects.create(
        pk=900_001,
        name="Walk profile",
        questions=[
            {
                "id": "q",
                "title": "Question",
                "description": "",
                "selectionType": "SINGLE",
                "choices": [
                    {
                        "id": "c",
                        "title": "Choice",
                        "description": "",
                        "prioritises": [],
                        "pillarOrder": [],
                    }
                ],
            }
        ],
    )
    WorkloadProfile.objects.create(workload=workload, profile=profile)


def test_every_operation_has_a_row():
    assert [name for name in REGISTERED if name not in INPUTS] == [], (
        "add these operations to INPUTS in tests/api/test_access_walk.py"
    )


def test_every_row_is_valid_input_for_the_service_model():
    walk = Walk("alice", "0" * 32, "arn:aws:wellarchitected:us-east-1:1:workload/x", "0", "1" * 12)
    for name, row in INPUTS.items():
        shape = MODEL.operation_model(name).input_shape
        if shape is None:
            assert row.given(walk) == {}, name
        else:
            validate_parameters(row.given(walk), shape)


def _send(client, issued, name: str, params: dict[str, Any]):
    operation = MODEL.operation_model(name)
    request = SERIALIZER.serialize_to_request(params, operation)
    path = "/aws" + request["url_path"]
    if request["query_string"]:
        path += "?" + urlencode(request["query_string"], doseq=True, quote_via=quote)
    body = request["body"] or b""
    if isinstance(body, str):
        body = body.encode()
    signing = AWSRequest(
        method=request["method"],
        url=f"http://testserver{path}",
        data=body or None,
        headers=request["headers"],
    )
    credentials = Credentials(issued.key.access_key_id, issued.secret)
    SigV4Auth(credentials, "wellarchitected", "us-east-1").add_auth(signing)
    headers = dict(signing.headers.items())
    return client.generic(
        request["method"],
        path,
        data=body,
        content_type=headers.pop("Content-Type", ""),
        headers=headers,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", REGISTERED)
def test_each_persona_gets_exactly_what_its_role_allows(
    client, name, workload, admin_user, mallory, carol, bob, alice, dora, key_for
):
    row = INPUTS.get(name)
    if row is None:
        pytest.fail(f"{name} has no row in INPUTS of tests/api/test_access_walk.py: add one")
    milestone_create(workload=workload, name="Baseline", user=alice)
    dave = type(alice).objects.create_user("dave", "dave@example.com", "pw-for-tests-9")
    bob_share = share_id(WorkloadMember.objects.get(workload=workload, user=bob).pk)
    people = {"mallory": mallory, "sam": admin_user, "carol": carol, "bob": bob, "alice": alice}
    people |= {"dora": dora, **more_personas(workload, dora)}
    template = template_create(
        owner=alice, name="Walk template", lenses=[Lens.objects.get(alias="wellarchitected")]
    )
    template_share(template=template, user=bob, role=Role.CONTRIBUTOR)
    template_share(template=template, user=carol, role=Role.READONLY)

    for who in PERSONAS:
        walk = Walk(
            who,
            workload.public_id,
            arn_of_workload(workload),
            bob_share,
            account_id(dave.pk),
            template_arn(template),
        )
        response = _send(client, key_for(people[who]), name, row.given(walk))
        body = json.loads(response.content or b"{}")
        error = response.headers.get("x-amzn-ErrorType", "")
        seen = f"{who} {name}: {response.status_code} {error} {body.get('Message', '')}"
        assert response.status_code != 500, seen
        assert response["Content-Type"] == "application/json", seen
        if not allowed(row.rule, who):
            assert error == refusal(row.rule, who), seen
        elif row.answer == "ok":
            assert response.status_code == 200 and not error, seen
        else:
            assert error == row.answer, seen
