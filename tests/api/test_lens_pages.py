"""Pages, query counts and bad input of the lens operations, through signed in-process
requests (for what boto3 would refuse to send)."""

import json

import pytest

from api.operations.common import arn_of_lens
from lenses.models import Lens
from reviews.models import LensReview, Workload
from reviews.services import workload_add_lens, workload_create
from tests.api.lens_setup import publish_lens, publish_next
from tests.factories import lens_document


@pytest.fixture
def many(admin_user, builtin_lens):
    return [publish_lens(admin_user, name=f"Lens {n:02}").lens for n in range(7)]


def all_lens_pages(signed, user, query):
    seen, token, pages = [], None, 0
    while True:
        answer = signed(
            user, "GET", ["lenses"], query={**query, **({"NextToken": token} if token else {})}
        )
        assert answer.status == 200, answer.body
        seen += [s["LensArn"] for s in answer.body["LensSummaries"]]
        pages += 1
        token = answer.body.get("NextToken")
        if not token:
            return seen, pages


def test_pages_of_lenses_list_each_lens_once(signed, many, alice):
    seen, pages = all_lens_pages(signed, alice, {"MaxResults": 3})
    assert sorted(seen) == sorted(arn_of_lens(lens) for lens in Lens.objects.all())
    assert pages == 3


def test_a_lens_deleted_between_pages_skips_and_repeats_nothing_else(signed, many, alice):
    first = signed(alice, "GET", ["lenses"], query={"MaxResults": 4, "LensType": "CUSTOM_SHARED"})
    many[5].delete()
    query = {"LensType": "CUSTOM_SHARED", "NextToken": first.body["NextToken"]}
    rest = signed(alice, "GET", ["lenses"], query=query)
    names = [s["LensName"] for s in first.body["LensSummaries"] + rest.body["LensSummaries"]]
    assert names == [lens.name for lens in many if lens is not many[5]]


def test_a_lens_token_only_works_with_the_filters_it_was_made_with(signed, many, alice):
    first = signed(alice, "GET", ["lenses"], query={"MaxResults": 2})
    query = {"NextToken": first.body["NextToken"], "LensType": "CUSTOM_SELF"}
    answer = signed(alice, "GET", ["lenses"], query=query)
    assert (answer.error_type, answer.body["Fields"][0]["Name"]) == (
        "ValidationException",
        "NextToken",
    )


@pytest.mark.parametrize(
    ("query", "member"),
    [
        ({"MaxResults": 51}, "MaxResults"),
        ({"MaxResults": 0}, "MaxResults"),
        ({"LensType": "CUSTOM"}, "LensType"),
        ({"LensStatus": "CURRENT"}, "LensStatus"),
        ({"LensName": "x" * 129}, "LensName"),
    ],
)
def test_bad_list_lenses_input_names_the_member(signed, alice, query, member):
    answer = signed(alice, "GET", ["lenses"], query=query)
    assert (answer.status, answer.error_type) == (400, "ValidationException")
    assert [field["Name"] for field in answer.body["Fields"]] == [member]


def test_a_page_of_lenses_costs_the_same_queries_for_three_or_twelve(
    signed, admin_user, alice, builtin_lens, django_assert_max_num_queries
):
    for n in range(2):
        publish_lens(admin_user, name=f"Small {n}")
    signed(alice, "GET", ["lenses"])  # the key's first use writes its last-used time
    with django_assert_max_num_queries(4):
        few = signed(alice, "GET", ["lenses"])
    for n in range(9):
        publish_next(publish_lens(admin_user, name=f"Big {n}"), admin_user)
    with django_assert_max_num_queries(4):
        lots = signed(alice, "GET", ["lenses"])
    assert (len(few.body["LensSummaries"]), len(lots.body["LensSummaries"])) == (3, 12)


def test_get_lens_costs_a_fixed_number_of_queries(
    signed, admin_user, alice, django_assert_max_num_queries
):
    version = publish_next(publish_lens(admin_user, name="Team Lens"), admin_user)
    arn = arn_of_lens(version.lens)
    signed(alice, "GET", ["lenses", arn])
    with django_assert_max_num_queries(4):
        answer = signed(alice, "GET", ["lenses", arn])
    assert answer.body["Lens"]["LensVersion"] == "1.1"


@pytest.mark.parametrize(
    ("segments", "query", "member"),
    [
        (["lenses", "team-lens"], {"LensVersion": "x" * 33}, "LensVersion"),
        (["lenses", "x" * 2049], {}, "LensAlias"),
        (["lenses", "team-lens", "export"], {"LensVersion": ""}, "LensVersion"),
        (
            ["lenses", "team-lens", "versionDifference"],
            {"BaseLensVersion": "x" * 33},
            "BaseLensVersion",
        ),
    ],
)
def test_bad_lens_reads_name_the_member(signed, admin_user, alice, segments, query, member):
    publish_lens(admin_user, name="Team Lens")
    answer = signed(alice, "GET", segments, query=query)
    assert (answer.status, answer.error_type) == (400, "ValidationException"), answer.body
    assert [field["Name"] for field in answer.body["Fields"]] == [member]


@pytest.mark.parametrize(
    ("body", "member"),
    [
        ({"ClientRequestToken": "t"}, "JSONString"),
        ({"JSONString": "x" * 500_001, "ClientRequestToken": "t"}, "JSONString"),
        ({"JSONString": json.dumps(lens_document()), "Tags": {"": "x"}}, "Tags"),
        ({"JSONString": json.dumps(lens_document()), "Tags": ["x"]}, "Tags"),
        ({"JSONString": json.dumps(lens_document()), "LensAlias": 7}, "LensAlias"),
    ],
)
def test_bad_import_input_names_the_member_and_imports_nothing(signed, admin_user, body, member):
    answer = signed(admin_user, "PUT", ["importLens"], body=body)
    assert (answer.status, answer.error_type) == (400, "ValidationException"), answer.body
    assert [field["Name"] for field in answer.body["Fields"]] == [member]
    assert not Lens.objects.exists()


def test_delete_lens_needs_a_lens_status(signed, admin_user):
    version = publish_lens(admin_user, name="Team Lens")
    answer = signed(
        admin_user, "DELETE", ["lenses", version.lens.alias], query={"LensStatus": "SOME"}
    )
    assert answer.body["Fields"][0]["Name"] == "LensStatus"
    answer = signed(admin_user, "DELETE", ["lenses", version.lens.alias])
    assert answer.body["Fields"][0]["Name"] == "LensStatus"
    assert Lens.objects.filter(pk=version.lens_id).exists()


def test_associate_lenses_needs_at_least_one_lens(signed, alice, workload):
    segments = ["workloads", workload.public_id, "associateLenses"]
    for body in ({"LensAliases": []}, {}, {"LensAliases": "wellarchitected"}):
        answer = signed(alice, "PATCH", segments, body=body)
        assert answer.error_type == "ValidationException"
        assert answer.body["Fields"][0]["Name"] == "LensAliases"


def test_a_malformed_workload_id_is_named(signed, alice):
    answer = signed(alice, "POST", ["notifications"], body={"WorkloadId": "nope"})
    assert answer.body["Fields"][0]["Name"] == "WorkloadId"


def test_an_upgrade_needs_a_usable_milestone_name(signed, alice, workload):
    segments = ["workloads", workload.public_id, "lensReviews", "wellarchitected", "upgrade"]
    for body in ({}, {"MilestoneName": "ab"}, {"MilestoneName": "x" * 101}):
        answer = signed(alice, "PUT", segments, body=body)
        assert answer.error_type == "ValidationException"
        assert answer.body["Fields"][0]["Name"] == "MilestoneName"


# -- ListNotifications pages --------------------------------------------------------------------


@pytest.fixture
def behind(admin_user, alice, builtin_lens):
    """Five workloads reviewing Team Lens 1.0, with 1.1 published."""
    version = publish_lens(admin_user, name="Team Lens")
    workloads = []
    for n in range(5):
        workload = workload_create(
            owner=alice,
            name=f"Service {n}",
            description="One of many.",
            environment=Workload.Environment.PRODUCTION,
            review_owner="Alice",
        )
        workload_add_lens(workload=workload, lens=version.lens)
        workloads.append(workload)
    publish_next(version, admin_user)
    return workloads


def all_notice_pages(signed, user, body):
    seen, token, pages = [], None, 0
    while True:
        answer = signed(
            user,
            "POST",
            ["notifications"],
            body={**body, **({"NextToken": token} if token else {})},
        )
        assert answer.status == 200, answer.body
        seen += [
            n["LensUpgradeSummary"]["WorkloadId"] for n in answer.body["NotificationSummaries"]
        ]
        pages += 1
        token = answer.body.get("NextToken")
        if not token:
            return seen, pages


def test_pages_of_notifications_list_each_review_once(signed, alice, behind):
    seen, pages = all_notice_pages(signed, alice, {"MaxResults": 2})
    assert seen == [w.public_id for w in behind]
    assert pages == 3


def test_an_upgraded_review_leaves_the_notifications_between_pages(signed, alice, behind):
    from reviews.upgrades import lens_review_upgrade, newer_versions

    first = signed(alice, "POST", ["notifications"], body={"MaxResults": 2})
    review = LensReview.objects.get(workload=behind[3], lens__is_builtin=False)
    lens_review_upgrade(
        lens_review=review, target=newer_versions(review)[0], milestone_name="Before", user=alice
    )
    rest = signed(alice, "POST", ["notifications"], body={"NextToken": first.body["NextToken"]})
    ids = [
        n["LensUpgradeSummary"]["WorkloadId"]
        for n in first.body["NotificationSummaries"] + rest.body["NotificationSummaries"]
    ]
    assert ids == [w.public_id for w in behind if w is not behind[3]]


def test_notification_max_results_over_the_limit_is_refused(signed, alice):
    answer = signed(alice, "POST", ["notifications"], body={"MaxResults": 51})
    assert answer.body["Fields"][0]["Name"] == "MaxResults"


def test_a_page_of_notifications_costs_the_same_queries_for_two_or_five(
    signed, alice, behind, django_assert_max_num_queries
):
    signed(alice, "POST", ["notifications"], body={"MaxResults": 2})
    with django_assert_max_num_queries(4):
        few = signed(alice, "POST", ["notifications"], body={"MaxResults": 2})
    with django_assert_max_num_queries(4):
        lots = signed(alice, "POST", ["notifications"], body={"MaxResults": 50})
    assert (len(few.body["NotificationSummaries"]), len(lots.body["NotificationSummaries"])) == (
        2,
        5,
    )


def test_a_retried_delete_with_the_same_token_answers_as_the_first(signed, admin_user):
    version = publish_lens(admin_user, name="Team Lens")
    query = {"LensStatus": "ALL", "ClientRequestToken": "delete-1"}
    first = signed(admin_user, "DELETE", ["lenses", version.lens.alias], query=query)
    again = signed(admin_user, "DELETE", ["lenses", version.lens.alias], query=query)
    assert (first.status, again.status) == (200, 200)
    assert not Lens.objects.exists()
    other = signed(
        admin_user, "DELETE", ["lenses", version.lens.alias], query={"LensStatus": "ALL"}
    )
    assert other.error_type == "ResourceNotFoundException"
