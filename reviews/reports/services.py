"""Report workflows: ask for a report, build it in a worker, retry it, recover stale ones.

A report moves QUEUED → RUNNING → DONE or FAILED. Asking creates the row and enqueues the build
task only once the transaction commits, so a worker never looks for a row it cannot see yet.
The task (reviews.tasks) passes the report id to report_build, which does the work.

Workers may die in the middle of a build (out of memory, a host restart, the hard time limit).
Nothing then moves the report on, so while a build runs a thread of its worker writes a
heartbeat; a RUNNING report whose heartbeat is older than REPORT_STALE_SECONDS is stale:
reports_recover_stale queues it again, at most MAX_ATTEMPTS attempts in all, and fails it after
that. The report pages, a periodic task and every worker start run that check.
Every state change is a conditional UPDATE on (status, attempts), so a build that was given up
on cannot overwrite the result of the build that replaced it.

Brokers may lose messages too (Redis without persistence, restarted): a QUEUED report then
waits for a message that no longer exists. For a QUEUED report `heartbeat_at` is the moment it
was last sent to the queue (until then its creation counts); one that waited longer than
REPORT_QUEUED_STALE_SECONDS while the workers had time for it is sent again, and that lost send
counts as an attempt. Sending again is safe: the build claims a report only while it is QUEUED,
so whichever message comes first builds it and any other finds it taken and does nothing.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import botocore.exceptions
import kombu.exceptions
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import DatabaseError, InterfaceError, OperationalError, connections, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from lenses.models import Lens
from reviews.errors import CONFLICT, QUOTA, DomainError
from reviews.models import Milestone, Report, Workload

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# Reports one person may have waiting at once: enough for a workshop, not enough to swamp
# the workers.
MAX_PENDING_PER_USER = 5
PENDING = (Report.Status.QUEUED, Report.Status.RUNNING)
PAPER_SIZES = {"A4": "A4", "LETTER": "Letter"}

QUEUE_UNAVAILABLE = (
    "The report queue is unavailable, so the report was not started. Try again later."
)
# Errors that go away by themselves: the database, the broker or the bucket (S3 storage)
# restarting, a dropped connection. The task retries these (with a growing delay); anything
# else fails the report.
TRANSIENT_ERRORS = (
    OperationalError,
    InterfaceError,
    kombu.exceptions.OperationalError,
    ConnectionError,
    TimeoutError,
    botocore.exceptions.ConnectionError,
    botocore.exceptions.HTTPClientError,
)
# Asking for a report answers within about two seconds even when the broker is down: the send
# is given up on after ENQUEUE_TIMEOUT seconds (a thread bounds it, as /healthz does). Inside
# that, a refused connection gets a second quick try.
ENQUEUE_TIMEOUT = 1.5
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
# Ends a send that was given up on: each try waits at most this long to connect or for a reply.
SEND_SOCKET_TIMEOUT = 1
SEND_TRANSPORT_OPTIONS = {
    "socket_timeout": SEND_SOCKET_TIMEOUT,
    "socket_connect_timeout": SEND_SOCKET_TIMEOUT,
}


class ReportError(DomainError):
    """A report that cannot be asked for or built, with a message for the person who asked."""


def stale_after() -> timedelta:
    return timedelta(seconds=settings.REPORT_STALE_SECONDS)


def queued_stale_after() -> timedelta:
    return timedelta(seconds=settings.REPORT_QUEUED_STALE_SECONDS)


# -- asking --------------------------------------------------------------------------------------


@transaction.atomic
def report_request(
    *,
    user: AbstractBaseUser,
    kind: str,
    workload: Workload | None = None,
    lens: Lens | None = None,
    milestone: Milestone | None = None,
    format: str = Report.Format.PDF,
    filters: dict[str, Any] | None = None,
) -> Report:
    """Create a QUEUED report and enqueue its build once the transaction commits.

    The caller has checked access. When the broker cannot be reached the report comes back
    FAILED with QUEUE_UNAVAILABLE as its error (after the outermost transaction commits).
    """
    if kind == Report.Kind.LENS_REVIEW:
        if workload is None or lens is None:
            raise ReportError("A lens review report needs a workload and a lens.")
        if format != Report.Format.PDF:
            raise ReportError("A lens review report is a PDF.")
        if milestone is not None and milestone.workload_id != workload.pk:
            raise ReportError("That milestone belongs to another workload.")
    elif kind == Report.Kind.CONSOLIDATED:
        if workload is not None or lens is not None or milestone is not None:
            raise ReportError("A consolidated report covers every workload you can see.")
    else:
        raise ReportError(f"Unknown kind of report: {kind}.")
    filters = dict(filters or {})
    if filters.get("paper", "A4") not in PAPER_SIZES:
        raise ReportError("Paper is A4 or Letter.")
    _take_pending_slot(user)
    report = Report.objects.create(
        kind=kind,
        format=format,
        workload=workload,
        lens=lens,
        milestone=milestone,
        filters=filters,
        requested_by=user,
    )
    transaction.on_commit(lambda: report_enqueue(report))
    return report


def _take_pending_slot(user: AbstractBaseUser) -> None:
    """Refuse when the user has MAX_PENDING_PER_USER reports waiting already.

    The user's row stays locked until the caller's transaction ends, so that simultaneous
    requests of one person count one after the other: counting alone let 24 requests at once
    leave six waiting. (SQLite takes its write lock when the transaction begins.)
    """
    list(get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk"))
    pending = Report.objects.filter(requested_by=user, status__in=PENDING).count()
    if pending >= MAX_PENDING_PER_USER:
        raise ReportError(
            f"You have {pending} reports waiting already; ask for more once they are done.",
            QUOTA,
        )


def report_enqueue(report: Report) -> bool:
    """Send the build task; on a broker failure, fail the report instead (never raise).

    The person who asked waits for this, so it gives up after ENQUEUE_TIMEOUT seconds whatever
    the broker does: refusing connections, or accepting them and never answering (a broker
    hung mid-restart kept requests waiting without end). Should a send that was given up on
    still arrive, its worker finds the report FAILED and leaves it; a retry sends it again.
    """
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"report-{report.pk}-send")
    try:
        executor.submit(_send, report.pk).result(timeout=ENQUEUE_TIMEOUT)
    except Exception:  # the wait ran out, or the transport's own error (OSError, redis, kombu)
        logger.warning("could not enqueue report %s", report.pk, exc_info=True)
        _fail_unsent(report)
        return False
    finally:
        executor.shutdown(wait=False)
    return True


def reports_enqueue(reports: list[Report]) -> None:
    """Send several build tasks; once one cannot be sent, fail the others without trying.

    A page that finds several stale reports then waits for one timeout, not one per report.
    """
    for index, report in enumerate(reports):
        if not report_enqueue(report):
            for unsent in reports[index + 1 :]:
                _fail_unsent(unsent)
            return


def _fail_unsent(report: Report) -> None:
    now = timezone.now()
    failed = Report.objects.filter(pk=report.pk, status=Report.Status.QUEUED).update(
        status=Report.Status.FAILED, error=QUEUE_UNAVAILABLE, finished_at=now
    )
    if failed:
        report.status, report.error, report.finished_at = (
            Report.Status.FAILED,
            QUEUE_UNAVAILABLE,
            now,
        )
    else:  # the message got through late and a worker has the report already
        report.refresh_from_db()


def _send(report_id: int) -> None:
    from config.celery import app
    from reviews.tasks import report_build_task  # the tasks module imports this one

    # A connection of its own with short socket timeouts, so that a send given up on does not
    # leave its thread waiting on a broker that never answers.
    with app.connection_for_write(
        connect_timeout=SEND_SOCKET_TIMEOUT, transport_options=SEND_TRANSPORT_OPTIONS
    ) as connection:
        report_build_task.apply_async(
            args=[report_id],
            queue=settings.REPORT_QUEUE,
            connection=connection,
            retry=True,
            retry_policy=PUBLISH_RETRY,
        )


@transaction.atomic
def report_retry(*, report: Report, user: AbstractBaseUser) -> Report:
    """Queue a FAILED report again, with a fresh count of attempts.

    Retrying is asking again: it takes one of the pending slots of the person who retries, and
    the report is theirs from then on (whoever may ask for it may retry it; the caller checks).
    """
    _take_pending_slot(user)  # first: the same lock order as asking
    locked = Report.objects.select_for_update().get(pk=report.pk)
    if locked.status != Report.Status.FAILED:
        raise ReportError("Only a failed report can be retried.", CONFLICT)
    locked.requested_by = user
    locked.status = Report.Status.QUEUED
    locked.error = ""
    locked.attempts = 0
    locked.started_at = None
    locked.finished_at = None
    locked.heartbeat_at = timezone.now()  # queued now: see the module's docstring
    locked.save(
        update_fields=[
            "status",
            "error",
            "attempts",
            "started_at",
            "finished_at",
            "heartbeat_at",
            "requested_by",
        ]
    )
    transaction.on_commit(lambda: report_enqueue(locked))
    return locked


# -- building ------------------------------------------------------------------------------------


def report_build(*, report_id: int, final_attempt: bool = True, worker: str = "") -> Report | None:
    """Build the report, write its file through the storage API and mark it DONE.

    Returns None when there is nothing to do: the report is gone, or another delivery of the
    task has it already. A transient error puts the report back in the queue and is raised
    again so that the task retries, unless this was the final attempt: then the report fails.
    `worker` names the Celery worker, kept on the report for whoever looks into a failure.
    """
    report = _claim(report_id, worker)
    if report is None:
        return None
    saved_name = ""
    try:
        with _heartbeat(report):
            filename, content = _render(report)
        saved_name = _save_file(report, filename, content)
        _finish(report, saved_name)
    except SoftTimeLimitExceeded:
        _delete_file(saved_name)
        minutes = max(1, round(settings.REPORT_SOFT_TIME_LIMIT / 60))
        _fail(report, f"Building the report took longer than {minutes} min and was stopped.")
    except TRANSIENT_ERRORS as exc:
        _delete_file(saved_name)
        logger.warning("report %s attempt %s: %r", report.pk, report.attempts, exc)
        if final_attempt:
            _fail(
                report,
                f"A temporary error ({type(exc).__name__}) kept coming back after "
                f"{report.attempts} attempts. Retry the report later.",
            )
        else:
            _requeue(
                report,
                f"Attempt {report.attempts} was interrupted by a temporary error "
                f"({type(exc).__name__}); trying again shortly.",
            )
            raise
    except ReportError as exc:
        _delete_file(saved_name)
        _fail(report, str(exc))
    except Exception as exc:
        _delete_file(saved_name)
        logger.exception("report %s failed", report.pk)
        _fail(
            report,
            f"An unexpected error stopped the report ({type(exc).__name__}). It has been "
            "logged; retry the report, and tell your administrator if it fails again.",
        )
    report.refresh_from_db()
    return report


def _claim(report_id: int, worker: str) -> Report | None:
    with transaction.atomic():
        report = Report.objects.select_for_update().filter(pk=report_id).first()
        if report is None:
            logger.info("report %s no longer exists", report_id)
            return None
        if report.status != Report.Status.QUEUED:
            # A second delivery of the task (acks_late): the first one has it, or it is over.
            logger.info("report %s is %s already; nothing to do", report_id, report.status)
            return None
        report.status = Report.Status.RUNNING
        report.started_at = report.heartbeat_at = timezone.now()
        report.worker = worker[:255]
        report.finished_at = None
        report.attempts += 1
        report.save(
            update_fields=[
                "status",
                "started_at",
                "heartbeat_at",
                "worker",
                "finished_at",
                "attempts",
            ]
        )
    return report


@contextmanager
def _heartbeat(report: Report) -> Iterator[None]:
    """Write the report's heartbeat from a thread while the block runs.

    Rendering is one long call, so the heartbeat cannot come from the build itself. The thread
    uses its own database connection and closes it when it ends.
    """
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(settings.REPORT_HEARTBEAT_SECONDS):
                try:
                    _current(report).update(heartbeat_at=timezone.now())
                except DatabaseError:
                    # The database is away; if it stays away the report goes stale, as it should.
                    logger.warning("report %s: could not write the heartbeat", report.pk)
        finally:
            connections.close_all()

    thread = threading.Thread(target=beat, name=f"report-{report.pk}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def _render(report: Report) -> tuple[str, bytes]:
    from reviews.reports import consolidated, rendering

    if report.kind == Report.Kind.LENS_REVIEW:
        return "pdf", rendering.lens_review_pdf(report)
    if report.format == Report.Format.JSON:
        return "json", consolidated.consolidated_json(report)
    if report.format == Report.Format.XLSX:
        return "xlsx", consolidated.consolidated_xlsx(report)
    return "pdf", rendering.consolidated_pdf(report)


def _save_file(report: Report, extension: str, content: bytes) -> str:
    # A random part keeps the file name unguessable should the media folder ever be served.
    name = f"report-{report.pk}-{secrets.token_hex(8)}.{extension}"
    report.file.save(name, ContentFile(content), save=False)
    return report.file.name


def _delete_file(name: str) -> None:
    if name:
        try:
            Report.file.field.storage.delete(name)
        except OSError:
            logger.warning("could not delete %s", name, exc_info=True)


def _current(report: Report) -> QuerySet[Report]:
    """The report, only while this build still owns it."""
    return Report.objects.filter(
        pk=report.pk, status=Report.Status.RUNNING, attempts=report.attempts
    )


def _finish(report: Report, name: str) -> None:
    updated = _current(report).update(
        status=Report.Status.DONE, file=name, error="", finished_at=timezone.now()
    )
    if not updated:
        # Given up on as stale while it ran; the build that replaced it writes its own file.
        logger.warning("report %s attempt %s finished too late", report.pk, report.attempts)
        _delete_file(name)


def _fail(report: Report, message: str) -> None:
    try:
        _current(report).update(
            status=Report.Status.FAILED, error=message, finished_at=timezone.now()
        )
    except TRANSIENT_ERRORS:
        # The database is away; the report stays RUNNING and the stale check fails it later.
        logger.warning("could not fail report %s", report.pk, exc_info=True)


def _requeue(report: Report, message: str) -> None:
    try:
        _current(report).update(
            status=Report.Status.QUEUED, started_at=None, heartbeat_at=timezone.now(), error=message
        )
    except TRANSIENT_ERRORS:
        logger.warning("could not requeue report %s", report.pk, exc_info=True)


# -- stale reports -------------------------------------------------------------------------------


def reports_recover_stale(
    *, reports: QuerySet[Report] | None = None, now: Any = None
) -> dict[str, int]:
    """Queue again, or fail, the RUNNING reports whose worker must have died, and the QUEUED
    ones whose message the broker must have lost.

    `reports` narrows the check (a report page checks its own workload's reports). Returns how
    many were queued (or sent) again and how many failed.
    """
    now = now or timezone.now()
    scope = Report.objects.all() if reports is None else reports
    cutoff = now - stale_after()
    silent = Q(status=Report.Status.RUNNING) & (
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    queued_cutoff = now - queued_stale_after()
    waiting = Q(status=Report.Status.QUEUED) & (
        Q(heartbeat_at__lt=queued_cutoff)
        | Q(heartbeat_at__isnull=True, created_at__lt=queued_cutoff)
    )
    # The cheap check first: report pages call this on every view.
    if not scope.filter(silent | waiting).exists():
        return {"requeued": 0, "failed": 0}
    counts = {"requeued": 0, "failed": 0}
    resend: list[Report] = []
    with transaction.atomic():
        # skip_locked: two pages checking at once do not wait for, or double, each other.
        running = scope.filter(silent).select_for_update(skip_locked=True).order_by("pk")
        outcomes = [(report, _recover_running(report, now)) for report in running]
        # Read after the loop above: a report it has just queued again is not waiting.
        waited = list(scope.filter(waiting).select_for_update(skip_locked=True).order_by("pk"))
        if waited:
            workers = _worker_activity(cutoff)
            outcomes += [(report, _recover_queued(report, now, workers)) for report in waited]
        for report, outcome in outcomes:
            if outcome:
                counts[outcome] += 1
            if outcome == "requeued":
                resend.append(report)
        if resend:
            transaction.on_commit(lambda: reports_enqueue(resend))
    if counts["requeued"] or counts["failed"]:
        logger.warning("stale reports: %(requeued)s queued again, %(failed)s failed", counts)
    return counts


def _recover_running(report: Report, now: Any) -> str:
    """Queue again ("requeued") or fail ("failed") a report whose worker stopped answering."""
    logger.warning(
        "report %s: attempt %s on worker %s stopped answering",
        report.pk,
        report.attempts,
        report.worker or "(unknown)",
    )
    if report.attempts < MAX_ATTEMPTS:
        report.status = Report.Status.QUEUED
        report.started_at = None
        report.heartbeat_at = now  # queued now
        report.error = (
            f"Attempt {report.attempts} stopped answering (its worker probably crashed "
            "or was stopped); the report was queued again."
        )
        report.save(update_fields=["status", "started_at", "heartbeat_at", "error"])
        return "requeued"
    report.status = Report.Status.FAILED
    report.finished_at = now
    report.error = (
        f"The report's worker stopped answering {report.attempts} times (it probably "
        "crashed or was stopped). Retry it, and tell your administrator if it fails "
        "again."
    )
    report.save(update_fields=["status", "finished_at", "error"])
    return "failed"


def _worker_activity(cutoff: Any) -> dict[str, Any]:
    """What the workers are doing: whether a build is under way (its heartbeat fresh), and when
    the newest report that a worker has started was asked for."""
    return {
        "busy": Report.objects.filter(
            status=Report.Status.RUNNING, heartbeat_at__gte=cutoff
        ).exists(),
        "newest_started": Report.objects.filter(started_at__isnull=False).aggregate(
            newest=Max("created_at")
        )["newest"],
    }


def _recover_queued(report: Report, now: Any, workers: dict[str, Any]) -> str | None:
    """Send again ("requeued") a report whose message is lost, or fail it ("failed") after
    MAX_ATTEMPTS attempts; None while it is only waiting its turn.

    A long wait alone does not show the message is lost: with many reports asked for at once
    the workers may simply not have reached it. It is lost when no build is under way (idle
    workers would have taken it), or when workers have started a report asked for after it was
    queued (they have gone past it). When no worker runs at all, it fails after a few sends,
    saying so.
    """
    queued_at = report.heartbeat_at or report.created_at
    newest = workers["newest_started"]
    if workers["busy"] and not (newest and newest > queued_at):
        return None
    report.attempts += 1
    logger.warning("report %s: no worker took attempt %s", report.pk, report.attempts)
    if report.attempts < MAX_ATTEMPTS:
        report.heartbeat_at = now
        report.error = (
            f"No worker took attempt {report.attempts} (the report queue probably lost it); "
            "the report was sent again."
        )
        report.save(update_fields=["attempts", "heartbeat_at", "error"])
        return "requeued"
    report.status = Report.Status.FAILED
    report.finished_at = now
    report.error = (
        f"No worker took attempt {report.attempts} either (the report queue lost it, or no "
        "worker is running), so the report was given up. Retry it, and tell your "
        "administrator if it fails again."
    )
    report.save(update_fields=["attempts", "status", "finished_at", "error"])
    return "failed"
