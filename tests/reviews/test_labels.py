"""What people read names each value in words: no stored code (BUSINESS_PRIORITIES) on a page,
in a CSV or in a PDF report."""

import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from lenses.models import Lens
from reviews.improvements import ItemChange, improvement_item_update
from reviews.milestones import milestone_create
from reviews.models import Answer, ImprovementItem, Reason, Report
from reviews.reports.rendering import lens_review_context
from reviews.services import answer_applicability_update, answer_choice_update

LENS = "wellarchitected"
# Every stored code that is not also an ordinary word.
CODES = re.compile(
    r"\b(BUSINESS_PRIORITIES|OUT_OF_SCOPE|ARCHITECTURE_CONSTRAINTS|NOT_APPLICABLE|NOT_STARTED"
    r"|IN_PROGRESS|RISK_ACKNOWLEDGED|UNANSWERED|UNSELECTED|SELECTED|READONLY|CONTRIBUTOR"
    r"|PREPRODUCTION|PRODUCTION|MEDIUM|HIGH|COMPLETE|OTHER|OWNER|NONE)\b"
)


def answer_of(workload, question_id) -> Answer:
    return Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload, question__question_id=question_id
    )


def visible(html: str) -> str:
    """The text a reader sees: no tags (so no attribute values such as CSS classes)."""
    html = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def reasons(workload, alice):
    """sec1: a choice ruled out for business priorities; rel1: the question does not apply."""
    answer_choice_update(
        answer=answer_of(workload, "sec1"),
        choice_id="sec1_bp2",
        status="NOT_APPLICABLE",
        reason=Reason.BUSINESS_PRIORITIES,
        user=alice,
    )
    answer_choice_update(
        answer=answer_of(workload, "sec1"), choice_id="sec1_bp1", status="SELECTED", user=alice
    )
    answer_applicability_update(
        answer=answer_of(workload, "rel1"),
        is_applicable=False,
        reason=Reason.ARCHITECTURE_CONSTRAINTS,
        user=alice,
    )
    item = ImprovementItem.objects.get(answer__question__question_id="sec1")
    improvement_item_update(
        item=item,
        change=ItemChange("RISK_ACKNOWLEDGED", alice.pk, None, "Accepted"),
        user=alice,
    )
    milestone_create(workload=workload, name="Baseline", user=alice)
    return workload


def test_a_choice_ruled_out_shows_its_reason_in_words_on_the_question_page(client, carol, reasons):
    client.force_login(carol)
    url = reverse("reviews:question", args=[reasons.public_id, LENS, "sec1"])

    text = visible(client.get(url).content.decode())

    assert "Does not apply Business priorities" in text
    assert "BUSINESS_PRIORITIES" not in text


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("reviews:workload_detail", {}),
        ("reviews:overview", {"alias": LENS}),
        ("reviews:pillar", {"alias": LENS, "pillar_id": "security"}),
        ("reviews:question", {"alias": LENS, "question_id": "sec1"}),
        ("reviews:question", {"alias": LENS, "question_id": "rel1"}),
        ("reviews:improvement_plan", {"alias": LENS}),
        ("reviews:milestones", {}),
        ("reviews:milestone_overview", {"number": 1, "alias": LENS}),
        ("reviews:milestone_question", {"number": 1, "alias": LENS, "question_id": "sec1"}),
        ("reviews:milestone_question", {"number": 1, "alias": LENS, "question_id": "rel1"}),
        ("reviews:milestone_improvements", {"number": 1, "alias": LENS}),
        ("reviews:sharing", {}),
        ("reviews:compare", {}),
        ("reviews:reports", {}),
        ("reviews:answers_csv", {"alias": LENS}),
        ("reviews:improvement_csv", {"alias": LENS}),
    ],
)
def test_no_page_or_csv_of_a_review_shows_a_stored_code(client, alice, reasons, name, kwargs):
    client.force_login(alice)

    response = client.get(reverse(name, kwargs={"public_id": reasons.public_id, **kwargs}))

    assert response.status_code == 200
    body = response.content.decode()
    text = body if name.endswith("_csv") else visible(body)
    assert CODES.findall(text) == []


@pytest.mark.parametrize("name", ["reviews:workload_list", "reviews:dashboard", "lenses:catalogue"])
def test_no_list_page_shows_a_stored_code(client, alice, reasons, name):
    client.force_login(alice)

    response = client.get(reverse(name))

    assert response.status_code == 200
    assert CODES.findall(visible(response.content.decode())) == []


def test_the_frozen_tick_boxes_say_their_state_in_words(client, alice, reasons):
    client.force_login(alice)
    url = reverse(
        "reviews:milestone_question",
        kwargs={"public_id": reasons.public_id, "number": 1, "alias": LENS, "question_id": "sec1"},
    )

    body = client.get(url).content.decode()

    labels = set(re.findall(r'aria-label="([^"]*)"', body))
    assert {"Selected", "Not applicable", "Unselected"} <= labels
    assert not {"selected", "not_applicable", "unselected"} & labels


def test_the_lens_review_report_shows_no_stored_code(reasons, alice):
    report = Report(
        kind=Report.Kind.LENS_REVIEW,
        workload=reasons,
        lens=Lens.objects.get(alias=LENS),
        requested_by=alice,
    )

    html = render_to_string("reports/pdf/lens_review.html", lens_review_context(report))

    text = visible(html)
    assert "business priorities" in text.lower() and "Architecture constraints" in text
    assert CODES.findall(text) == []
