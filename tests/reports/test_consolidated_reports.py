"""Consolidated report pages: only the person who asked sees, downloads or retries a report."""

from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from reviews.models import Report
from reviews.reports.services import report_request
from reviews.tasks import report_build_task
from tests.reports.conftest import HTMX

LIST = reverse("reviews:consolidated_reports")


@pytest.fixture
def sent():
    with mock.patch.object(report_build_task, "apply_async") as apply_async:
        yield apply_async


@pytest.fixture
def mine(alice) -> Report:
    return report_request(
        user=alice, kind=Report.Kind.CONSOLIDATED, format=Report.Format.JSON, filters={}
    )


def url(name, report):
    return reverse(f"reviews:{name}", args=[report.pk])


def test_it_lists_only_my_reports(client, mine, bob, alice):
    theirs = report_request(user=bob, kind=Report.Kind.CONSOLIDATED)
    client.force_login(alice)

    response = client.get(LIST)

    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="report-{mine.pk}"' in body
    assert f'id="report-{theirs.pk}"' not in body


def test_it_requires_login(client):
    response = client.get(LIST)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_rejects_other_methods(client, alice):
    client.force_login(alice)

    assert client.put(LIST).status_code == 405


def test_asking_stores_the_filters(
    client, workload, alice, sent, django_capture_on_commit_callbacks
):
    client.force_login(alice)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            LIST,
            {"format": "PDF", "environment": "PRODUCTION", "tag": " team ", "owner": "alice"},
        )

    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.kind, report.format, report.requested_by) == ("CONSOLIDATED", "PDF", alice)
    assert report.workload is None
    assert report.filters == {
        "environment": "PRODUCTION",
        "tag": "team",
        "owner": "alice",
        "paper": "A4",
    }
    sent.assert_called_once()


def test_the_form_offers_the_dashboard_filters_from_the_query_string(client, workload, alice):
    client.force_login(alice)

    body = client.get(LIST + "?environment=PREPRODUCTION&tag=team").content.decode()

    assert '<option value="PREPRODUCTION" selected>' in body
    assert 'value="team"' in body
    assert '<option value="alice">alice</option>' in body


def test_an_owner_i_cannot_see_is_refused(client, workload, alice, mallory):
    client.force_login(alice)

    response = client.post(LIST, {"format": "PDF", "owner": "mallory"}, **HTMX)

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Report.objects.exists()


def test_asking_with_htmx_returns_the_list_partial(client, alice, sent):
    client.force_login(alice)

    response = client.post(LIST, {"format": "JSON"}, **HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="reports">')
    assert "Consolidated JSON" in body


def test_others_cannot_see_download_or_retry_my_report(client, mine, bob, admin_user):
    mine.file.save("c.json", ContentFile(b"{}"), save=False)
    mine.status = Report.Status.DONE
    mine.save()
    for user in (bob, admin_user):
        client.force_login(user)
        assert client.get(url("consolidated_report", mine)).status_code == 404
        assert client.get(url("consolidated_download", mine)).status_code == 404
        assert client.post(url("consolidated_retry", mine)).status_code == 404


def test_i_download_my_report(client, mine, alice):
    mine.file.save("c.json", ContentFile(b'{"totals": {}}'), save=False)
    mine.status = Report.Status.DONE
    mine.finished_at = timezone.now()
    mine.save()
    client.force_login(alice)

    response = client.get(url("consolidated_download", mine))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert b"".join(response.streaming_content) == b'{"totals": {}}'
    assert "archlens-consolidated-" in response["Content-Disposition"]


def test_the_status_polls_while_pending(client, mine, alice):
    client.force_login(alice)

    row = client.get(url("consolidated_report", mine), **HTMX).content.decode()
    page = client.get(url("consolidated_report", mine)).content.decode()

    assert row.lstrip().startswith(f'<tr id="report-{mine.pk}"')
    assert 'hx-trigger="every 2s"' in row
    assert "<html" in page


def test_i_retry_my_failed_report(client, mine, alice, sent, django_capture_on_commit_callbacks):
    Report.objects.filter(pk=mine.pk).update(status=Report.Status.FAILED, error="Boom.")
    client.force_login(alice)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("consolidated_retry", mine), **HTMX)

    assert response.status_code == 200
    assert 'hx-trigger="every 2s"' in response.content.decode()
    sent.assert_called_once()


def test_the_detail_urls_require_login_and_the_right_method(client, mine, alice):
    assert client.get(url("consolidated_report", mine)).status_code == 302
    client.force_login(alice)
    assert client.post(url("consolidated_report", mine)).status_code == 405
    assert client.post(url("consolidated_download", mine)).status_code == 405
    assert client.get(url("consolidated_retry", mine)).status_code == 405


def test_the_dashboards_question_filter_is_carried_along(client, workload, alice, sent):
    client.force_login(alice)

    page = client.get(LIST + "?question=wellarchitected:sec1").content.decode()
    assert 'type="hidden" name="question" value="wellarchitected:sec1"' in page

    client.post(LIST, {"format": "JSON", "question": "wellarchitected:sec1"})
    assert Report.objects.get().filters == {"question": "wellarchitected:sec1", "paper": "A4"}
