import pytest

from reviews.errors import CONFLICT, INVALID, QUOTA
from reviews.models import Report
from reviews.reports.services import (
    MAX_PENDING_PER_USER,
    ReportError,
    report_request,
    report_retry,
)


def ask(user, workload, lens, **extra) -> Report:
    return report_request(
        user=user, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=lens, **extra
    )


def test_a_report_over_the_pending_limit_is_a_quota_error(workload, lens, alice):
    for _ in range(MAX_PENDING_PER_USER):
        ask(alice, workload, lens)

    with pytest.raises(ReportError, match="waiting already") as caught:
        ask(alice, workload, lens)

    assert caught.value.kind == QUOTA


def test_retrying_a_report_that_did_not_fail_is_a_conflict(workload, lens, alice):
    with pytest.raises(ReportError, match="Only a failed report") as caught:
        report_retry(report=ask(alice, workload, lens), user=alice)

    assert caught.value.kind == CONFLICT


def test_an_unknown_paper_size_is_invalid(workload, lens, alice):
    with pytest.raises(ReportError, match="Paper") as caught:
        ask(alice, workload, lens, filters={"paper": "A0"})

    assert caught.value.kind == INVALID
