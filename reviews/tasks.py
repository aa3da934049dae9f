"""Celery tasks: each takes ids and calls a service (reviews.reports.services)."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_process_init, worker_ready
from django.conf import settings

from reviews.reports.services import TRANSIENT_ERRORS, report_build, reports_recover_stale

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    name="reviews.report_build",
    # Late acknowledgement: a worker that dies mid-build leaves the message to be delivered again.
    acks_late=True,
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=3,
    retry_backoff=5,  # 5 s, 10 s, 20 s, with jitter
    retry_backoff_max=120,
    retry_jitter=True,
    soft_time_limit=settings.REPORT_SOFT_TIME_LIMIT,
    time_limit=settings.REPORT_TIME_LIMIT,
)
def report_build_task(self, report_id: int) -> None:
    # On the last try a transient error fails the report instead of queueing it again.
    report_build(
        report_id=report_id,
        final_attempt=self.request.retries >= self.max_retries,
        worker=self.request.hostname or "",
    )


@shared_task(name="reviews.reports_recover_stale", ignore_result=True)
def reports_recover_stale_task() -> dict[str, int]:
    return reports_recover_stale()


@worker_ready.connect
def recover_stale_reports_on_start(**kwargs) -> None:
    """A worker starting (again) is a good moment to pick up reports a dead worker left behind."""
    try:
        reports_recover_stale()
    except Exception:  # the worker must start even if the database is not there yet
        logger.warning("could not check for stale reports", exc_info=True)


@worker_process_init.connect
def warm_up_pdf_rendering(**kwargs) -> None:
    """Load WeasyPrint's stylesheets and fonts when a worker process starts, not in a report."""
    try:
        from reviews.reports.rendering import render_pdf_string

        render_pdf_string("<p>Archlens</p>")
    except Exception:  # a report will say what is wrong; the worker must start regardless
        logger.warning("could not warm up PDF rendering", exc_info=True)
