import base64
import io
import time

import pytest
from botocore.exceptions import ClientError
from pypdf import PdfReader

from reviews import access
from reviews.milestones import milestone_create
from reviews.models import LensReview, Report, Workload
from reviews.services import answer_update, workload_create

pytestmark = pytest.mark.django_db(transaction=True)

LENS = "wellarchitected"
# A bound on building the report in the request (measured at about 1.5 s for the built-in lens
# fully answered on a developer machine; CI machines shared by many are slower).
REPORT_SECONDS = 20


def _answer_everything(workload, user):
    review = LensReview.objects.get(workload=workload, lens__alias=LENS)
    for index, answer in enumerate(review.answers.select_related("question").order_by("pk")):
        answer = access.answer_for(user, workload.public_id, LENS, answer.question.question_id)
        choices = list(answer.question.choices.order_by("order"))
        practices = [c.choice_id for c in choices if not c.is_none]
        # A spread of risks: every third question follows no practice at all.
        picked = practices[: 1 + index % len(practices)] if index % 3 else []
        none = [c.choice_id for c in choices if c.is_none]
        answer_update(
            answer=answer, user=user, selected_choices=picked or none, notes=f"Note {index}"
        )


def _pdf_text(encoded: str) -> str:
    pdf = base64.b64decode(encoded)
    assert pdf.startswith(b"%PDF")
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_lens_review_report_of_a_fully_answered_review_comes_back_as_a_pdf(wa, workload, alice):
    _answer_everything(workload, alice)
    started = time.perf_counter()
    answer = wa(alice).get_lens_review_report(WorkloadId=workload.public_id, LensAlias=LENS)
    elapsed = time.perf_counter() - started
    report = answer["LensReviewReport"]
    assert (report["LensAlias"], answer["WorkloadId"]) == (LENS, workload.public_id)
    assert "Payments API" in _pdf_text(report["Base64String"])
    assert elapsed < REPORT_SECONDS, f"the report took {elapsed:.1f} s"
    print(f"GetLensReviewReport, built-in lens fully answered: {elapsed:.2f} s")
    # Built in the request: nothing queued, nothing stored.
    assert not Report.objects.exists()


def test_the_report_of_a_milestone_and_of_a_lens_it_did_not_review(wa, workload, alice):
    milestone = milestone_create(workload=workload, name="Baseline", user=alice)
    client = wa(alice)
    answer = client.get_lens_review_report(
        WorkloadId=workload.public_id, LensAlias=LENS, MilestoneNumber=milestone.number
    )
    assert answer["MilestoneNumber"] == milestone.number
    assert "Baseline" in _pdf_text(answer["LensReviewReport"]["Base64String"])
    with pytest.raises(ClientError) as raised:
        client.get_lens_review_report(WorkloadId=workload.public_id, LensAlias="other-lens")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_the_report_of_a_workload_not_shared_is_not_found(wa, workload, mallory):
    with pytest.raises(ClientError) as raised:
        wa(mallory).get_lens_review_report(WorkloadId=workload.public_id, LensAlias=LENS)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_read_only_member_reads_the_report(wa, workload, carol):
    answer = wa(carol).get_lens_review_report(WorkloadId=workload.public_id, LensAlias=LENS)
    assert answer["LensReviewReport"]["Base64String"]


@pytest.fixture
def portfolio(workload, alice, bob):
    """Alice's workload shared with Bob, and three of Bob's own."""
    own = [
        workload_create(
            owner=bob,
            name=f"Bob service {n}",
            description="One of Bob's.",
            environment=Workload.Environment.PREPRODUCTION,
            review_owner="Bob",
        )
        for n in range(3)
    ]
    return own


def test_the_consolidated_report_has_metrics_per_workload_page_by_page(
    wa, portfolio, bob, workload
):
    client = wa(bob)
    seen, token = [], None
    while True:
        page = client.get_consolidated_report(
            Format="JSON",
            IncludeSharedResources=True,
            MaxResults=2,
            **({"NextToken": token} if token else {}),
        )
        seen += page["Metrics"]
        token = page.get("NextToken")
        if not token:
            break
    ids = [metric["WorkloadId"] for metric in seen]
    assert sorted(ids) == sorted([w.public_id for w in portfolio] + [workload.public_id])
    assert len(set(ids)) == len(ids)
    metric = seen[0]
    assert metric["MetricType"] == "WORKLOAD"
    assert metric["RiskCounts"]["UNANSWERED"] > 0
    [lens] = metric["Lenses"]
    assert lens["LensArn"].endswith(f"lens/{LENS}")
    assert {p["PillarId"] for p in lens["Pillars"]} >= {"security", "reliability"}
    assert metric["LensesAppliedCount"] == 1

    own = client.get_consolidated_report(Format="JSON")["Metrics"]
    assert sorted(m["WorkloadId"] for m in own) == sorted(w.public_id for w in portfolio)


def test_the_consolidated_report_as_a_pdf(wa, workload, alice):
    answer = wa(alice).get_consolidated_report(Format="PDF")
    assert "Payments API" in _pdf_text(answer["Base64String"])


def test_consolidated_report_limits_are_enforced(signed, workload, alice):
    too_many = signed(
        alice, "GET", ["consolidatedReport"], query={"Format": "JSON", "MaxResults": 16}
    )
    assert (too_many.status, too_many.body["Fields"][0]["Name"]) == (400, "MaxResults")
    no_format = signed(alice, "GET", ["consolidatedReport"])
    assert (no_format.status, no_format.body["Fields"][0]["Name"]) == (400, "Format")
    other = signed(alice, "GET", ["consolidatedReport"], query={"Format": "CSV"})
    assert other.status == 400


def test_a_second_report_while_one_is_being_built_is_throttled(signed, workload, alice):
    from django.core.cache import cache

    cache.add(f"archlens-api-render:{alice.pk}", "GetLensReviewReport", timeout=60)
    try:
        path = ["workloads", workload.public_id, "lensReviews", LENS, "report"]
        busy = signed(alice, "GET", path)
        assert (busy.status, busy.error_type) == (429, "ThrottlingException")
        pdf = signed(alice, "GET", ["consolidatedReport"], query={"Format": "PDF"})
        assert pdf.status == 429
    finally:
        cache.delete(f"archlens-api-render:{alice.pk}")
    assert signed(alice, "GET", path).status == 200
