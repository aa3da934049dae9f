"""Propagation in a real Celery worker, and ticks that land while a propagation runs.

Real commits (transactional database): the worker and the propagating thread have their own
connections and must see the rows.
"""

import threading
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection, connections, transaction

from config.celery import app
from review_templates.models import Propagation
from review_templates.services import propagation_request, propagation_run, template_apply
from reviews.services import answer_choice_update
from tests.reports.conftest import broker, worker_connections  # noqa: F401  (fixtures)
from tests.review_templates.test_template_services import (
    another_workload,
    answer_of,
    set_answer,
    template,  # noqa: F401  (fixture)
    ticked,
)

pytestmark = pytest.mark.django_db(transaction=True)


def wait_done(propagation: Propagation, seconds: float = 60) -> Propagation:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        propagation.refresh_from_db()
        if not propagation.is_running:
            return propagation
        time.sleep(0.2)
    raise AssertionError(f"propagation still {propagation.status} after {seconds} s")


def test_a_worker_propagates_and_reports_progress(
    broker,  # noqa: F811
    worker_connections,  # noqa: F811
    template,  # noqa: F811
    workload,
    alice,
):
    set_answer(template, "sec1", alice, "sec1_bp1")
    other = another_workload(alice)
    for target in (workload, other):
        template_apply(template=template, workload=target, user=alice)
    set_answer(template, "sec1", alice, "sec1_bp1", "sec1_bp2")

    with start_worker(app, queues=[broker], perform_ping_check=False, shutdown_timeout=30):
        # Sent to the broker when this transaction commits, as in a web request.
        propagation = propagation_request(template=template, user=alice)
        done = wait_done(propagation)

    assert done.status == Propagation.Status.DONE, done.error
    assert (done.workload_done, done.workload_total, done.updated_count) == (2, 2, 2)
    assert done.heartbeat_at is not None and done.finished_at is not None
    for target in (workload, other):
        assert ticked(answer_of(target, "sec1")) == {"sec1_bp1", "sec1_bp2"}


def waiting_for_a_row_lock() -> bool:
    with connection.cursor() as cursor:
        # Inside a transaction PostgreSQL keeps one snapshot of the activity view unless told.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


def test_a_tick_during_a_propagation_is_kept_and_listed_as_changed_locally(
    template,  # noqa: F811
    workload,
    alice,
    bob,
):
    if connection.vendor != "postgresql":
        pytest.skip("row locks that make one transaction wait need PostgreSQL")
    set_answer(template, "sec1", alice, "sec1_bp1")
    template_apply(template=template, workload=workload, user=alice)
    set_answer(template, "sec1", alice, "sec1_bp1", "sec1_bp2")
    propagation = Propagation.objects.create(template=template, requested_by=alice)
    outcome = {}

    def propagate():
        try:
            outcome["done"] = propagation_run(propagation_id=propagation.pk)
        finally:
            connections.close_all()

    worker = threading.Thread(target=propagate)
    with transaction.atomic():
        answer = answer_of(workload, "sec1")
        answer = (
            type(answer)
            .objects.select_for_update()
            .select_related("question", "lens_review")
            .get(pk=answer.pk)
        )
        worker.start()
        deadline = time.monotonic() + 20
        while not waiting_for_a_row_lock():
            assert time.monotonic() < deadline, "the propagation never reached the answer's row"
            time.sleep(0.05)
        # Bob ticks while the propagation waits for the row.
        answer_choice_update(answer=answer, choice_id="sec1_bp3", status="SELECTED", user=bob)
    worker.join(30)

    done = outcome["done"]
    assert done.status == Propagation.Status.DONE
    assert ticked(answer_of(workload, "sec1")) == {"sec1_bp1", "sec1_bp3"}
    assert [row["question"] for row in done.changed_locally] == ["sec1"]
    assert done.updated_count == 0


def test_a_tick_after_a_propagation_lands_on_its_answer_and_the_next_one_leaves_it(
    template,  # noqa: F811
    workload,
    alice,
    bob,
):
    set_answer(template, "sec1", alice, "sec1_bp1")
    template_apply(template=template, workload=workload, user=alice)
    set_answer(template, "sec1", alice, "sec1_bp2")
    propagation_run(propagation_id=Propagation.objects.create(template=template).pk)
    answer_choice_update(
        answer=answer_of(workload, "sec1"), choice_id="sec1_bp3", status="SELECTED", user=bob
    )
    set_answer(template, "sec1", alice, "sec1_bp4")

    done = propagation_run(propagation_id=Propagation.objects.create(template=template).pk)

    assert ticked(answer_of(workload, "sec1")) == {"sec1_bp2", "sec1_bp3"}
    assert [row["question"] for row in done.changed_locally] == ["sec1"]
