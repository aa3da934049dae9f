"""The issue's "Done when" script with boto3, as written for the AWS tool, against Archlens."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from api.identifiers import account_id
from tests.api.done_when import (
    LENS_VERSION,
    MILESTONE_NAME,
    PICKS,
    WORKLOAD_NAME,
    check,
    lens_json,
    recorded_before_delete,
)

pytestmark = pytest.mark.django_db(transaction=True)
LENS = "wellarchitected"


def done_when(client, *, lens_json: str, share_with: str) -> dict[str, Any]:
    """The script: everything it reads goes into the summary `check` looks at."""
    workload_id = client.create_workload(
        WorkloadName=WORKLOAD_NAME,
        Description="Takes orders from the shop to the warehouse.",
        Environment="PRODUCTION",
        AwsRegions=["eu-west-1"],
        Lenses=[LENS],
        ReviewOwner="Sam Staff",
        PillarPriorities=["reliability"],
    )["WorkloadId"]
    summary: dict[str, Any] = {"workloadId": workload_id, "pages": 0, "questionIds": []}

    kwargs: dict[str, Any] = {"WorkloadId": workload_id, "LensAlias": LENS, "MaxResults": 10}
    while True:
        page = client.list_answers(**kwargs)
        summary["pages"] += 1
        summary["questionIds"] += [a["QuestionId"] for a in page["AnswerSummaries"]]
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]

    summary["updated"], summary["reread"] = [], []
    for question_id, pick in zip(summary["questionIds"][:2], PICKS, strict=True):
        question = client.get_answer(WorkloadId=workload_id, LensAlias=LENS, QuestionId=question_id)
        answer = client.update_answer(
            WorkloadId=workload_id,
            LensAlias=LENS,
            QuestionId=question_id,
            SelectedChoices=pick(question["Answer"]["Choices"]),
            Notes=f"Set by the done-when script ({pick.__name__}).",
        )["Answer"]
        summary["updated"].append(
            {
                "questionId": answer["QuestionId"],
                "selectedChoices": answer["SelectedChoices"],
                "notes": answer["Notes"],
                "risk": answer["Risk"],
            }
        )
        summary["reread"].append(
            client.get_answer(WorkloadId=workload_id, LensAlias=LENS, QuestionId=question_id)[
                "Answer"
            ]
        )

    review = client.get_lens_review(WorkloadId=workload_id, LensAlias=LENS)["LensReview"]
    summary["pillarRiskCounts"] = {
        pillar["PillarId"]: pillar["RiskCounts"] for pillar in review["PillarReviewSummaries"]
    }

    number = client.create_milestone(WorkloadId=workload_id, MilestoneName=MILESTONE_NAME)[
        "MilestoneNumber"
    ]
    summary["milestone"] = client.get_milestone(WorkloadId=workload_id, MilestoneNumber=number)[
        "Milestone"
    ]

    lens_arn = client.import_lens(JSONString=lens_json)["LensArn"]
    published = client.create_lens_version(
        LensAlias=lens_arn, LensVersion=LENS_VERSION, IsMajorVersion=True
    )
    summary.update(lensArn=lens_arn, lensVersion=published["LensVersion"])
    client.associate_lenses(WorkloadId=workload_id, LensAliases=[lens_arn])
    summary["lenses"] = client.get_workload(WorkloadId=workload_id)["Workload"]["Lenses"]

    report = client.get_lens_review_report(WorkloadId=workload_id, LensAlias=LENS)
    summary["reportBase64"] = report["LensReviewReport"]["Base64String"]
    summary["exportedLensJson"] = client.export_lens(LensAlias=lens_arn, LensVersion=LENS_VERSION)[
        "LensJSON"
    ]
    summary["shareId"] = client.create_workload_share(
        WorkloadId=workload_id, SharedWith=share_with, PermissionType="CONTRIBUTOR"
    )["ShareId"]

    client.delete_workload(WorkloadId=workload_id)
    try:
        client.get_workload(WorkloadId=workload_id)
        summary["afterDelete"] = "found"
    except ClientError as error:
        summary["afterDelete"] = error.response["Error"]["Code"]
    return summary


def test_the_done_when_script_runs_unchanged_with_boto3(wa, admin_user, bob, builtin_lens):
    with recorded_before_delete() as record:
        summary = done_when(wa(admin_user), lens_json=lens_json(), share_with=account_id(bob.pk))
    check(summary, record, owner=admin_user, sharee=bob)
