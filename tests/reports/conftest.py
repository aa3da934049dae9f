import io
import os
import time
import uuid

import pytest
from celery.signals import task_postrun, task_prerun
from django.db import connections
from PIL import Image
from pypdf import PdfReader

from config.celery import app
from lenses.models import Lens
from reviews.models import Answer, ChoiceAnswer, Reason, Report
from reviews.reports.services import report_request
from reviews.services import (
    answer_applicability_update,
    answer_choice_update,
    answer_notes_update,
)
from tests.conftest import folder_broker_options

NOTE = "Checked with the platform team on 12 March."
HTMX = {"HTTP_HX_REQUEST": "true"}


def answers_of(workload) -> list[Answer]:
    return list(
        Answer.objects.select_related("question", "lens_review")
        .filter(lens_review__workload=workload)
        .order_by("question__pillar__order", "question__order")
    )


def answer_everything(workload, user, *, note: str = NOTE) -> None:
    """Answer every question of the workload, with notes, giving a mix of risks.

    Every fourth question: "None of these" (high risk); every fourth plus one: all best
    practices (no risk); the others: the first two (usually medium risk). The first question
    does not apply, and the second marks a best practice as not applying.
    """
    for index, answer in enumerate(answers_of(workload)):
        choices = list(answer.question.choices.order_by("order"))
        practices = [c for c in choices if not c.is_none]
        if index == 0:
            answer_applicability_update(
                answer=answer, is_applicable=False, reason=Reason.OUT_OF_SCOPE, user=user
            )
        elif index % 4 == 0:
            none = next(c for c in choices if c.is_none)
            answer_choice_update(
                answer=answer, choice_id=none.choice_id, status="SELECTED", user=user
            )
        else:
            chosen = practices if index % 4 == 1 else practices[:2]
            for choice in chosen:
                answer_choice_update(
                    answer=answer, choice_id=choice.choice_id, status="SELECTED", user=user
                )
            if index == 1:
                answer_choice_update(
                    answer=answer,
                    choice_id=practices[-1].choice_id,
                    status=ChoiceAnswer.Status.NOT_APPLICABLE,
                    reason=Reason.ARCHITECTURE_CONSTRAINTS,
                    notes="No second region in this contract.",
                    user=user,
                )
        answer.refresh_from_db()
        answer_notes_update(
            answer=answer,
            notes=f"{note} Question {answer.question.question_id}.",
            base_version=answer.notes_version,
            user=user,
        )


def point_celery_at(monkeypatch, app, url: str, transport_options: dict | None = None) -> None:
    """Send (and consume) through another broker for one test.

    The app caches its connection and producer pools, and kombu keeps pools per URL for the
    whole process, so the caches are reset (and restored by monkeypatch) rather than closed.
    """
    # Celery reads CELERY_BROKER_URL from the environment before its configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    monkeypatch.setitem(app.conf, "broker_url", url)
    if transport_options is not None:
        monkeypatch.setitem(app.conf, "broker_transport_options", transport_options)
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Report files and logos go to a folder of their own, not var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def lens(builtin_lens) -> Lens:
    return builtin_lens.lens


@pytest.fixture
def report(workload, lens, alice) -> Report:
    """A queued lens review report of the current state (its task not sent: no commit)."""
    return report_request(user=alice, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=lens)


def pdf_text(data: bytes) -> str:
    """All the text of a PDF, pages joined by newlines."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def image_bytes(image_format: str = "PNG", size: tuple[int, int] = (120, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#2457c5").save(buffer, image_format)
    return buffer.getvalue()


# -- a real Celery worker (tests/reports/test_worker.py) -----------------------------------------

WAIT_SECONDS = 180


@pytest.fixture
def broker(tmp_path, monkeypatch, settings):
    """The app pointed at the broker of this run, and a queue nobody else consumes."""
    url = os.environ.get("CELERY_BROKER_URL", "")
    if url:
        point_celery_at(monkeypatch, app, url)
    else:
        point_celery_at(monkeypatch, app, "filesystem://", folder_broker_options(tmp_path))
    # The worker must not take over the test run's logging.
    monkeypatch.setitem(app.conf, "worker_hijack_root_logger", False)
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=3)
    except Exception as exc:  # each transport raises its own errors
        pytest.skip(f"no Celery broker at {app.conf.broker_url} ({exc}); start Redis or unset it")
    settings.REPORT_QUEUE = f"archlens-test-{uuid.uuid4().hex[:12]}"
    return settings.REPORT_QUEUE


@pytest.fixture
def worker_connections():
    """Database connections for the worker thread.

    An in-memory SQLite test database exists only in this process's connection: the worker
    thread borrows it (as Django's live server does). PostgreSQL needs nothing: the worker
    opens its own connection, closed after each task so the test database can be dropped.
    """
    main = connections["default"]
    shared = main.vendor == "sqlite" and main.is_in_memory_db()

    def borrow(**kwargs):
        if shared:
            connections["default"] = main

    def give_back(**kwargs):
        if not shared:
            connections.close_all()

    if shared:
        main.inc_thread_sharing()
    task_prerun.connect(borrow, weak=False, dispatch_uid="test-worker-borrow")
    task_postrun.connect(give_back, weak=False, dispatch_uid="test-worker-give-back")
    yield
    task_prerun.disconnect(dispatch_uid="test-worker-borrow")
    task_postrun.disconnect(dispatch_uid="test-worker-give-back")
    if shared:
        main.dec_thread_sharing()


def wait_for(report: Report) -> Report:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        report.refresh_from_db()
        if report.status in (Report.Status.DONE, Report.Status.FAILED):
            return report
        time.sleep(0.5)
    raise AssertionError(
        f"report still {report.status} after {WAIT_SECONDS} s "
        f"(attempts {report.attempts}, error {report.error!r})"
    )
