"""SigV4 as the server checks it: signed requests pass, anything else is refused."""

import datetime
import logging

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.keys import api_key_revoke
from api.models import ApiKey
from reviews.models import Answer, Role
from reviews.services import answer_update, workload_share


def test_a_request_signed_by_botocore_is_answered(signed, workload, alice):
    answer = signed(alice, "GET", ["workloads", workload.public_id])
    assert answer.status == 200
    assert answer.body["Workload"]["WorkloadId"] == workload.public_id
    assert answer.headers["x-amzn-RequestId"]


def test_an_unknown_key_is_an_unrecognized_client(signed, workload, alice, key_for):
    issued = key_for(alice)
    ApiKey.objects.filter(pk=issued.key.pk).update(access_key_id="AKALXXXXXXXXXXXXXXXX")
    answer = signed(alice, "GET", ["workloads", workload.public_id], issued=issued)
    assert (answer.status, answer.error_type) == (403, "UnrecognizedClientException")


def test_a_revoked_key_is_an_unrecognized_client(signed, workload, alice, key_for):
    issued = key_for(alice)
    api_key_revoke(user=alice, access_key_id=issued.key.access_key_id)
    answer = signed(alice, "GET", ["workloads", workload.public_id], issued=issued)
    assert answer.error_type == "UnrecognizedClientException"


def test_a_deactivated_users_key_is_refused(signed, workload, alice, key_for):
    issued = key_for(alice)
    alice.is_active = False
    alice.save()
    answer = signed(alice, "GET", ["workloads", workload.public_id], issued=issued)
    assert answer.error_type == "UnrecognizedClientException"


def test_a_wrong_secret_is_an_invalid_signature(signed, workload, alice, key_for):
    issued = key_for(alice)
    forged = type(issued)(key=issued.key, secret="x" * 40)
    answer = signed(alice, "GET", ["workloads", workload.public_id], issued=forged)
    assert (answer.status, answer.error_type) == (403, "InvalidSignatureException")


def test_a_body_changed_after_signing_is_an_invalid_signature(signed, workload, alice):
    answer = signed(
        alice,
        "PATCH",
        ["workloads", workload.public_id],
        body={"Notes": "signed"},
        tamper=lambda data: data.replace(b"signed", b"forged"),
    )
    assert answer.error_type == "InvalidSignatureException"
    workload.refresh_from_db()
    assert workload.notes == ""


def test_a_request_signed_for_another_service_is_refused(signed, workload, alice):
    answer = signed(alice, "GET", ["workloads", workload.public_id], sign_as={"service": "s3"})
    assert answer.error_type == "InvalidSignatureException"


def test_a_request_signed_twenty_minutes_ago_has_expired(signed, workload, alice, monkeypatch):
    later = timezone.now() + datetime.timedelta(minutes=20)
    monkeypatch.setattr("api.views.timezone.now", lambda: later)
    answer = signed(alice, "GET", ["workloads", workload.public_id])
    assert answer.error_type == "InvalidSignatureException"
    assert "expired" in answer.body["Message"]


def test_a_request_without_a_signature_is_refused_in_json(client, workload):
    response = client.get(f"/aws/workloads/{workload.public_id}")
    assert response.status_code == 403
    assert response["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert response.json()["Message"]


def test_an_unknown_path_is_a_json_error(signed, alice):
    answer = signed(alice, "GET", ["no-such-thing"])
    assert (answer.status, answer.error_type) == (404, "UnknownOperationException")


def test_a_body_that_is_not_json_is_a_serialization_error(signed, workload, alice):
    answer = signed(
        alice,
        "PATCH",
        ["workloads", workload.public_id],
        body={"Notes": "x"},
        tamper=lambda data: b"{not json",
    )
    # The signature covers the body, so a changed body fails there first.
    assert answer.error_type == "InvalidSignatureException"


def test_a_key_is_marked_as_used(signed, workload, alice, key_for):
    issued = key_for(alice)
    signed(alice, "GET", ["workloads", workload.public_id], issued=issued)
    issued.key.refresh_from_db()
    assert issued.key.last_used_at is not None


@pytest.mark.parametrize("count", [1, 20])
def test_getting_a_workload_costs_the_same_queries_however_many_answers_and_shares(
    signed, workload, alice, count, django_assert_max_num_queries
):
    answers = Answer.objects.filter(lens_review__workload=workload).select_related("question")
    for answer in answers.order_by("pk")[:count]:
        first = answer.question.choices.filter(is_none=False).order_by("order").first()
        answer_update(answer=answer, user=alice, selected_choices=[first.choice_id])
    for n in range(count):
        reader = User.objects.create_user(f"reader{n}", f"reader{n}@example.com", "pw-9-x")
        workload_share(workload=workload, user=reader, role=Role.READONLY)
    signed(alice, "GET", ["workloads", workload.public_id])  # the key's first use is a write
    with django_assert_max_num_queries(7):
        answer = signed(alice, "GET", ["workloads", workload.public_id])
    assert answer.status == 200


def test_the_request_log_does_not_look_up_a_browser_session_the_api_never_uses(
    client, signed, workload, alice, key_for, caplog
):
    issued = key_for(alice)
    ApiKey.objects.filter(pk=issued.key.pk).update(access_key_id="AKALXXXXXXXXXXXXXXXX")
    client.force_login(alice)  # a session cookie the signed request has no use for

    with (
        caplog.at_level(logging.INFO, logger="archlens.requests"),
        CaptureQueriesContext(connection) as captured,
    ):
        answer = signed(alice, "GET", ["workloads", workload.public_id], issued=issued)

    assert answer.error_type == "UnrecognizedClientException"
    assert not [q for q in captured.captured_queries if "django_session" in q["sql"]]
    assert "user_id=- " in caplog.records[-1].getMessage()
