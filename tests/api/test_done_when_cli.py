"""The issue's "Done when" script with the AWS CLI (awscli from PyPI) against Archlens.

Each step is one `aws wellarchitected ...` command, as a shell script for the AWS tool runs
it: keys and region in the environment, `--endpoint-url` pointing at Archlens.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from api.identifiers import account_id
from api.keys import IssuedKey, api_key_create
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
AWS = Path(sys.executable).with_name("aws")
LENS = "wellarchitected"


class Cli:
    """`aws wellarchitected` run as `issued`'s user against `endpoint`."""

    def __init__(self, endpoint: str, issued: IssuedKey) -> None:
        self.endpoint = endpoint
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/"),
            "AWS_ACCESS_KEY_ID": issued.key.access_key_id,
            "AWS_SECRET_ACCESS_KEY": issued.secret,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def run(self, command: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(AWS), "wellarchitected", command, *args]
            + ["--endpoint-url", self.endpoint, "--output", "json"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def __call__(self, command: str, *args: str) -> dict[str, Any]:
        result = self.run(command, *args)
        assert result.returncode == 0, f"aws wellarchitected {command}: {result.stderr}"
        return json.loads(result.stdout or "{}")

    def error_of(self, command: str, *args: str) -> str:
        """The error code the CLI reports for a command that fails."""
        result = self.run(command, *args)
        assert result.returncode != 0, result.stdout
        found = re.search(r"An error occurred \((\w+)\)", result.stderr)
        return found[1] if found else result.stderr


def done_when(aws: Cli, *, lens_file: Path, share_with: str) -> dict[str, Any]:
    workload_id = aws(
        "create-workload",
        *("--workload-name", WORKLOAD_NAME),
        *("--description", "Takes orders from the shop to the warehouse."),
        *("--environment", "PRODUCTION"),
        *("--aws-regions", "eu-west-1"),
        *("--lenses", LENS),
        *("--review-owner", "Sam Staff"),
        *("--pillar-priorities", "reliability"),
    )["WorkloadId"]
    review = ("--workload-id", workload_id, "--lens-alias", LENS)
    summary: dict[str, Any] = {"workloadId": workload_id, "pages": 0, "questionIds": []}

    token: list[str] = []
    while True:
        page = aws("list-answers", *review, "--max-results", "10", *token)
        summary["pages"] += 1
        summary["questionIds"] += [a["QuestionId"] for a in page["AnswerSummaries"]]
        if "NextToken" not in page:
            break
        token = ["--next-token", page["NextToken"]]

    summary["updated"], summary["reread"] = [], []
    for question_id, pick in zip(summary["questionIds"][:2], PICKS, strict=True):
        question = aws("get-answer", *review, "--question-id", question_id)["Answer"]
        answer = aws(
            "update-answer",
            *review,
            *("--question-id", question_id),
            *("--selected-choices", *pick(question["Choices"])),
            *("--notes", f"Set by the done-when script ({pick.__name__})."),
        )["Answer"]
        summary["updated"].append(
            {
                "questionId": answer["QuestionId"],
                "selectedChoices": answer["SelectedChoices"],
                "notes": answer["Notes"],
                "risk": answer["Risk"],
            }
        )
        summary["reread"].append(aws("get-answer", *review, "--question-id", question_id)["Answer"])

    pillars = aws("get-lens-review", *review)["LensReview"]["PillarReviewSummaries"]
    summary["pillarRiskCounts"] = {p["PillarId"]: p["RiskCounts"] for p in pillars}

    workload = ("--workload-id", workload_id)
    number = aws("create-milestone", *workload, "--milestone-name", MILESTONE_NAME)[
        "MilestoneNumber"
    ]
    summary["milestone"] = aws("get-milestone", *workload, "--milestone-number", str(number))[
        "Milestone"
    ]

    lens_arn = aws("import-lens", "--json-string", f"file://{lens_file}")["LensArn"]
    published = aws(
        "create-lens-version",
        *("--lens-alias", lens_arn, "--lens-version", LENS_VERSION, "--is-major-version"),
    )
    summary.update(lensArn=lens_arn, lensVersion=published["LensVersion"])
    aws("associate-lenses", *workload, "--lens-aliases", lens_arn)
    summary["lenses"] = aws("get-workload", *workload)["Workload"]["Lenses"]

    report = aws("get-lens-review-report", *review)["LensReviewReport"]
    summary["reportBase64"] = report["Base64String"]
    summary["exportedLensJson"] = aws(
        "export-lens", "--lens-alias", lens_arn, "--lens-version", LENS_VERSION
    )["LensJSON"]
    summary["shareId"] = aws(
        "create-workload-share",
        *workload,
        *("--shared-with", share_with, "--permission-type", "CONTRIBUTOR"),
    )["ShareId"]

    aws("delete-workload", *workload)
    summary["afterDelete"] = aws.error_of("get-workload", *workload)
    return summary


def test_the_done_when_script_runs_unchanged_with_the_aws_cli(
    live_server, admin_user, bob, builtin_lens, tmp_path
):
    if not AWS.exists():
        pytest.skip(f"the AWS CLI is not installed at {AWS} (awscli is a dev dependency)")
    lens_file = tmp_path / "order-pipeline-lens.json"
    lens_file.write_text(lens_json())
    aws = Cli(f"{live_server.url}/aws", api_key_create(user=admin_user))
    with recorded_before_delete() as record:
        summary = done_when(aws, lens_file=lens_file, share_with=account_id(bob.pk))
    check(summary, record, owner=admin_user, sharee=bob)
