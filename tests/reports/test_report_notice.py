"""The "Report queued" notice goes once the report is done or failed, instead of staying above a
ready report.

The notice comes with the htmx answer to "Create report"; each pending row then polls its own
status, and the poll that finds it finished clears the notice out of band.
"""

import pytest
from django.urls import reverse
from django.utils import timezone

from reviews.models import Report
from tests.reports.conftest import HTMX

NOTICE = '<div id="report-notice"><p class="message message-success" role="status">Report queued.'
CLEAR = '<div id="report-notice" hx-swap-oob="true"></div>'


def finish(report: Report, status: str) -> None:
    Report.objects.filter(pk=report.pk).update(
        status=status, started_at=timezone.now(), finished_at=timezone.now(), error="It broke."
    )


def ask_for_lens_review(client, workload) -> tuple[str, Report]:
    # Inside the test's transaction the task is never sent: the report stays QUEUED.
    url = reverse("reviews:reports", args=[workload.public_id])
    response = client.post(url, {"lens": "wellarchitected", "paper": "A4"}, **HTMX)
    return response.content.decode(), Report.objects.get()


def status_url(report: Report) -> str:
    if report.kind == Report.Kind.CONSOLIDATED:
        return reverse("reviews:consolidated_report", args=[report.pk])
    return reverse("reviews:report", args=[report.workload.public_id, report.pk])


@pytest.mark.parametrize("status", [Report.Status.DONE, Report.Status.FAILED])
def test_the_poll_that_finds_the_report_finished_clears_the_queued_notice(
    client, workload, alice, status
):
    client.force_login(alice)
    body, report = ask_for_lens_review(client, workload)
    assert NOTICE in body

    pending = client.get(status_url(report), **HTMX).content.decode()
    assert "report-notice" not in pending  # still queued: the notice is still true

    finish(report, status)
    final = client.get(status_url(report), **HTMX).content.decode()

    assert CLEAR in final
    assert "Ready" in final if status == Report.Status.DONE else "Failed" in final


def test_the_consolidated_reports_notice_is_cleared_the_same_way(client, workload, alice):
    client.force_login(alice)
    response = client.post(reverse("reviews:consolidated_reports"), {"format": "PDF"}, **HTMX)
    assert NOTICE in response.content.decode()
    report = Report.objects.get()

    finish(report, Report.Status.DONE)

    assert CLEAR in client.get(status_url(report), **HTMX).content.decode()


def test_pages_keep_a_place_for_the_notice_and_no_stray_copy_of_the_clearing(
    client, workload, alice
):
    client.force_login(alice)
    _, report = ask_for_lens_review(client, workload)
    finish(report, Report.Status.DONE)

    for url in (reverse("reviews:reports", args=[workload.public_id]), status_url(report)):
        body = client.get(url).content.decode()
        # The poll's out-of-band swap needs its target on every page that polls a row.
        assert body.count('id="report-notice"') == 1, url
        assert "hx-swap-oob" not in body, url
