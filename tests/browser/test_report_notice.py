"""In a real browser: "Report queued" goes away when the report is ready, instead of staying
above the row that says "Ready"."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from config.celery import app
from reviews.models import Report
from tests.conftest import folder_broker_options
from tests.reports.conftest import point_celery_at

pytestmark = pytest.mark.browser

# Rows poll every 2 s.
LIVE = 5_000


@pytest.fixture
def private_queue(tmp_path, monkeypatch):
    """The report's task goes to a folder of this test's own, where no worker takes it."""
    point_celery_at(monkeypatch, app, "filesystem://", folder_broker_options(tmp_path))


def test_the_queued_notice_goes_when_the_report_is_ready(workshop, workload, carol, private_queue):
    page = workshop.join(carol, f"/workloads/{workload.public_id}/reports/")

    page.get_by_role("button", name="Create PDF report").click()
    notice = page.get_by_text("Report queued")
    expect(notice).to_be_visible()
    report = Report.objects.get()
    row = page.locator(f"#report-{report.pk}")
    expect(row).to_contain_text("Queued")

    with workshop.server_lock:  # what the worker does at the end of a build
        Report.objects.filter(pk=report.pk).update(
            status=Report.Status.DONE, started_at=timezone.now(), finished_at=timezone.now()
        )

    expect(row).to_contain_text("Ready", timeout=LIVE)
    expect(notice).to_have_count(0)
    assert workshop.errors == []
