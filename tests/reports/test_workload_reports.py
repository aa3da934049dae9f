"""The workload's report pages: ask, watch (htmx polling), download, retry."""

import socket
import time
from unittest import mock

import kombu.exceptions
import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from config.celery import app as celery_app
from reviews.milestones import milestone_create
from reviews.models import Report
from reviews.reports import services
from reviews.reports.services import QUEUE_UNAVAILABLE, report_request
from reviews.tasks import report_build_task
from tests.reports.conftest import HTMX, point_celery_at


def list_url(workload):
    return reverse("reviews:reports", args=[workload.public_id])


def status_url(report):
    return reverse("reviews:report", args=[report.workload.public_id, report.pk])


def download_url(report):
    return reverse("reviews:report_download", args=[report.workload.public_id, report.pk])


def retry_url(report):
    return reverse("reviews:report_retry", args=[report.workload.public_id, report.pk])


def mark_done(report, content=b"%PDF-1.7 test"):
    report.file.save(f"report-{report.pk}.pdf", ContentFile(content), save=False)
    report.status = Report.Status.DONE
    report.started_at = report.finished_at = timezone.now()
    report.save()
    return report


def mark_failed(report, error="The template broke."):
    Report.objects.filter(pk=report.pk).update(
        status=Report.Status.FAILED, error=error, finished_at=timezone.now()
    )
    report.refresh_from_db()
    return report


@pytest.fixture
def sent():
    with mock.patch.object(report_build_task, "apply_async") as apply_async:
        yield apply_async


# -- the list and asking -------------------------------------------------------------------------


def test_it_lists_reports_with_who_asked_and_when(client, workload, report, bob):
    client.force_login(bob)

    response = client.get(list_url(workload))

    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="report-{report.pk}"' in body
    assert "alice" in body
    assert "Queued" in body
    assert "Current state" in body


def test_it_requires_login(client, workload):
    response = client.get(list_url(workload))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_hides_the_workload_from_others(client, workload, mallory, admin_user):
    for user in (mallory, admin_user):
        client.force_login(user)
        assert client.get(list_url(workload)).status_code == 404
        assert client.post(list_url(workload), {"lens": "wellarchitected"}).status_code == 404
    assert not Report.objects.exists()


def test_it_rejects_other_methods(client, workload, alice):
    client.force_login(alice)

    assert client.put(list_url(workload)).status_code == 405
    assert client.delete(list_url(workload)).status_code == 405


def test_a_read_only_member_may_ask_for_a_report(
    client, workload, carol, sent, django_capture_on_commit_callbacks
):
    client.force_login(carol)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(list_url(workload), {"lens": "wellarchitected", "paper": "A4"})

    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.kind, report.requested_by, report.workload) == ("LENS_REVIEW", carol, workload)
    assert report.filters == {"paper": "A4"}
    sent.assert_called_once()
    assert "Report queued" in client.get(response.url).content.decode()


def test_asking_with_htmx_returns_the_list_with_the_new_row(client, workload, alice, sent):
    client.force_login(alice)

    response = client.post(
        list_url(workload), {"lens": "wellarchitected", "paper": "LETTER"}, **HTMX
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="reports">')
    report = Report.objects.get()
    assert f'id="report-{report.pk}"' in body
    assert 'hx-trigger="every 2s"' in body
    assert "<html" not in body


def test_asking_for_a_milestone(client, workload, alice, sent):
    milestone = milestone_create(workload=workload, name="Baseline", user=alice)
    client.force_login(alice)

    client.post(list_url(workload), {"lens": "wellarchitected", "milestone": "1", "paper": "A4"})

    assert Report.objects.get().milestone == milestone
    assert "Milestone 1: Baseline" in client.get(list_url(workload)).content.decode()


def test_an_unknown_choice_re_renders_the_form_with_errors(client, workload, alice):
    client.force_login(alice)

    response = client.post(list_url(workload), {"lens": "nope", "milestone": "7"}, **HTMX)

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Report.objects.exists()


# Real commits: the task is sent when the view's transaction commits, before it answers.
def test_a_down_queue_says_so_and_never_errors(transactional_db, client, workload, alice):
    client.force_login(alice)
    refused = kombu.exceptions.OperationalError("Connection refused")

    with mock.patch.object(report_build_task, "apply_async", side_effect=refused):
        response = client.post(list_url(workload), {"lens": "wellarchitected"}, **HTMX)

    assert response.status_code == 200
    assert "report queue is unavailable" in response.content.decode()
    report = Report.objects.get()
    assert (report.status, report.error) == (Report.Status.FAILED, QUEUE_UNAVAILABLE)


def test_without_htmx_a_down_queue_is_a_message(transactional_db, client, workload, alice):
    client.force_login(alice)
    refused = kombu.exceptions.OperationalError("Connection refused")

    with mock.patch.object(report_build_task, "apply_async", side_effect=refused):
        response = client.post(list_url(workload), {"lens": "wellarchitected"}, follow=True)

    assert response.status_code == 200
    assert "report queue is unavailable" in response.content.decode()


@pytest.fixture
def closed_port():
    """A port nothing listens on: connecting is refused, as when Redis is stopped."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def silent_port():
    """A port that accepts connections and never answers, as a broker hung mid-restart."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield server.getsockname()[1]


@pytest.mark.parametrize("port", ["closed_port", "silent_port"])
def test_asking_while_the_broker_is_down_answers_within_two_seconds_every_time(
    transactional_db, client, workload, alice, monkeypatch, request, port
):
    url = f"redis://127.0.0.1:{request.getfixturevalue(port)}/0"
    # The transport options config/settings.py gives a Redis broker.
    point_celery_at(monkeypatch, celery_app, url, {"socket_connect_timeout": 2})
    client.force_login(alice)
    url = list_url(workload)

    for _ in range(3):
        started = time.monotonic()
        response = client.post(url, {"lens": "wellarchitected"}, **HTMX)
        elapsed = time.monotonic() - started

        assert response.status_code == 200
        assert "report queue is unavailable" in response.content.decode()
        assert elapsed < 2.5, f"{port}: answered after {elapsed:.1f} s"
    assert set(Report.objects.values_list("status", "error")) == {
        (Report.Status.FAILED, QUEUE_UNAVAILABLE)
    }


def test_a_page_finding_lost_reports_while_the_broker_hangs_answers_within_two_seconds(
    transactional_db, client, workload, lens, alice, monkeypatch, silent_port
):
    # Queued a while ago, their messages since lost (rows only: nothing is sent here).
    lost = [
        Report.objects.create(
            kind=Report.Kind.LENS_REVIEW, workload=workload, lens=lens, requested_by=alice
        )
        for _ in range(services.MAX_PENDING_PER_USER)
    ]
    waited = services.queued_stale_after() + services.stale_after()
    Report.objects.update(created_at=timezone.now() - waited)
    point_celery_at(
        monkeypatch, celery_app, f"redis://127.0.0.1:{silent_port}/0", {"socket_connect_timeout": 2}
    )
    client.force_login(alice)

    url = list_url(workload)

    started = time.monotonic()
    response = client.get(url)
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    # One send waits for the broker; the others are not tried once it has not answered.
    assert elapsed < 2.5, f"answered after {elapsed:.1f} s"
    for report in lost:
        report.refresh_from_db()
        assert (report.status, report.error) == (Report.Status.FAILED, QUEUE_UNAVAILABLE)


def test_the_list_recovers_reports_whose_worker_died(client, workload, report, alice, sent):
    started = timezone.now() - services.stale_after() * 2
    Report.objects.filter(pk=report.pk).update(
        status=Report.Status.RUNNING, started_at=started, attempts=1
    )
    client.force_login(alice)

    with mock.patch("django.db.transaction.on_commit", side_effect=lambda f, **_: f()):
        client.get(list_url(workload))

    report.refresh_from_db()
    assert report.status == Report.Status.QUEUED
    sent.assert_called_once()


def test_polling_a_report_the_queue_lost_sends_it_again(
    client, report, carol, sent, django_capture_on_commit_callbacks
):
    waited = services.queued_stale_after() + services.stale_after()
    Report.objects.filter(pk=report.pk).update(created_at=timezone.now() - waited)
    client.force_login(carol)

    with django_capture_on_commit_callbacks(execute=True):
        body = client.get(status_url(report), **HTMX).content.decode()

    sent.assert_called_once()
    assert "No worker took attempt 1" in body
    assert 'hx-trigger="every 2s"' in body
    report.refresh_from_db()
    assert (report.status, report.attempts) == (Report.Status.QUEUED, 1)


def test_the_list_takes_a_fixed_number_of_queries(
    client, workload, lens, alice, django_assert_max_num_queries
):
    for user in ("alice", "bob", "carol"):
        report_request(
            user=workload.members.get(user__username=user).user,
            kind=Report.Kind.LENS_REVIEW,
            workload=workload,
            lens=lens,
        )
    client.force_login(alice)

    with django_assert_max_num_queries(10):
        response = client.get(list_url(workload))
    assert response.content.decode().count('class="report-row"') == 3


# -- status and polling --------------------------------------------------------------------------


def test_a_pending_report_polls_its_row_until_it_is_done(client, report, carol):
    client.force_login(carol)

    pending = client.get(status_url(report), **HTMX)

    assert pending.status_code == 200
    body = pending.content.decode()
    assert body.lstrip().startswith(f'<tr id="report-{report.pk}"')
    assert f'hx-get="{status_url(report)}"' in body
    assert 'hx-trigger="every 2s"' in body
    assert "<progress" in body

    mark_done(report)
    done = client.get(status_url(report), **HTMX).content.decode()

    assert "hx-trigger" not in done
    assert download_url(report) in done
    assert "Ready" in done


def test_a_failed_report_shows_why_and_offers_a_retry(client, report, bob):
    mark_failed(report, "Building the report took longer than 4 min and was stopped.")
    client.force_login(bob)

    body = client.get(status_url(report), **HTMX).content.decode()

    assert "hx-trigger" not in body
    assert "took longer than 4 min" in body
    assert retry_url(report) in body


def test_the_status_page_works_without_htmx(client, report, alice):
    client.force_login(alice)

    response = client.get(status_url(report))

    assert response.status_code == 200
    assert "<html" in response.content.decode()
    assert f'id="report-{report.pk}"' in response.content.decode()


def test_the_status_requires_login_and_access(client, report, mallory):
    assert client.get(status_url(report)).status_code == 302
    client.force_login(mallory)
    assert client.get(status_url(report)).status_code == 404
    assert client.post(status_url(report)).status_code == 405


def test_a_report_of_another_workload_is_not_found(client, report, alice, mallory):
    from reviews.services import workload_create

    other = workload_create(
        owner=alice,
        name="Other",
        description="Another workload.",
        environment="PRODUCTION",
        review_owner="Alice",
    )
    client.force_login(alice)

    url = reverse("reviews:report", args=[other.public_id, report.pk])
    assert client.get(url).status_code == 404


# -- download ------------------------------------------------------------------------------------


def test_members_download_the_file(client, report, carol):
    mark_done(report, b"%PDF-1.7 the report")
    client.force_login(carol)

    response = client.get(download_url(report))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == b"%PDF-1.7 the report"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "payments-api-wellarchitected-current-" in disposition
    assert response["Cache-Control"] == "private, no-store"


def test_others_cannot_download(client, report, mallory, admin_user):
    mark_done(report)
    assert client.get(download_url(report)).status_code == 302
    for user in (mallory, admin_user):
        client.force_login(user)
        assert client.get(download_url(report)).status_code == 404


def test_there_is_nothing_to_download_before_the_report_is_done(client, report, alice):
    client.force_login(alice)

    assert client.get(download_url(report)).status_code == 404


def test_a_missing_file_is_not_found(client, report, alice):
    mark_done(report)
    report.file.storage.delete(report.file.name)
    client.force_login(alice)

    assert client.get(download_url(report)).status_code == 404


def test_download_rejects_post(client, report, alice):
    mark_done(report)
    client.force_login(alice)

    assert client.post(download_url(report)).status_code == 405


# -- retry ---------------------------------------------------------------------------------------


def test_retrying_with_htmx_returns_the_polling_row(
    client, report, carol, sent, django_capture_on_commit_callbacks
):
    mark_failed(report)
    client.force_login(carol)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(retry_url(report), **HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="report-{report.pk}"')
    assert 'hx-trigger="every 2s"' in body
    sent.assert_called_once()
    report.refresh_from_db()
    assert report.status == Report.Status.QUEUED
    # Retrying is asking again: the report is Carol's now, and takes one of her slots.
    assert report.requested_by == carol
    assert "<td>carol</td>" in body


@pytest.mark.parametrize("htmx", [True, False])
def test_retrying_over_the_limit_says_why_and_changes_nothing(
    client, report, workload, lens, carol, sent, htmx
):
    mark_failed(report)
    for _ in range(services.MAX_PENDING_PER_USER):
        report_request(user=carol, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=lens)
    client.force_login(carol)

    if htmx:
        response = client.post(retry_url(report), **HTMX)
        assert response.content.decode().lstrip().startswith(f'<tr id="report-{report.pk}"')
    else:
        response = client.post(retry_url(report), follow=True)
    assert response.status_code == 200
    assert "You have 5 reports waiting already" in response.content.decode()
    sent.assert_not_called()
    report.refresh_from_db()
    assert (report.status, report.requested_by.username) == (Report.Status.FAILED, "alice")


def test_retrying_without_htmx_redirects_to_the_list(client, report, alice, sent):
    mark_failed(report)
    client.force_login(alice)

    response = client.post(retry_url(report))

    assert response.status_code == 302
    assert response.url == list_url(report.workload)


def test_only_failed_reports_are_retried(client, report, alice):
    client.force_login(alice)

    response = client.post(retry_url(report), follow=True)

    assert "Only a failed report can be retried" in response.content.decode()
    report.refresh_from_db()
    assert report.status == Report.Status.QUEUED


def test_retry_requires_login_access_and_post(client, report, mallory, alice):
    mark_failed(report)
    assert client.post(retry_url(report)).status_code == 302
    client.force_login(mallory)
    assert client.post(retry_url(report)).status_code == 404
    client.force_login(alice)
    assert client.get(retry_url(report)).status_code == 405
    report.refresh_from_db()
    assert report.status == Report.Status.FAILED


def test_the_workload_page_links_to_its_reports(client, workload, carol):
    client.force_login(carol)

    body = client.get(reverse("reviews:workload_detail", args=[workload.public_id]))

    assert list_url(workload) in body.content.decode()
