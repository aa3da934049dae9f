"""A real Celery worker builds a report end to end; the PDF is read back with pypdf.

The broker is Redis when CELERY_BROKER_URL says so (CI), else the filesystem broker in a
temporary folder. The worker consumes a queue of its own, so a worker of another test run or
of `make run` on the same broker cannot take the task. Real commits (transactional database):
the task is sent when the request's transaction commits, and the worker thread must see the row.
"""

import shutil
import socket
import subprocess
import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun

from config.celery import app
from lenses.models import Pillar
from reviews.models import Report
from reviews.reports.services import report_request, reports_recover_stale
from tests.reports.conftest import NOTE, answer_everything, pdf_text, point_celery_at, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_builds_the_report_and_the_pdf_reads_back(
    broker, worker_connections, workload, alice, builtin_lens
):
    answer_everything(workload, alice)

    with start_worker(app, queues=[broker], perform_ping_check=False, shutdown_timeout=30):
        # Sent to the broker when this transaction commits, as in a web request.
        report = report_request(
            user=alice, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=builtin_lens.lens
        )
        done = wait_for(report)

    assert done.status == Report.Status.DONE, done.error
    assert done.attempts == 1
    with done.file.open("rb") as file:
        text = pdf_text(file.read())
    assert "Payments API" in text
    for pillar in Pillar.objects.filter(lens_version=builtin_lens):
        assert pillar.name in text
    assert f"{NOTE} Question rel1." in text


def purge(queue: str) -> int:
    """Drop every message of the queue, as a broker restarted without persistence does."""
    with app.connection_for_write() as connection:
        return connection.default_channel.queue_purge(queue) or 0


@pytest.fixture
def deliveries():
    """The report ids of the build tasks a worker has run, in order."""
    seen = []

    def record(sender=None, args=None, **kwargs):
        if sender is not None and sender.name == "reviews.report_build":
            seen.append(args[0])

    task_postrun.connect(record, weak=False, dispatch_uid="test-worker-deliveries")
    yield seen
    task_postrun.disconnect(dispatch_uid="test-worker-deliveries")


def test_a_report_whose_message_the_broker_lost_is_sent_again_and_built(
    broker, worker_connections, workload, alice, builtin_lens, settings
):
    settings.REPORT_QUEUED_STALE_SECONDS = 1
    report = report_request(
        user=alice, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=builtin_lens.lens
    )
    assert purge(broker) == 1
    time.sleep(1.2)

    assert reports_recover_stale() == {"requeued": 1, "failed": 0}
    with start_worker(app, queues=[broker], perform_ping_check=False, shutdown_timeout=30):
        done = wait_for(report)

    assert done.status == Report.Status.DONE, done.error
    # The lost send was attempt 1; the build, attempt 2.
    assert done.attempts == 2


def test_a_message_that_was_only_late_and_its_resend_build_the_report_once(
    broker, worker_connections, deliveries, workload, alice, builtin_lens, settings, media_root
):
    settings.REPORT_QUEUED_STALE_SECONDS = 1
    report = report_request(
        user=alice, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=builtin_lens.lens
    )
    time.sleep(1.2)
    # No worker is running: the message looks lost, but it is still in the queue.
    assert reports_recover_stale() == {"requeued": 1, "failed": 0}

    with start_worker(app, queues=[broker], perform_ping_check=False, shutdown_timeout=30):
        done = wait_for(report)
        deadline = time.monotonic() + 30
        while len(deliveries) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)

    assert deliveries == [report.pk, report.pk]
    assert done.status == Report.Status.DONE, done.error
    assert done.attempts == 2
    assert [path.name for path in media_root.rglob("*.pdf")] == [done.file.name.split("/")[-1]]


class RedisOfOurOwn:
    """A Redis server without persistence on a free port, which the test may restart."""

    def __init__(self, binary: str, folder) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.command = [binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        self.command += ["--save", "", "--appendonly", "no", "--dir", str(folder)]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as client:
                    client.sendall(b"PING\r\n")
                    if client.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path, monkeypatch, settings):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    redis = RedisOfOurOwn(binary, tmp_path)
    redis.start()
    point_celery_at(monkeypatch, app, redis.url, {"socket_connect_timeout": 2})
    monkeypatch.setitem(app.conf, "worker_hijack_root_logger", False)
    settings.REPORT_QUEUE = f"archlens-test-{uuid.uuid4().hex[:12]}"
    yield redis
    redis.stop()


def test_reports_a_restarted_redis_lost_are_built_once_it_is_back(
    own_redis, worker_connections, workload, alice, builtin_lens, settings
):
    """The field test: reports asked for, then Redis restarted (no persistence) before a
    worker took them."""
    settings.REPORT_QUEUED_STALE_SECONDS = 1
    reports = [
        report_request(
            user=alice, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=builtin_lens.lens
        )
        for _ in range(2)
    ]
    own_redis.stop()
    own_redis.start()
    time.sleep(1.2)

    assert reports_recover_stale() == {"requeued": 2, "failed": 0}
    with start_worker(app, queues=[settings.REPORT_QUEUE], perform_ping_check=False):
        done = [wait_for(report) for report in reports]

    assert [(r.status, r.attempts) for r in done] == [(Report.Status.DONE, 2)] * 2, [
        r.error for r in done
    ]
