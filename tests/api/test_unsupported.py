import pytest
from botocore.exceptions import ClientError

from api.operations.unsupported import TABLE
from api.routing import OPERATIONS

boto3 = pytest.importorskip("boto3")

PROFILE_ARN = "arn:aws:wellarchitected:us-east-1:100000000001:profile/abc123"


def _model():
    return boto3.client("wellarchitected", region_name="us-east-1").meta.service_model


def test_every_operation_of_the_service_model_is_registered():
    """Fails until every API branch is merged: it names what is still missing."""
    wanted = {name for name in _model().operation_names if "Agent" not in name}
    registered = {operation.name for operation in OPERATIONS}
    assert sorted(wanted - registered) == []


def test_no_operation_is_registered_twice():
    names = [operation.name for operation in OPERATIONS]
    routes = [(operation.method, operation.segments) for operation in OPERATIONS]
    assert sorted({n for n in names if names.count(n) > 1}) == []
    assert sorted({r for r in routes if routes.count(r) > 1}) == []


def test_each_operation_has_the_method_and_uri_of_the_service_model():
    model = _model()
    wanted = set(model.operation_names)
    for operation in OPERATIONS:
        assert operation.name in wanted, operation.name
        http = model.operation_model(operation.name).http
        uri = "/" + "/".join(operation.segments)
        assert (operation.method, uri) == (http["method"], http["requestUri"]), operation.name


@pytest.mark.django_db(transaction=True)
def test_lists_of_what_archlens_lacks_are_empty_and_the_rest_says_what_it_lacks(wa, alice):
    client = wa(alice)
    assert client.list_profiles()["ProfileSummaries"] == []
    assert client.list_profile_notifications()["NotificationSummaries"] == []
    assert client.list_profile_shares(ProfileArn=PROFILE_ARN)["ProfileShareSummaries"] == []
    # Profiles and review templates are answered by api.operations.profiles and
    # api.operations.review_templates; profile shares are what Archlens lacks.
    for call in (
        lambda: client.create_profile_share(
            ProfileArn=PROFILE_ARN, SharedWith="123456789012", ClientRequestToken="t" * 12
        ),
    ):
        with pytest.raises(ClientError) as raised:
            call()
        error = raised.value.response
        assert error["Error"]["Code"] == "ValidationException"
        assert "Archlens does not have" in error["Error"]["Message"]


@pytest.mark.django_db(transaction=True)
def test_operations_on_a_workload_check_access_first(wa, workload, bob, carol, mallory):
    checks = {
        "WorkloadId": workload.public_id,
        "LensArn": "wellarchitected",
        "PillarId": "security",
        "QuestionId": "sec1",
        "ChoiceId": "sec1_bp1",
    }
    assert wa(carol).list_check_summaries(**checks)["CheckSummaries"] == []
    with pytest.raises(ClientError) as raised:
        wa(mallory).list_check_details(**checks)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as raised:
        wa(carol).associate_profiles(WorkloadId=workload.public_id, ProfileArns=[PROFILE_ARN])
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    with pytest.raises(ClientError) as raised:
        wa(bob).update_integration(
            WorkloadId=workload.public_id, ClientRequestToken="t1", IntegratingService="JIRA"
        )
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "Jira" in raised.value.response["Error"]["Message"]


@pytest.mark.django_db(transaction=True)
def test_global_settings_say_nothing_is_integrated_and_cannot_be_enabled(wa, alice):
    client = wa(alice)
    settings = client.get_global_settings()
    assert settings["OrganizationSharingStatus"] == "DISABLED"
    assert settings["JiraConfiguration"]["IntegrationStatus"] == "NOT_CONFIGURED"
    client.update_global_settings(OrganizationSharingStatus="DISABLED")
    with pytest.raises(ClientError) as raised:
        client.update_global_settings(DiscoveryIntegrationStatus="ENABLED")
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_the_table_holds_each_missing_operation_once():
    names = [missing.name for missing in TABLE]
    assert len(names) == len(set(names))
