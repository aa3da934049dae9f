"""The lens part of a script written for the AWS tool, run unchanged against Archlens."""

import json

import pytest
from botocore.exceptions import ClientError
from django.core.management import call_command

from lenses.models import Lens
from reviews.models import AnswerEvent, LensReview, Milestone

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def glue_versions(shared_lens_files):
    files = [shared_lens_files[0].parent / "versions" / f"glue-v{n}.json" for n in ("0.8", "1.0")]
    if not all(path.exists() for path in files):
        pytest.skip("the Glue lens versions are not in the shared lens files")
    return [path.read_text() for path in files]


def test_a_script_imports_publishes_associates_upgrades_exports_and_deletes_a_custom_lens(
    wa, admin_user, builtin_lens, glue_versions, capsys
):
    client = wa(admin_user)
    first, second = glue_versions

    imported = client.import_lens(JSONString=first, Tags={"team": "data"})
    assert imported["Status"] == "COMPLETE"
    lens_arn = imported["LensArn"]
    assert lens_arn.startswith("arn:aws:wellarchitected:") and ":lens/" in lens_arn
    client.create_lens_version(LensAlias=lens_arn, LensVersion="0.8", IsMajorVersion=True)

    workload_id = client.create_workload(
        WorkloadName="Data lake",
        Description="Nightly Glue jobs.",
        Environment="PRODUCTION",
        AwsRegions=["eu-west-1"],
        Lenses=["wellarchitected"],
        ReviewOwner="Sam Staff",
    )["WorkloadId"]
    client.associate_lenses(WorkloadId=workload_id, LensAliases=[lens_arn])
    assert lens_arn in client.get_workload(WorkloadId=workload_id)["Workload"]["Lenses"]

    client.import_lens(JSONString=second, LensAlias=lens_arn)
    client.create_lens_version(LensAlias=lens_arn, LensVersion="1.0", IsMajorVersion=True)
    notices = client.list_notifications(WorkloadId=workload_id)["NotificationSummaries"]
    assert [n["LensUpgradeSummary"]["LatestLensVersion"] for n in notices] == ["1.0"]
    difference = client.get_lens_version_difference(
        LensAlias=lens_arn, BaseLensVersion="0.8", TargetLensVersion="1.0"
    )
    assert difference["VersionDifferences"]["PillarDifferences"]

    client.upgrade_lens_review(
        WorkloadId=workload_id, LensAlias=lens_arn, MilestoneName="Before Glue 1.0"
    )
    review = LensReview.objects.get(workload__public_id=workload_id, lens__is_builtin=False)
    assert review.lens_version.version == "1.0"
    assert Milestone.objects.filter(workload=review.workload, name="Before Glue 1.0").exists()
    assert AnswerEvent.objects.filter(answer__lens_review=review, user=admin_user).exists()
    assert client.list_notifications(WorkloadId=workload_id)["NotificationSummaries"] == []

    exported = client.export_lens(LensAlias=lens_arn, LensVersion="1.0")["LensJSON"]
    alias = lens_arn.rsplit("/", 1)[1]
    call_command("export_lens", alias, "--version", "1.0")
    assert exported == capsys.readouterr().out
    assert json.loads(exported)["name"] == json.loads(second)["name"]

    with pytest.raises(ClientError) as raised:
        client.delete_lens(LensAlias=lens_arn, LensStatus="ALL")
    assert raised.value.response["Error"]["Code"] == "ConflictException"
    assert "Data lake" in raised.value.response["Error"]["Message"]
    client.delete_workload(WorkloadId=workload_id)
    client.delete_lens(LensAlias=lens_arn, LensStatus="ALL")
    assert not Lens.objects.filter(alias=alias).exists()
