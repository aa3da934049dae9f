import pytest
from botocore.exceptions import ClientError

from api.identifiers import account_id
from api.operations.shares import share_id
from reviews.models import Role, WorkloadMember
from reviews.services import workload_create, workload_share
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _code(raised) -> str:
    return raised.value.response["Error"]["Code"]


def _roles(workload) -> dict[str, str]:
    members = WorkloadMember.objects.filter(workload=workload).select_related("user")
    return {member.user.username: member.role for member in members}


def test_the_owner_shares_by_account_id_and_by_email_and_lists_the_shares(
    wa, workload, alice, bob, carol, mallory
):
    client = wa(alice)
    dave = UserFactory(username="dave", email="dave@example.com")
    created = client.create_workload_share(
        WorkloadId=workload.public_id, SharedWith=account_id(mallory.pk), PermissionType="READONLY"
    )
    by_email = client.create_workload_share(
        WorkloadId=workload.public_id, SharedWith="Dave@Example.com", PermissionType="CONTRIBUTOR"
    )
    assert created["WorkloadId"] == workload.public_id
    assert len(created["ShareId"]) == 32 and created["ShareId"] != by_email["ShareId"]
    assert _roles(workload)["mallory"] == Role.READONLY
    assert _roles(workload)["dave"] == Role.CONTRIBUTOR

    listed = client.list_workload_shares(WorkloadId=workload.public_id)
    summaries = {s["SharedWith"]: s for s in listed["WorkloadShareSummaries"]}
    assert set(summaries) == {account_id(u.pk) for u in (bob, carol, mallory)} | {
        account_id(dave.pk)
    }
    assert summaries[account_id(mallory.pk)] == {
        "ShareId": created["ShareId"],
        "SharedWith": account_id(mallory.pk),
        "PermissionType": "READONLY",
        "Status": "ACCEPTED",
    }
    assert account_id(alice.pk) not in summaries  # the owner is not a share


def test_a_share_with_someone_who_has_one_already_is_a_conflict_and_keeps_the_role(
    wa, workload, alice, bob
):
    with pytest.raises(ClientError) as raised:
        wa(alice).create_workload_share(
            WorkloadId=workload.public_id, SharedWith=account_id(bob.pk), PermissionType="READONLY"
        )
    assert _code(raised) == "ConflictException"
    assert _roles(workload)["bob"] == Role.CONTRIBUTOR


def test_sharing_with_the_owner_is_a_conflict(wa, workload, alice):
    with pytest.raises(ClientError) as raised:
        wa(alice).create_workload_share(
            WorkloadId=workload.public_id,
            SharedWith=account_id(alice.pk),
            PermissionType="READONLY",
        )
    assert _code(raised) == "ConflictException"


@pytest.mark.parametrize("shared_with", ["999999999999", "nobody@example.com", "100000000000"])
def test_sharing_with_no_known_user_names_the_field_and_shares_nothing(
    wa, workload, alice, shared_with
):
    before = _roles(workload)
    with pytest.raises(ClientError) as raised:
        wa(alice).create_workload_share(
            WorkloadId=workload.public_id, SharedWith=shared_with, PermissionType="READONLY"
        )
    assert _code(raised) == "ValidationException"
    assert raised.value.response["Fields"][0]["Name"] == "SharedWith"
    assert _roles(workload) == before


def test_a_retried_create_with_the_same_token_returns_the_first_share(wa, workload, alice, mallory):
    client = wa(alice)
    given = {
        "WorkloadId": workload.public_id,
        "SharedWith": account_id(mallory.pk),
        "PermissionType": "READONLY",
        "ClientRequestToken": "share-mallory-1",
    }
    first = client.create_workload_share(**given)
    again = client.create_workload_share(**given)
    assert again["ShareId"] == first["ShareId"]
    with pytest.raises(ClientError) as raised:
        client.create_workload_share(**{**given, "PermissionType": "CONTRIBUTOR"})
    assert _code(raised) == "ConflictException"
    assert _roles(workload)["mallory"] == Role.READONLY


def test_the_owner_changes_a_role_and_revokes_a_share_by_share_id(wa, workload, alice, bob):
    client = wa(alice)
    bob_share = share_id(WorkloadMember.objects.get(workload=workload, user=bob).pk)

    updated = client.update_workload_share(
        WorkloadId=workload.public_id, ShareId=bob_share, PermissionType="READONLY"
    )
    assert updated["WorkloadShare"] == {
        "ShareId": bob_share,
        "SharedBy": account_id(alice.pk),
        "SharedWith": account_id(bob.pk),
        "PermissionType": "READONLY",
        "Status": "ACCEPTED",
        "WorkloadName": "Payments API",
        "WorkloadId": workload.public_id,
    }
    assert _roles(workload)["bob"] == Role.READONLY

    client.delete_workload_share(WorkloadId=workload.public_id, ShareId=bob_share)
    assert "bob" not in _roles(workload)
    with pytest.raises(ClientError) as raised:
        client.delete_workload_share(WorkloadId=workload.public_id, ShareId=bob_share)
    assert _code(raised) == "ResourceNotFoundException"


def test_a_share_id_of_another_workload_reaches_nothing(wa, workload, alice, bob, builtin_lens):
    other = workload_create(
        owner=alice,
        name="Search API",
        description="Finds products.",
        environment="PRODUCTION",
        review_owner="Alice Archer",
    )
    workload_share(workload=other, user=bob, role=Role.CONTRIBUTOR)
    elsewhere = share_id(WorkloadMember.objects.get(workload=other, user=bob).pk)
    with pytest.raises(ClientError) as raised:
        wa(alice).delete_workload_share(WorkloadId=workload.public_id, ShareId=elsewhere)
    assert _code(raised) == "ResourceNotFoundException"
    assert WorkloadMember.objects.filter(workload=other, user=bob).exists()


def test_only_the_owner_changes_shares(wa, workload, bob, carol, mallory):
    bob_share = share_id(WorkloadMember.objects.get(workload=workload, user=bob).pk)
    for user, expected in (
        (bob, "AccessDeniedException"),
        (carol, "AccessDeniedException"),
        (mallory, "ResourceNotFoundException"),
    ):
        client = wa(user)
        with pytest.raises(ClientError) as raised:
            client.create_workload_share(
                WorkloadId=workload.public_id,
                SharedWith=account_id(mallory.pk),
                PermissionType="CONTRIBUTOR",
            )
        assert _code(raised) == expected, user.username
        with pytest.raises(ClientError) as raised:
            client.update_workload_share(
                WorkloadId=workload.public_id, ShareId=bob_share, PermissionType="READONLY"
            )
        assert _code(raised) == expected, user.username
        with pytest.raises(ClientError) as raised:
            client.delete_workload_share(WorkloadId=workload.public_id, ShareId=bob_share)
        assert _code(raised) == expected, user.username
    assert _roles(workload) == {"alice": "OWNER", "bob": "CONTRIBUTOR", "carol": "READONLY"}


def test_every_member_lists_the_shares_and_others_find_no_workload(wa, workload, carol, mallory):
    listed = wa(carol).list_workload_shares(WorkloadId=workload.public_id)
    assert len(listed["WorkloadShareSummaries"]) == 2
    with pytest.raises(ClientError) as raised:
        wa(mallory).list_workload_shares(WorkloadId=workload.public_id)
    assert _code(raised) == "ResourceNotFoundException"


def test_shares_filter_by_account_id_or_email_prefix_and_by_status(wa, workload, alice, bob, carol):
    client = wa(alice)

    def shared_with(**filters):
        listed = client.list_workload_shares(WorkloadId=workload.public_id, **filters)
        return sorted(s["SharedWith"] for s in listed["WorkloadShareSummaries"])

    assert shared_with(SharedWithPrefix=account_id(bob.pk)) == [account_id(bob.pk)]
    assert shared_with(SharedWithPrefix="CAROL@") == [account_id(carol.pk)]
    assert shared_with(SharedWithPrefix="nobody") == []
    assert len(shared_with(Status="ACCEPTED")) == 2
    assert shared_with(Status="PENDING") == []


def test_share_pages_never_skip_or_repeat_and_the_maximum_is_enforced(wa, signed, workload, alice):
    for _ in range(5):
        workload_share(workload=workload, user=UserFactory(), role=Role.READONLY)
    client = wa(alice)
    seen, token = [], None
    while True:
        page = client.list_workload_shares(
            WorkloadId=workload.public_id, MaxResults=3, **({"NextToken": token} if token else {})
        )
        seen += [s["ShareId"] for s in page["WorkloadShareSummaries"]]
        token = page.get("NextToken")
        if not token:
            break
    assert len(seen) == len(set(seen)) == 7

    answer = signed(
        alice, "GET", ["workloads", workload.public_id, "shares"], query={"MaxResults": 51}
    )
    assert answer.status == 400 and answer.body["Fields"][0]["Name"] == "MaxResults"


def test_listing_shares_takes_a_fixed_number_of_queries(
    signed, workload, alice, django_assert_max_num_queries
):
    for _ in range(10):
        workload_share(workload=workload, user=UserFactory(), role=Role.READONLY)
    signed(alice, "GET", ["workloads", workload.public_id, "shares"])  # the key exists now
    with django_assert_max_num_queries(6):
        answer = signed(alice, "GET", ["workloads", workload.public_id, "shares"])
    assert answer.status == 200 and len(answer.body["WorkloadShareSummaries"]) == 12


def test_a_bad_permission_or_share_id_is_refused_naming_the_field(signed, workload, alice, bob):
    answer = signed(
        alice,
        "POST",
        ["workloads", workload.public_id, "shares"],
        body={
            "SharedWith": account_id(bob.pk),
            "PermissionType": "OWNER",
            "ClientRequestToken": "t",
        },
    )
    assert answer.status == 400 and answer.body["Fields"][0]["Name"] == "PermissionType"
    answer = signed(
        alice,
        "PATCH",
        ["workloads", workload.public_id, "shares", "not-a-share-id"],
        body={"PermissionType": "READONLY"},
    )
    assert answer.status == 400 and answer.body["Fields"][0]["Name"] == "ShareId"
    assert _roles(workload)["bob"] == Role.CONTRIBUTOR


def test_there_are_no_share_invitations_to_list_or_accept(wa, workload, bob):
    client = wa(bob)
    assert client.list_share_invitations()["ShareInvitationSummaries"] == []
    assert (
        client.list_share_invitations(ShareResourceType="WORKLOAD")["ShareInvitationSummaries"]
        == []
    )
    with pytest.raises(ClientError) as raised:
        client.update_share_invitation(ShareInvitationId="0" * 32, ShareInvitationAction="ACCEPT")
    assert _code(raised) == "ValidationException"
    assert "no share invitations" in raised.value.response["Error"]["Message"]
