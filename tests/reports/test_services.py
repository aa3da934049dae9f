"""Report states, retries and stale reports: the services and the task, without a worker."""

import datetime
import time
from unittest import mock

import kombu.exceptions
import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError
from django.utils import timezone

from reviews.milestones import milestone_create
from reviews.models import Report
from reviews.reports import services
from reviews.reports.services import (
    MAX_PENDING_PER_USER,
    QUEUE_UNAVAILABLE,
    ReportError,
    queued_stale_after,
    report_build,
    report_request,
    report_retry,
    reports_recover_stale,
    stale_after,
)
from reviews.tasks import report_build_task

PDF = ("pdf", b"%PDF-1.7 stand-in")


def fake_render(content=PDF):
    """Stand in for the PDF rendering, which other tests check (it takes seconds)."""
    return mock.patch.object(services, "_render", return_value=content)


# -- asking --------------------------------------------------------------------------------------


def test_asking_creates_a_queued_report_and_enqueues_after_commit(
    workload, lens, alice, django_capture_on_commit_callbacks
):
    with mock.patch.object(report_build_task, "apply_async") as send:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            report = report_request(
                user=alice, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=lens
            )
        # Nothing is sent before the transaction commits: the worker could not see the row.
        send.assert_not_called()
        assert report.status == Report.Status.QUEUED
        assert report.requested_by == alice
        for callback in callbacks:
            callback()
    send.assert_called_once()
    assert send.call_args.kwargs["args"] == [report.pk]


def test_an_unreachable_broker_fails_the_report_with_a_clear_message(
    workload, lens, alice, django_capture_on_commit_callbacks
):
    error = kombu.exceptions.OperationalError("Error 111 connecting to redis: refused")
    with (
        mock.patch.object(report_build_task, "apply_async", side_effect=error),
        django_capture_on_commit_callbacks(execute=True),
    ):
        report = report_request(
            user=alice, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=lens
        )

    assert report.status == Report.Status.FAILED
    assert report.error == QUEUE_UNAVAILABLE
    report.refresh_from_db()
    assert (report.status, report.error) == (Report.Status.FAILED, QUEUE_UNAVAILABLE)


REFUSED = [
    ({"kind": "LENS_REVIEW", "workload": True}, "needs a workload and a lens"),
    ({"kind": "LENS_REVIEW", "workload": True, "lens": True, "format": "JSON"}, "is a PDF"),
    ({"kind": "CONSOLIDATED", "workload": True, "lens": True}, "every workload you can see"),
    ({"kind": "CONSOLIDATED", "filters": {"paper": "A3"}}, "A4 or Letter"),
    ({"kind": "BOGUS"}, "Unknown kind"),
]


@pytest.mark.parametrize(("arguments", "message"), REFUSED)
def test_asking_refuses_what_cannot_be_built(workload, lens, alice, arguments, message):
    arguments = dict(arguments)
    if arguments.pop("workload", False):
        arguments["workload"] = workload
    if arguments.pop("lens", False):
        arguments["lens"] = lens

    with pytest.raises(ReportError, match=message):
        report_request(user=alice, **arguments)
    assert not Report.objects.exists()


def test_a_milestone_of_another_workload_is_refused(workload, lens, alice):
    other = workload.__class__.objects.create(
        name="Other", description="Another one.", environment="PRODUCTION", owner=alice
    )
    milestone = milestone_create(workload=other, name="Baseline", user=alice)

    with pytest.raises(ReportError, match="another workload"):
        report_request(
            user=alice,
            kind=Report.Kind.LENS_REVIEW,
            workload=workload,
            lens=lens,
            milestone=milestone,
        )


def test_one_person_has_a_bounded_number_of_reports_waiting(workload, lens, alice, bob):
    for _ in range(MAX_PENDING_PER_USER):
        report_request(user=alice, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=lens)

    with pytest.raises(ReportError, match="waiting already"):
        report_request(user=alice, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=lens)
    # Others are not held up by Alice's reports.
    report_request(user=bob, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=lens)


# -- building ------------------------------------------------------------------------------------


def test_building_goes_from_queued_through_running_to_done(report):
    seen = []

    def render(running):
        seen.append(Report.objects.get(pk=running.pk).status)
        return PDF

    with mock.patch.object(services, "_render", side_effect=render):
        done = report_build(report_id=report.pk)

    assert seen == [Report.Status.RUNNING]
    assert done.status == Report.Status.DONE
    assert done.attempts == 1
    assert done.started_at <= done.finished_at
    assert done.error == ""
    assert done.file.name.startswith("reports/") and done.file.name.endswith(".pdf")
    assert done.file.read() == PDF[1]


def test_the_task_takes_the_report_id_and_builds_it(report):
    with fake_render():
        report_build_task(report.pk)

    report.refresh_from_db()
    assert report.status == Report.Status.DONE


def test_a_second_delivery_of_the_task_changes_nothing(report):
    with fake_render():
        first = report_build(report_id=report.pk)
    with fake_render() as render:
        assert report_build(report_id=report.pk) is None
    render.assert_not_called()
    report.refresh_from_db()
    assert (report.status, report.attempts, report.file.name) == (
        Report.Status.DONE,
        1,
        first.file.name,
    )


def test_a_report_deleted_before_its_build_is_skipped(report):
    report_id = report.pk
    report.delete()

    assert report_build(report_id=report_id) is None


def test_an_error_fails_the_report_with_a_reason(report):
    with mock.patch.object(services, "_render", side_effect=ValueError("bad template")):
        failed = report_build(report_id=report.pk)

    assert failed.status == Report.Status.FAILED
    assert "unexpected error" in failed.error
    assert "ValueError" in failed.error
    assert not failed.file


def test_a_lens_no_longer_reviewed_fails_with_that_reason(report, workload, lens):
    workload.lens_reviews.filter(lens=lens).update(is_active=False)

    failed = report_build(report_id=report.pk)

    assert failed.status == Report.Status.FAILED
    assert "no longer reviewed" in failed.error


def test_a_build_past_the_soft_time_limit_fails_and_keeps_no_file(report, media_root):
    with mock.patch.object(services, "_render", side_effect=SoftTimeLimitExceeded()):
        failed = report_build(report_id=report.pk)

    assert failed.status == Report.Status.FAILED
    assert "took longer than" in failed.error
    assert not list(media_root.rglob("*.pdf"))


def test_a_transient_error_queues_the_report_again_and_raises_for_the_retry(report):
    with (
        mock.patch.object(services, "_render", side_effect=OperationalError("server closed")),
        pytest.raises(OperationalError),
    ):
        report_build(report_id=report.pk, final_attempt=False)

    report.refresh_from_db()
    assert report.status == Report.Status.QUEUED
    assert report.attempts == 1
    assert "temporary error" in report.error


def test_the_task_retries_transient_errors_with_backoff_then_succeeds(report):
    outcomes = [OperationalError("gone"), OperationalError("gone again"), PDF]

    with mock.patch.object(services, "_render", side_effect=outcomes):
        report_build_task.apply(args=[report.pk])

    report.refresh_from_db()
    assert report.status == Report.Status.DONE
    assert report.attempts == 3


def test_the_task_gives_up_after_three_retries(report):
    with mock.patch.object(services, "_render", side_effect=OperationalError("down")) as render:
        report_build_task.apply(args=[report.pk])

    assert render.call_count == 1 + report_build_task.max_retries
    report.refresh_from_db()
    assert report.status == Report.Status.FAILED
    assert "kept coming back after 4 attempts" in report.error


def test_the_task_is_set_up_for_long_work():
    assert report_build_task.acks_late
    assert report_build_task.max_retries == 3
    assert report_build_task.retry_backoff
    assert OperationalError in report_build_task.autoretry_for
    assert kombu.exceptions.OperationalError in report_build_task.autoretry_for
    assert 0 < report_build_task.soft_time_limit < report_build_task.time_limit


def test_a_build_that_finishes_after_being_given_up_on_leaves_no_trace(report, media_root):
    def taken_over(running):
        # Meanwhile the stale check queued the report again and another build claimed it.
        Report.objects.filter(pk=running.pk).update(attempts=running.attempts + 1)
        return PDF

    with mock.patch.object(services, "_render", side_effect=taken_over):
        report_build(report_id=report.pk)

    report.refresh_from_db()
    assert report.status == Report.Status.RUNNING
    assert not report.file
    assert not list(media_root.rglob("*.pdf"))


# -- retrying ------------------------------------------------------------------------------------


def test_a_failed_report_can_be_retried_with_fresh_attempts(
    report, django_capture_on_commit_callbacks
):
    Report.objects.filter(pk=report.pk).update(
        status=Report.Status.FAILED, error="Boom.", attempts=3, finished_at=timezone.now()
    )

    with (
        mock.patch.object(report_build_task, "apply_async") as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        retried = report_retry(report=report, user=report.requested_by)

    send.assert_called_once()
    assert (retried.status, retried.error, retried.attempts) == (Report.Status.QUEUED, "", 0)
    assert retried.finished_at is None


@pytest.mark.parametrize("status", [Report.Status.QUEUED, Report.Status.RUNNING, "DONE"])
def test_only_failed_reports_are_retried(report, status):
    Report.objects.filter(pk=report.pk).update(status=status)

    with pytest.raises(ReportError, match="Only a failed report"):
        report_retry(report=report, user=report.requested_by)


# -- stale reports -------------------------------------------------------------------------------


def make_running(report, *, attempts: int, started_ago: datetime.timedelta) -> Report:
    Report.objects.filter(pk=report.pk).update(
        status=Report.Status.RUNNING,
        attempts=attempts,
        started_at=timezone.now() - started_ago,
    )
    report.refresh_from_db()
    return report


def test_a_report_running_past_the_time_limit_is_queued_again(
    report, django_capture_on_commit_callbacks
):
    make_running(report, attempts=1, started_ago=stale_after() + datetime.timedelta(seconds=5))

    with (
        mock.patch.object(report_build_task, "apply_async") as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        counts = reports_recover_stale()

    assert counts == {"requeued": 1, "failed": 0}
    send.assert_called_once()
    report.refresh_from_db()
    assert report.status == Report.Status.QUEUED
    assert report.started_at is None
    assert "queued again" in report.error
    # The next build claims it as attempt 2.
    with fake_render():
        done = report_build(report_id=report.pk)
    assert (done.status, done.attempts, done.error) == (Report.Status.DONE, 2, "")


def test_a_report_stale_three_times_fails_with_a_message(report):
    make_running(report, attempts=3, started_ago=stale_after() + datetime.timedelta(minutes=1))

    counts = reports_recover_stale()

    assert counts == {"requeued": 0, "failed": 1}
    report.refresh_from_db()
    assert report.status == Report.Status.FAILED
    assert "3 times" in report.error
    assert report.finished_at is not None


def test_a_report_still_within_its_time_limit_is_left_alone(report):
    make_running(report, attempts=1, started_ago=stale_after() - datetime.timedelta(seconds=30))

    assert reports_recover_stale() == {"requeued": 0, "failed": 0}
    report.refresh_from_db()
    assert report.status == Report.Status.RUNNING


def test_a_long_build_whose_heartbeat_is_recent_is_left_alone(report):
    make_running(report, attempts=1, started_ago=stale_after() * 10)
    Report.objects.filter(pk=report.pk).update(heartbeat_at=timezone.now())

    assert reports_recover_stale() == {"requeued": 0, "failed": 0}
    report.refresh_from_db()
    assert report.status == Report.Status.RUNNING


def test_a_report_whose_heartbeat_stopped_is_queued_again(report):
    make_running(report, attempts=1, started_ago=stale_after() * 3)
    silent_since = timezone.now() - stale_after() - datetime.timedelta(seconds=1)
    Report.objects.filter(pk=report.pk).update(heartbeat_at=silent_since)

    with mock.patch.object(report_build_task, "apply_async"):
        assert reports_recover_stale() == {"requeued": 1, "failed": 0}
    report.refresh_from_db()
    assert report.status == Report.Status.QUEUED
    # A queued report's heartbeat is when it was queued: from now it waits for a worker afresh.
    assert report.heartbeat_at > silent_since + stale_after()


def test_a_build_records_its_worker_and_a_first_heartbeat(report):
    with fake_render():
        done = report_build(report_id=report.pk, worker="celery@reports-1")

    assert done.worker == "celery@reports-1"
    assert done.started_at == done.heartbeat_at


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_moves_on_while_the_report_renders(report, settings):
    settings.REPORT_HEARTBEAT_SECONDS = 0.05
    beats = []

    def slow_render(building):
        # Rendering is one long call; the heartbeat must come from beside it.
        first = Report.objects.get(pk=building.pk).heartbeat_at
        deadline = timezone.now() + datetime.timedelta(seconds=10)
        while timezone.now() < deadline and not beats:
            # Pauses leave the heartbeat room to write (an in-memory SQLite locks whole tables).
            time.sleep(0.02)
            current = Report.objects.get(pk=building.pk).heartbeat_at
            if current > first:
                beats.append(current)
        return PDF

    with mock.patch.object(services, "_render", side_effect=slow_render):
        done = report_build(report_id=report.pk)

    assert done.status == Report.Status.DONE
    assert beats and beats[0] > done.started_at


def test_the_stale_check_can_be_narrowed(report, workload, lens, bob):
    other = report_request(user=bob, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=lens)
    for running in (report, other):
        make_running(running, attempts=3, started_ago=stale_after() * 2)

    reports_recover_stale(reports=Report.objects.filter(pk=other.pk))

    report.refresh_from_db()
    other.refresh_from_db()
    assert (report.status, other.status) == (Report.Status.RUNNING, Report.Status.FAILED)


def test_the_periodic_task_recovers_stale_reports(report):
    from reviews.tasks import reports_recover_stale_task

    make_running(report, attempts=3, started_ago=stale_after() * 2)

    assert reports_recover_stale_task() == {"requeued": 0, "failed": 1}


# -- reports the queue lost ----------------------------------------------------------------------


def make_waiting(report, *, waited: datetime.timedelta) -> Report:
    """A QUEUED report whose message has not reached a worker for `waited`."""
    Report.objects.filter(pk=report.pk).update(created_at=timezone.now() - waited)
    report.refresh_from_db()
    return report


def test_a_queued_report_no_worker_took_is_sent_again(report, django_capture_on_commit_callbacks):
    make_waiting(report, waited=queued_stale_after() + datetime.timedelta(seconds=5))

    with (
        mock.patch.object(report_build_task, "apply_async") as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        counts = reports_recover_stale()

    assert counts == {"requeued": 1, "failed": 0}
    send.assert_called_once()
    assert send.call_args.kwargs["args"] == [report.pk]
    report.refresh_from_db()
    assert (report.status, report.attempts) == (Report.Status.QUEUED, 1)
    assert "No worker took attempt 1" in report.error
    # It waits afresh from now: the next check leaves it alone.
    assert timezone.now() - report.heartbeat_at < datetime.timedelta(seconds=5)
    assert reports_recover_stale() == {"requeued": 0, "failed": 0}


def test_the_old_message_coming_back_after_a_resend_builds_the_report_once(report):
    make_waiting(report, waited=queued_stale_after() * 2)
    with mock.patch.object(report_build_task, "apply_async"):
        reports_recover_stale()

    # The lost message turns up after all, and so does the one sent again.
    with fake_render() as render:
        built = report_build(report_id=report.pk)
        assert report_build(report_id=report.pk) is None

    render.assert_called_once()
    assert (built.status, built.attempts, built.error) == (Report.Status.DONE, 2, "")


def test_a_report_lost_again_and_again_fails_and_frees_its_slot(workload, lens, alice):
    lost = [
        report_request(user=alice, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=lens)
        for _ in range(MAX_PENDING_PER_USER)
    ]
    with pytest.raises(ReportError, match="waiting already"):
        report_request(user=alice, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=lens)

    now = timezone.now()
    with mock.patch.object(report_build_task, "apply_async"):
        for check in range(1, services.MAX_ATTEMPTS + 1):
            now += queued_stale_after() + datetime.timedelta(seconds=1)
            counts = reports_recover_stale(now=now)
            resent = check < services.MAX_ATTEMPTS
            assert counts == {"requeued": 5 if resent else 0, "failed": 0 if resent else 5}

    for report in lost:
        report.refresh_from_db()
        assert (report.status, report.attempts) == (Report.Status.FAILED, services.MAX_ATTEMPTS)
        assert "no worker is running" in report.error
        assert "Retry it" in report.error
    # The slots are free again, and a lost report can be retried.
    report_request(user=alice, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=lens)
    assert report_retry(report=lost[0], user=alice).status == Report.Status.QUEUED


def test_a_report_waiting_its_turn_behind_a_build_is_left_alone(report, workload, lens, bob):
    make_waiting(report, waited=queued_stale_after() * 2)
    building = report_request(user=bob, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=lens)
    # Asked for earlier still, and being built now (its heartbeat is fresh).
    Report.objects.filter(pk=building.pk).update(
        created_at=report.created_at - datetime.timedelta(minutes=1),
        status=Report.Status.RUNNING,
        attempts=1,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )

    assert reports_recover_stale() == {"requeued": 0, "failed": 0}
    report.refresh_from_db()
    assert (report.status, report.attempts) == (Report.Status.QUEUED, 0)


def test_a_report_the_workers_went_past_is_sent_again_while_they_are_busy(
    report, workload, lens, bob
):
    make_waiting(report, waited=queued_stale_after() * 2)
    later = report_request(user=bob, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=lens)
    # Asked for after the lost one, and a worker is building it already.
    Report.objects.filter(pk=later.pk).update(
        status=Report.Status.RUNNING,
        attempts=1,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )

    with mock.patch.object(report_build_task, "apply_async"):
        assert reports_recover_stale() == {"requeued": 1, "failed": 0}
    report.refresh_from_db()
    assert report.attempts == 1


def test_a_report_queued_within_the_bound_is_left_alone(report):
    make_waiting(report, waited=queued_stale_after() - datetime.timedelta(seconds=10))

    assert reports_recover_stale() == {"requeued": 0, "failed": 0}
    report.refresh_from_db()
    assert (report.status, report.attempts) == (Report.Status.QUEUED, 0)


def test_a_retried_report_waits_afresh_from_its_retry(report, django_capture_on_commit_callbacks):
    make_waiting(report, waited=queued_stale_after() * 10)
    Report.objects.filter(pk=report.pk).update(status=Report.Status.FAILED, attempts=3)

    with mock.patch.object(report_build_task, "apply_async"):
        report_retry(report=report, user=report.requested_by)

    assert reports_recover_stale() == {"requeued": 0, "failed": 0}
