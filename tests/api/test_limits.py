import pytest

from reviews.models import Workload


def test_a_key_over_its_rate_is_throttled(signed, workload, alice, settings, monkeypatch):
    settings.API_RATE_PER_SECOND = 2
    monkeypatch.setattr("api.throttling.time.time", lambda: 1_000_000.5)
    answers = [signed(alice, "GET", ["workloads", workload.public_id]) for _ in range(3)]
    assert [a.status for a in answers] == [200, 200, 429]
    assert answers[2].error_type == "ThrottlingException"


def test_the_next_second_lets_the_key_in_again(signed, workload, alice, settings, monkeypatch):
    settings.API_RATE_PER_SECOND = 1
    now = [2_000_000.0]
    monkeypatch.setattr("api.throttling.time.time", lambda: now[0])
    assert signed(alice, "GET", ["workloads", workload.public_id]).status == 200
    assert signed(alice, "GET", ["workloads", workload.public_id]).status == 429
    now[0] += 1
    assert signed(alice, "GET", ["workloads", workload.public_id]).status == 200


def test_another_key_is_not_slowed_by_a_throttled_one(
    signed, workload, alice, bob, settings, monkeypatch
):
    settings.API_RATE_PER_SECOND = 1
    monkeypatch.setattr("api.throttling.time.time", lambda: 3_000_000.0)
    signed(alice, "GET", ["workloads", workload.public_id])
    assert signed(alice, "GET", ["workloads", workload.public_id]).status == 429
    assert signed(bob, "GET", ["workloads", workload.public_id]).status == 200


def test_a_body_over_the_upload_limit_is_refused_in_json(signed, workload, alice, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    answer = signed(alice, "PATCH", ["workloads", workload.public_id], body={"Notes": "x" * 2000})
    assert (answer.status, answer.error_type) == (413, "ValidationException")
    workload.refresh_from_db()
    assert workload.notes == ""


def test_bad_members_are_named_together_and_change_nothing(signed, workload, alice):
    answer = signed(
        alice,
        "PATCH",
        ["workloads", workload.public_id],
        body={"Description": "x", "Environment": "STAGING", "Notes": "kept?"},
    )
    assert answer.error_type == "ValidationException"
    assert {f["Name"] for f in answer.body["Fields"]} == {"Description", "Environment"}
    workload.refresh_from_db()
    assert workload.notes == ""


def test_a_retried_delete_with_its_token_succeeds_again(signed, workload, alice):
    query = {"ClientRequestToken": "delete-once"}
    first = signed(alice, "DELETE", ["workloads", workload.public_id], query=query)
    again = signed(alice, "DELETE", ["workloads", workload.public_id], query=query)
    assert (first.status, again.status) == (200, 200)
    assert not Workload.objects.exists()


def test_an_error_inside_an_operation_is_a_json_500(signed, workload, alice, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("api.operations.workloads.with_summaries", broken)
    answer = signed(alice, "GET", ["workloads", workload.public_id])
    assert (answer.status, answer.error_type) == (500, "InternalServerException")
    assert "boom" not in answer.body["Message"]


@pytest.mark.parametrize(
    "pillars, accepted",
    [(["security"], True), (["security", "security"], False), (["no_such_pillar"], False)],
)
def test_pillar_priorities_may_name_the_first_pillars_only(
    signed, workload, alice, pillars, accepted
):
    answer = signed(
        alice, "PATCH", ["workloads", workload.public_id], body={"PillarPriorities": pillars}
    )
    assert (answer.status == 200) is accepted
    workload.refresh_from_db()
    if accepted:
        assert workload.pillar_priorities[0] == "security"
        assert len(workload.pillar_priorities) == 6
    else:
        assert answer.body["Fields"][0]["Name"] == "PillarPriorities"
