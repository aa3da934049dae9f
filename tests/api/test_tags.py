import pytest
from botocore.exceptions import ClientError

from api.operations.common import arn_of_workload
from reviews.forms import MAX_TAGS

pytestmark = pytest.mark.django_db(transaction=True)


def _code(raised) -> str:
    return raised.value.response["Error"]["Code"]


def _tags(workload) -> dict[str, str]:
    workload.refresh_from_db()
    return workload.tags


def test_a_script_tags_lists_and_untags_a_workload(wa, workload, bob):
    client = wa(bob)
    arn = arn_of_workload(workload)
    client.tag_resource(WorkloadArn=arn, Tags={"team": "payments", "cost centre": "42"})
    client.tag_resource(WorkloadArn=arn, Tags={"team": "checkout", "tier": "1"})
    assert client.list_tags_for_resource(WorkloadArn=arn)["Tags"] == {
        "team": "checkout",
        "cost centre": "42",
        "tier": "1",
    }

    client.untag_resource(WorkloadArn=arn, TagKeys=["team", "tier", "not-there"])
    assert _tags(workload) == {"cost centre": "42"}
    assert client.get_workload(WorkloadId=workload.public_id)["Workload"]["Tags"] == {
        "cost centre": "42"
    }


def test_a_read_only_member_lists_tags_but_cannot_change_them(wa, workload, carol):
    workload.tags = {"team": "payments"}
    workload.save(update_fields=["tags"])
    client = wa(carol)
    arn = arn_of_workload(workload)
    assert client.list_tags_for_resource(WorkloadArn=arn)["Tags"] == {"team": "payments"}
    with pytest.raises(ClientError) as raised:
        client.tag_resource(WorkloadArn=arn, Tags={"team": "mine"})
    assert _code(raised) == "AccessDeniedException"
    with pytest.raises(ClientError) as raised:
        client.untag_resource(WorkloadArn=arn, TagKeys=["team"])
    assert _code(raised) == "AccessDeniedException"
    assert _tags(workload) == {"team": "payments"}


def test_a_workload_not_shared_with_the_caller_has_no_tags_to_see(wa, workload, mallory):
    client = wa(mallory)
    arn = arn_of_workload(workload)
    for call in (
        lambda: client.list_tags_for_resource(WorkloadArn=arn),
        lambda: client.tag_resource(WorkloadArn=arn, Tags={"a": "b"}),
        lambda: client.untag_resource(WorkloadArn=arn, TagKeys=["a"]),
    ):
        with pytest.raises(ClientError) as raised:
            call()
        assert _code(raised) == "ResourceNotFoundException"
    assert _tags(workload) == {}


@pytest.mark.parametrize(
    "tags",
    [
        {"k" * 129: "v"},
        {"team": "v" * 257},
        {"a=b": "c"},
        {"team": "two\nlines"},
        {"semi;colon": "x"},
    ],
    ids=["long key", "long value", "equals in key", "line break", "bad character"],
)
def test_a_tag_the_edit_form_could_not_keep_is_refused(signed, workload, alice, tags):
    answer = signed(alice, "POST", ["tags", arn_of_workload(workload)], body={"Tags": tags})
    assert answer.status == 400, answer.body
    assert answer.body["Fields"][0]["Name"] == "Tags"
    assert _tags(workload) == {}


def test_more_than_fifty_tags_in_all_are_refused(wa, workload, alice):
    client = wa(alice)
    arn = arn_of_workload(workload)
    client.tag_resource(WorkloadArn=arn, Tags={f"key{n}": "v" for n in range(MAX_TAGS - 1)})
    with pytest.raises(ClientError) as raised:
        client.tag_resource(WorkloadArn=arn, Tags={"one": "1", "two": "2"})
    assert _code(raised) == "ValidationException"
    assert len(_tags(workload)) == MAX_TAGS - 1


def test_lenses_carry_no_tags_in_archlens(wa, workload, alice):
    lens_arn = "arn:aws:wellarchitected:us-east-1:100000000001:lens/abc"
    with pytest.raises(ClientError) as raised:
        wa(alice).list_tags_for_resource(WorkloadArn=lens_arn)
    assert _code(raised) == "ValidationException"
    assert "workloads only" in raised.value.response["Error"]["Message"]


def test_an_arn_naming_no_workload_is_not_found_and_garbage_is_invalid(signed, workload, alice):
    missing = arn_of_workload(workload).replace(workload.public_id, "0" * 32)
    assert signed(alice, "GET", ["tags", missing]).error_type == "ResourceNotFoundException"
    assert signed(alice, "GET", ["tags", "not-an-arn"]).error_type == "ValidationException"


def test_untag_needs_the_tag_keys(signed, workload, alice):
    workload.tags = {"team": "payments"}
    workload.save(update_fields=["tags"])
    answer = signed(alice, "DELETE", ["tags", arn_of_workload(workload)])
    assert answer.status == 400 and answer.body["Fields"][0]["Name"] == "tagKeys"
    assert _tags(workload) == {"team": "payments"}
