import pytest

from reviews.models import Workload
from reviews.services import workload_create


@pytest.fixture
def many(builtin_lens, alice):
    return [
        workload_create(
            owner=alice,
            name=f"Service {n:02}",
            description="One of many.",
            environment=Workload.Environment.PREPRODUCTION,
            review_owner="Alice Archer",
        )
        for n in range(7)
    ]


def _all_pages(signed, user, body):
    seen, token, pages = [], None, 0
    while True:
        answer = signed(
            user,
            "POST",
            ["workloadsSummaries"],
            body={**body, **({"NextToken": token} if token else {})},
        )
        assert answer.status == 200, answer.body
        seen += [s["WorkloadId"] for s in answer.body["WorkloadSummaries"]]
        pages += 1
        token = answer.body.get("NextToken")
        if not token:
            return seen, pages


def test_pages_of_workloads_list_each_one_once(signed, many, alice):
    seen, pages = _all_pages(signed, alice, {"MaxResults": 3})
    assert sorted(seen) == sorted(w.public_id for w in many)
    assert pages == 3


def test_a_workload_deleted_between_pages_skips_and_repeats_nothing_else(signed, many, alice):
    first = signed(alice, "POST", ["workloadsSummaries"], body={"MaxResults": 3})
    many[4].delete()
    body = {"MaxResults": 50, "NextToken": first.body["NextToken"]}
    rest = signed(alice, "POST", ["workloadsSummaries"], body=body)
    pages = first.body["WorkloadSummaries"] + rest.body["WorkloadSummaries"]
    assert [s["WorkloadId"] for s in pages] == [w.public_id for w in many if w is not many[4]]


def test_max_results_over_the_limit_is_refused(signed, many, alice):
    answer = signed(alice, "POST", ["workloadsSummaries"], body={"MaxResults": 51})
    assert (answer.status, answer.error_type) == (400, "ValidationException")
    assert answer.body["Fields"][0]["Name"] == "MaxResults"


def test_a_tampered_token_is_refused(signed, many, alice):
    first = signed(alice, "POST", ["workloadsSummaries"], body={"MaxResults": 3})
    token = first.body["NextToken"]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    answer = signed(alice, "POST", ["workloadsSummaries"], body={"NextToken": forged})
    assert answer.error_type == "ValidationException"


def test_a_token_is_only_good_for_the_filters_it_was_made_with(signed, many, alice):
    first = signed(alice, "POST", ["workloadsSummaries"], body={"MaxResults": 3})
    answer = signed(
        alice,
        "POST",
        ["workloadsSummaries"],
        body={"NextToken": first.body["NextToken"], "WorkloadNamePrefix": "Other"},
    )
    assert answer.error_type == "ValidationException"


def test_another_user_cannot_use_a_token(signed, many, alice, bob):
    first = signed(alice, "POST", ["workloadsSummaries"], body={"MaxResults": 3})
    answer = signed(
        bob, "POST", ["workloadsSummaries"], body={"NextToken": first.body["NextToken"]}
    )
    assert answer.error_type == "ValidationException"


def test_a_page_of_workloads_costs_the_same_queries_for_three_or_fifty(
    signed, many, alice, django_assert_max_num_queries
):
    signed(alice, "POST", ["workloadsSummaries"], body={"MaxResults": 1})
    with django_assert_max_num_queries(7):
        answer = signed(alice, "POST", ["workloadsSummaries"], body={"MaxResults": 50})
    assert len(answer.body["WorkloadSummaries"]) == 7
