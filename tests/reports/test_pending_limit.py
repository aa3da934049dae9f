"""The limit of reports one person may have waiting holds for retries and for requests at once.

The simultaneous requests run in threads, each with its own PostgreSQL connection, and really
commit: the build tasks go to the broker of this run, on a queue of their own that nobody
consumes, emptied afterwards.
"""

import threading
import uuid

import pytest
from django.db import connection, connections
from django.utils import timezone

from config.celery import app
from reviews.models import Report
from reviews.reports.services import (
    MAX_PENDING_PER_USER,
    PENDING,
    ReportError,
    report_request,
    report_retry,
)

SIMULTANEOUS = 24


def ask(user, workload, lens) -> Report:
    return report_request(user=user, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=lens)


def failed(report: Report) -> Report:
    Report.objects.filter(pk=report.pk).update(
        status=Report.Status.FAILED, error="The template broke.", finished_at=timezone.now()
    )
    report.refresh_from_db()
    return report


def pending(user) -> int:
    return Report.objects.filter(requested_by=user, status__in=PENDING).count()


# -- retrying ------------------------------------------------------------------------------------


def test_retrying_over_the_limit_is_refused_with_a_message(workload, lens, alice):
    broken = failed(ask(alice, workload, lens))
    for _ in range(MAX_PENDING_PER_USER):
        ask(alice, workload, lens)

    with pytest.raises(ReportError, match="5 reports waiting already"):
        report_retry(report=broken, user=alice)

    broken.refresh_from_db()
    assert broken.status == Report.Status.FAILED
    assert pending(alice) == MAX_PENDING_PER_USER


def test_a_retry_counts_against_the_limit_of_whoever_retries(workload, lens, alice, carol):
    """Carol (read-only) may ask for reports, so she may retry one; it is then hers."""
    broken = failed(ask(alice, workload, lens))

    retried = report_retry(report=broken, user=carol)

    assert (retried.status, retried.requested_by) == (Report.Status.QUEUED, carol)
    assert (pending(alice), pending(carol)) == (0, 1)
    for _ in range(MAX_PENDING_PER_USER - 1):
        ask(carol, workload, lens)
    with pytest.raises(ReportError, match="waiting already"):
        report_retry(report=failed(ask(alice, workload, lens)), user=carol)


# -- at the same moment (PostgreSQL) -------------------------------------------------------------


@pytest.fixture
def throwaway_queue(settings):
    """Build tasks go to a queue nobody consumes; it is emptied afterwards."""
    settings.REPORT_QUEUE = f"archlens-test-{uuid.uuid4().hex[:12]}"
    yield settings.REPORT_QUEUE
    try:
        with app.connection_for_write() as broker:
            broker.default_channel.queue_purge(settings.REPORT_QUEUE)
    except Exception:  # each transport raises its own errors; an unreachable broker kept nothing
        pass


def run_together(calls) -> list:
    """Start every call at the same moment, each in its own thread and database connection;
    return what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except Exception as exc:  # kept: a thread's exception would be lost otherwise
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite serialises writes; row locks are PostgreSQL's"
)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_simultaneous_requests_leave_at_most_five_waiting(workload, lens, alice, throwaway_queue):
    outcomes = run_together([lambda: ask(alice, workload, lens)] * SIMULTANEOUS)

    asked = [o for o in outcomes if isinstance(o, Report)]
    refused = [o for o in outcomes if isinstance(o, ReportError)]
    assert len(asked) == MAX_PENDING_PER_USER, outcomes
    assert len(refused) == SIMULTANEOUS - MAX_PENDING_PER_USER, outcomes
    assert pending(alice) == MAX_PENDING_PER_USER


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_simultaneous_retries_leave_at_most_five_waiting(workload, lens, alice, throwaway_queue):
    broken = [failed(ask(alice, workload, lens)) for _ in range(SIMULTANEOUS)]

    outcomes = run_together(
        [lambda report=report: report_retry(report=report, user=alice) for report in broken]
    )

    assert sum(isinstance(o, Report) for o in outcomes) == MAX_PENDING_PER_USER, outcomes
    assert sum(isinstance(o, ReportError) for o in outcomes) == SIMULTANEOUS - 5, outcomes
    assert pending(alice) == MAX_PENDING_PER_USER
