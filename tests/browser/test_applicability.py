"""Marking a question as not applying, with its reason, in a real browser."""

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, Response, expect

from reviews.models import Answer
from reviews.services import answer_choice_update

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots-answers")
LENS = "wellarchitected"
LIVE = 5_000  # other people's changes reach an open page by polling every 2 s
PAUSE = 1_000  # a person picking a reason, then reaching for the box


def answer_of(workload, question_id: str) -> Answer:
    return Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload, question__question_id=question_id
    )


def is_applicability_post(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/applicability/")


def open_question(workshop, user, workload, question_id: str) -> tuple[Page, list[str]]:
    """The question page as `user`, and the list of applicability posts it sends."""
    url = reverse("reviews:question", args=[workload.public_id, LENS, question_id])
    page = workshop.join(user, url)
    posts: list[str] = []
    page.on(
        "request",
        lambda r: (
            posts.append(r.url)
            if r.method == "POST" and r.url.endswith("/applicability/")
            else None
        ),
    )
    return page, posts


def reason(page: Page, answer: Answer):
    return page.locator(f"#reason-{answer.pk}")


def does_not_apply(page: Page):
    return page.get_by_role("checkbox", name="This question does not apply to this workload")


def tick_does_not_apply(page: Page) -> None:
    with page.expect_response(is_applicability_post) as response:
        does_not_apply(page).click()
    assert response.value.status == 200


def test_the_reason_picked_before_ticking_does_not_apply_is_the_one_stored_and_shown(
    workshop, workload, bob
):
    answer = answer_of(workload, "sec1")
    page, posts = open_question(workshop, bob, workload, "sec1")

    reason(page, answer).select_option(label="Business priorities")
    page.wait_for_timeout(PAUSE)
    expect(reason(page, answer)).to_have_value("BUSINESS_PRIORITIES")
    assert posts == []  # while the question applies, a reason alone changes nothing
    tick_does_not_apply(page)

    stored = answer_of(workload, "sec1")
    assert (stored.is_applicable, stored.reason) == (False, "BUSINESS_PRIORITIES")
    expect(does_not_apply(page)).to_be_checked()
    expect(reason(page, answer)).to_have_value("BUSINESS_PRIORITIES")
    expect(page.locator("#question-risk")).to_have_text("Not applicable")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "not-applicable-business-priorities-1280.png")

    page.reload()
    expect(does_not_apply(page)).to_be_checked()
    expect(reason(page, answer)).to_have_value("BUSINESS_PRIORITIES")
    assert not workshop.errors, workshop.errors


def test_a_reason_picked_before_ticking_survives_a_live_update_from_someone_else(
    workshop, workload, alice, bob
):
    answer = answer_of(workload, "sec1")
    page, _ = open_question(workshop, bob, workload, "sec1")
    reason(page, answer).select_option(label="Architecture constraints")

    # Alice's tick moves a risk in the sidebar: Bob's page swaps in its live region.
    with workshop.server_lock:
        answer_choice_update(
            answer=answer_of(workload, "sec2"), choice_id="sec2_no", status="SELECTED", user=alice
        )
    sidebar_sec2 = page.locator(".review-nav li").filter(
        has_text=answer_of(workload, "sec2").question.title
    )
    expect(sidebar_sec2.locator(".dot")).to_have_class("dot risk-HIGH", timeout=LIVE)

    expect(reason(page, answer)).to_have_value("ARCHITECTURE_CONSTRAINTS")
    tick_does_not_apply(page)
    stored = answer_of(workload, "sec1")
    assert (stored.is_applicable, stored.reason) == (False, "ARCHITECTURE_CONSTRAINTS")
    assert not workshop.errors, workshop.errors


def test_changing_the_reason_of_a_question_that_does_not_apply_saves_it(workshop, workload, bob):
    answer = answer_of(workload, "sec1")
    page, _ = open_question(workshop, bob, workload, "sec1")
    tick_does_not_apply(page)  # with the first reason offered
    assert answer_of(workload, "sec1").reason == "OUT_OF_SCOPE"
    # The response swaps in the select of a question that does not apply (it saves on change);
    # picking before htmx has settled the swap would pick where no one listens yet.
    expect(page.locator(f"#reason-{answer.pk}:not([data-reason-pick])")).to_be_enabled()
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )

    with page.expect_response(is_applicability_post):
        reason(page, answer).select_option(label="Other")

    expect(reason(page, answer)).to_have_value("OTHER")
    assert answer_of(workload, "sec1").reason == "OTHER"

    tick_does_not_apply(page)  # it applies again
    stored = answer_of(workload, "sec1")
    assert (stored.is_applicable, stored.reason, stored.risk) == (True, "NONE", "UNANSWERED")
    assert not workshop.errors, workshop.errors
