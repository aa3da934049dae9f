import pytest
from botocore.exceptions import ClientError

from reviews.models import Workload

pytestmark = pytest.mark.django_db(transaction=True)


def _create(client, name="Checkout service", **extra):
    return client.create_workload(
        WorkloadName=name,
        Description="Takes orders from the web shop.",
        Environment="PRODUCTION",
        AwsRegions=["eu-west-1"],
        Lenses=["wellarchitected"],
        ReviewOwner="Alice Archer",
        **extra,
    )


def test_a_script_creates_reads_updates_lists_and_deletes_a_workload_with_boto3(
    wa, alice, builtin_lens
):
    client = wa(alice)
    created = _create(client, PillarPriorities=["security"], Tags={"team": "shop"})
    assert len(created["WorkloadId"]) == 32
    assert created["WorkloadArn"].endswith(f":workload/{created['WorkloadId']}")

    workload = client.get_workload(WorkloadId=created["WorkloadId"])["Workload"]
    assert workload["WorkloadName"] == "Checkout service"
    assert workload["Lenses"] == ["wellarchitected"]
    assert workload["PillarPriorities"][0] == "security"
    assert workload["Tags"] == {"team": "shop"}
    assert workload["RiskCounts"]["UNANSWERED"] > 0
    assert workload["Owner"] == created["WorkloadArn"].split(":")[4]

    updated = client.update_workload(WorkloadId=created["WorkloadId"], Notes="Reviewed monthly.")
    assert updated["Workload"]["Notes"] == "Reviewed monthly."
    assert Workload.objects.get(public_id=created["WorkloadId"]).notes == "Reviewed monthly."

    summaries = client.list_workloads()["WorkloadSummaries"]
    assert [s["WorkloadId"] for s in summaries] == [created["WorkloadId"]]

    client.delete_workload(WorkloadId=created["WorkloadId"])
    assert not Workload.objects.filter(public_id=created["WorkloadId"]).exists()


def test_a_workload_not_shared_with_the_caller_is_not_found(wa, workload, mallory):
    with pytest.raises(ClientError) as raised:
        wa(mallory).get_workload(WorkloadId=workload.public_id)
    error = raised.value.response
    assert error["Error"]["Code"] == "ResourceNotFoundException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]


def test_a_read_only_member_cannot_update_a_workload(wa, workload, carol):
    with pytest.raises(ClientError) as raised:
        wa(carol).update_workload(WorkloadId=workload.public_id, Notes="Mine now.")
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    workload.refresh_from_db()
    assert workload.notes == ""


def test_a_taken_name_is_a_conflict(wa, workload, alice):
    with pytest.raises(ClientError) as raised:
        _create(wa(alice), name="payments  api")
    assert raised.value.response["Error"]["Code"] == "ConflictException"


def test_a_retry_with_the_same_token_creates_one_workload(wa, alice, builtin_lens):
    client = wa(alice)
    first = _create(client, ClientRequestToken="retry-1")
    again = _create(client, ClientRequestToken="retry-1")
    assert again["WorkloadId"] == first["WorkloadId"]
    assert Workload.objects.count() == 1


def test_the_same_token_with_other_input_is_a_conflict(wa, alice, builtin_lens):
    client = wa(alice)
    _create(client, ClientRequestToken="retry-2")
    with pytest.raises(ClientError) as raised:
        _create(client, name="Another service", ClientRequestToken="retry-2")
    assert raised.value.response["Error"]["Code"] == "ConflictException"
    assert Workload.objects.count() == 1


def test_boto3_backs_off_when_throttled_and_every_call_gets_through(wa, workload, alice, settings):
    settings.API_RATE_PER_SECOND = 2
    client = wa(alice, retries=10)
    for _ in range(6):
        assert client.get_workload(WorkloadId=workload.public_id)["Workload"]["WorkloadName"]
