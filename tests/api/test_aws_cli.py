"""The real AWS CLI (awscli from PyPI) against Archlens served on a loopback port.

Each command runs as a subprocess with a home and config files of its own, so nothing of the
machine's AWS set-up (profiles, credentials, a default endpoint) takes part.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from api.identifiers import account_id
from api.keys import api_key_create
from reviews.models import Role, Workload, WorkloadMember

pytestmark = pytest.mark.django_db(transaction=True)

AWS = Path(sys.executable).parent / "aws"


@pytest.fixture
def aws(live_server, tmp_path, alice):
    """aws("create-workload", ...) runs `aws wellarchitected ...` as alice; JSON out."""
    if not AWS.exists():
        pytest.skip(f"the AWS CLI is not installed at {AWS}")
    issued = api_key_create(user=alice)
    (tmp_path / "home").mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path / "home"),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_ACCESS_KEY_ID": issued.key.access_key_id,
        "AWS_SECRET_ACCESS_KEY": issued.secret,
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
    }
    endpoint = f"{live_server.url}/aws"

    def run(*args: str, by_env: bool = False, check: bool = True):
        extra = {"AWS_ENDPOINT_URL_WELLARCHITECTED": endpoint} if by_env else {}
        where = [] if by_env else ["--endpoint-url", endpoint]
        done = subprocess.run(
            [str(AWS), "wellarchitected", *args, *where, "--output", "json"],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=60,
        )
        if not check:
            return done
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout or "{}")

    return run


def test_a_shell_script_creates_shares_tags_and_deletes_a_workload_with_the_aws_cli(
    aws, alice, bob, builtin_lens
):
    created = aws(
        "create-workload",
        "--workload-name", "Checkout service",
        "--description", "Takes orders from the web shop.",
        "--environment", "PRODUCTION",
        "--aws-regions", "eu-west-1",
        "--lenses", "wellarchitected",
        "--review-owner", "Alice Archer",
    )  # fmt: skip
    workload_id, arn = created["WorkloadId"], created["WorkloadArn"]
    assert Workload.objects.get(public_id=workload_id).owner == alice

    listed = aws("list-workloads")["WorkloadSummaries"]
    assert [summary["WorkloadId"] for summary in listed] == [workload_id]
    workload = aws("get-workload", "--workload-id", workload_id)["Workload"]
    assert workload["WorkloadName"] == "Checkout service"
    assert workload["RiskCounts"]["UNANSWERED"] > 0

    shared = aws(
        "create-workload-share",
        "--workload-id", workload_id,
        "--shared-with", account_id(bob.pk),
        "--permission-type", "READONLY",
    )  # fmt: skip
    assert len(shared["ShareId"]) == 32
    assert WorkloadMember.objects.get(workload__public_id=workload_id, user=bob).role == (
        Role.READONLY
    )

    aws("tag-resource", "--workload-arn", arn, "--tags", "team=shop,tier=1")
    assert aws("list-tags-for-resource", "--workload-arn", arn)["Tags"] == {
        "team": "shop",
        "tier": "1",
    }

    aws("delete-workload", "--workload-id", workload_id)
    assert not Workload.objects.filter(public_id=workload_id).exists()

    failed = aws("get-workload", "--workload-id", workload_id, check=False)
    assert failed.returncode != 0
    assert "ResourceNotFoundException" in failed.stderr


def test_the_endpoint_can_come_from_the_environment(aws, workload):
    listed = aws("list-workloads", by_env=True)["WorkloadSummaries"]
    assert [summary["WorkloadName"] for summary in listed] == ["Payments API"]


def test_a_refused_input_exits_non_zero_naming_the_error(aws, workload):
    failed = aws(
        "update-workload", "--workload-id", workload.public_id, "--notes", "x" * 2085, check=False
    )
    assert failed.returncode != 0
    assert "ValidationException" in failed.stderr
    workload.refresh_from_db()
    assert workload.notes == ""
