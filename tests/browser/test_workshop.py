"""The workshop screen in a real browser: answering, live updates, conflicts and keys."""

import re
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, Response, expect

from lenses.models import Choice
from reviews.models import Answer, AnswerEvent, ChoiceAnswer, Role, WorkloadMember
from reviews.views.answers import poll_token

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/archlens-shots")
LENS = "wellarchitected"
# Other people's changes reach an open page by polling every 2 s.
LIVE = 5_000
# What is already on the page (a poll has been swapped in, a link followed) needs no long wait.
SETTLED = 1_000


def question_url(workload, question_id: str) -> str:
    return reverse("reviews:question", args=[workload.public_id, LENS, question_id])


def choices_of(question_id: str) -> list[Choice]:
    return list(
        Choice.objects.filter(
            question__question_id=question_id, question__lens_version__lens__alias=LENS
        ).order_by("order")
    )


def answer_of(workload, question_id: str) -> Answer:
    return Answer.objects.get(lens_review__workload=workload, question__question_id=question_id)


def live_token(workload, question_id: str, user) -> str:
    """The poll token `user`'s page of the question shows once it has caught up."""
    answer = Answer.objects.select_related("lens_review__workload").get(
        lens_review__workload=workload, question__question_id=question_id
    )
    answer.lens_review.workload.role = WorkloadMember.objects.get(workload=workload, user=user).role
    return poll_token(answer)


def selected(workload, question_id: str) -> set[str]:
    return set(
        ChoiceAnswer.objects.filter(
            answer=answer_of(workload, question_id), status=ChoiceAnswer.Status.SELECTED
        ).values_list("choice__choice_id", flat=True)
    )


def is_choice_post(response: Response) -> bool:
    return response.request.method == "POST" and "/choices/" in response.url


def is_notes_post(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/notes/")


def box(page: Page, choice: Choice):
    return page.get_by_role("checkbox", name=choice.title, exact=True)


def tick(page: Page, choice: Choice) -> None:
    """Click a choice's box and wait for the server's answer to it."""
    with page.expect_response(is_choice_post) as response:
        box(page, choice).click()
    assert response.value.status == 200


def notes_box(page: Page):
    # Not by its label: that reads "Question notes", but only "Notes" after a conflict.
    card = page.locator("section").filter(has=page.get_by_role("heading", name="Notes", exact=True))
    return card.get_by_role("textbox")


def mark_page(page: Page) -> None:
    """Mark the loaded document; `still_marked` then tells whether it was reloaded since."""
    page.evaluate("window.notReloaded = true")


def still_marked(page: Page) -> bool:
    return page.evaluate("window.notReloaded === true")


def test_a_facilitator_creates_a_workload_shares_it_and_answers_two_pillars(
    workshop, builtin_lens, alice, bob
):
    page = workshop.join(alice)

    page.get_by_role("link", name="New workload").click()
    page.get_by_label("Name", exact=True).fill("Checkout service")
    page.get_by_label("Description", exact=True).fill("Takes orders and payments for the shop.")
    page.get_by_label("Environment", exact=True).select_option(label="Production")
    page.get_by_label("Review owner", exact=True).fill("Alice Archer")
    page.get_by_role("button", name="Create workload").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Checkout service")

    page.get_by_role("link", name="Sharing", exact=True).click()
    share = page.locator("section").filter(
        has=page.get_by_role("heading", name="Share with someone")
    )
    share.get_by_label("Username or email").fill("bob")
    share.get_by_label("Role").select_option(label="Contributor")
    share.get_by_role("button", name="Share").click()
    expect(page.locator("#members")).to_contain_text("bob now has contributor access.")
    expect(page.locator(f"#member-{bob.pk}")).to_contain_text("Contributor")
    membership = WorkloadMember.objects.get(workload__name="Checkout service", user=bob)
    assert membership.role == Role.CONTRIBUTOR
    workload = membership.workload

    page.get_by_role("link", name="Checkout service", exact=True).click()
    page.get_by_role("link", name="Well-Architected Framework", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Well-Architected Framework")
    security = choices_of("sec1")
    page.get_by_role("link", name=security[0].question.title).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(security[0].question.title)
    mark_page(page)

    tick(page, security[-1])  # None of these

    expect(page.locator("#question-risk")).to_have_text("High risk")
    expect(page.locator(".risk-line")).to_contain_text(
        "Security: 1 of 7 answered, 1 high, 0 medium"
    )
    nav_security = page.locator(".nav-pillar").filter(
        has=page.get_by_role("link", name="Security", exact=True)
    )
    expect(nav_security.locator(".nav-counts")).to_have_text("1/7 · 1 high")
    assert still_marked(page)

    # For a person to look at: the screen as the workshop sees it on a laptop and a projector.
    SHOTS.mkdir(parents=True, exist_ok=True)
    laptop = page.viewport_size
    page.mouse.wheel(0, -10_000)
    page.screenshot(path=SHOTS / "question-1280x800.png")
    page.screenshot(path=SHOTS / "question-1280-full.png", full_page=True)
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.screenshot(path=SHOTS / "question-1920x1080.png")
    page.set_viewport_size(laptop)

    reliability = choices_of("rel1")
    page.get_by_role("link", name=reliability[0].question.title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(reliability[0].question.title)
    mark_page(page)
    for choice in reliability:
        if not choice.is_none:
            tick(page, choice)

    expect(page.locator("#question-risk")).to_have_text("No risk")
    expect(page.locator(".risk-line")).to_contain_text(
        "Reliability: 1 of 7 answered, 0 high, 0 medium"
    )
    assert still_marked(page)
    assert answer_of(workload, "sec1").risk == "HIGH"
    assert answer_of(workload, "rel1").risk == "NONE"

    page.get_by_role("link", name="Overview", exact=True).click()
    total = Answer.objects.filter(lens_review__workload=workload).count()
    totals = page.locator(".totals")
    expect(totals).to_contain_text(f"2/{total} questions answered")
    expect(totals).to_contain_text("1 high risks")
    expect(totals).to_contain_text("0 medium risks")
    security_row = page.locator("tr").filter(has=page.get_by_role("link", name="Security"))
    expect(security_row).to_contain_text("1 / 7")
    expect(security_row).to_contain_text("1 high")
    reliability_row = page.locator("tr").filter(has=page.get_by_role("link", name="Reliability"))
    expect(reliability_row.locator("td").last).to_have_text("1")  # the No risk column
    expect(page.locator(f"#question-{security[0].question.pk} .badge")).to_have_text("High risk")
    expect(page.locator(f"#question-{reliability[0].question.pk} .badge")).to_have_text("No risk")

    assert not workshop.errors, workshop.errors


def test_a_contributor_sees_the_facilitators_tick_without_reloading_and_the_other_way_round(
    workshop, workload, alice, bob
):
    url = question_url(workload, "sec2")
    alice_page = workshop.join(alice, url)
    bob_page = workshop.join(bob, url)
    mark_page(alice_page)
    mark_page(bob_page)
    first, second = choices_of("sec2")[:2]

    tick(alice_page, first)

    expect(box(bob_page, first)).to_be_checked(timeout=LIVE)
    expect(bob_page.locator("#question-risk")).to_have_text("High risk", timeout=LIVE)

    tick(bob_page, second)

    expect(box(alice_page, second)).to_be_checked(timeout=LIVE)
    expect(box(alice_page, first)).to_be_checked()
    assert still_marked(alice_page)
    assert still_marked(bob_page)
    assert selected(workload, "sec2") == {first.choice_id, second.choice_id}
    assert not workshop.errors, workshop.errors


# Both pages run in one browser on one machine, so their clocks agree.
CLICK_AT = "([id, at]) => setTimeout(() => document.getElementById(id).click(), at - Date.now())"


def click_together(*clicks: tuple[Page, Choice]) -> None:
    """Click each page's box at one agreed instant, and wait for every answer."""
    at = clicks[0][0].evaluate("Date.now()") + 300
    with ExitStack() as waits:
        responses = [
            waits.enter_context(page.expect_response(is_choice_post)) for page, _ in clicks
        ]
        for page, choice in clicks:
            page.evaluate(CLICK_AT, [box(page, choice).get_attribute("id"), at])
    assert [response.value.status for response in responses] == [200] * len(clicks)


def history_entries(page: Page):
    return page.locator("#history-events > li:not(.events-empty)")


def test_two_people_ticking_different_choices_at_the_same_moment_both_keep_their_tick(
    workshop, workload, alice, bob
):
    url = question_url(workload, "rel1")
    alice_page = workshop.join(alice, url)
    bob_page = workshop.join(bob, url)
    alices, bobs = choices_of("rel1")[:2]

    click_together((alice_page, alices), (bob_page, bobs))

    for page in (alice_page, bob_page):
        expect(box(page, alices)).to_be_checked(timeout=LIVE)
        expect(box(page, bobs)).to_be_checked(timeout=LIVE)
        expect(page.locator("#question-risk")).to_have_text("Medium risk", timeout=LIVE)
        expect(history_entries(page)).to_have_count(2, timeout=LIVE)  # each change once
    answer = answer_of(workload, "rel1")
    assert selected(workload, "rel1") == {alices.choice_id, bobs.choice_id}
    assert answer.version == 2
    events = AnswerEvent.objects.filter(answer=answer)
    assert sorted(events.values_list("user__username", flat=True)) == ["alice", "bob"]

    click_together((alice_page, alices), (bob_page, bobs))

    for page in (alice_page, bob_page):
        expect(box(page, alices)).not_to_be_checked(timeout=LIVE)
        expect(box(page, bobs)).not_to_be_checked(timeout=LIVE)
        expect(page.locator("#question-risk")).to_have_text("Unanswered", timeout=LIVE)
        expect(history_entries(page)).to_have_count(4, timeout=LIVE)
    assert selected(workload, "rel1") == set()
    assert answer_of(workload, "rel1").version == 4
    assert not workshop.errors, workshop.errors


def test_a_notes_conflict_shows_both_texts_and_loses_nothing(workshop, workload, alice, bob):
    url = question_url(workload, "ops1")
    alice_page = workshop.join(alice, url)
    bob_page = workshop.join(bob, url)
    alices_text = "Priorities are set by the product board every quarter."
    bobs_text = "Ask the team who decides the priorities."
    bob_notes = notes_box(bob_page)
    alice_notes = notes_box(alice_page)

    bob_notes.fill(bobs_text)  # Bob is still typing: the box keeps the focus
    alice_notes.fill(alices_text)
    with alice_page.expect_response(is_notes_post):
        alice_page.get_by_role("button", name="Save notes").click()
    expect(alice_page.get_by_role("status").filter(has_text="Saved")).to_be_visible()

    # Bob's page polls and learns of Alice's change, but his editor is left alone.
    expect(bob_page.locator("#question-poll")).to_have_attribute(
        "data-version", live_token(workload, "ops1", bob), timeout=LIVE
    )
    expect(bob_notes).to_have_value(bobs_text)

    with bob_page.expect_response(is_notes_post):
        bob_page.get_by_role("button", name="Save notes").click()

    conflict = bob_page.get_by_role("alert")
    expect(conflict).to_contain_text("alice changed these notes while you were editing.")
    expect(conflict.locator(".theirs")).to_have_text(alices_text)
    expect(bob_notes).to_have_value(bobs_text)
    assert answer_of(workload, "ops1").notes == alices_text

    with bob_page.expect_response(is_notes_post):
        bob_page.get_by_role("button", name="Use their version").click()

    expect(bob_notes).to_have_value(alices_text)
    expect(bob_page.get_by_role("alert")).to_have_count(0)
    assert answer_of(workload, "ops1").notes == alices_text
    expect(alice_notes).to_have_value(alices_text)
    assert not workshop.errors, workshop.errors


def test_number_keys_tick_choices_and_arrow_keys_change_question(workshop, workload, alice):
    page = workshop.join(alice, question_url(workload, "sec1"))
    second = choices_of("sec1")[1]

    with page.expect_response(is_choice_post):
        page.keyboard.press("2")

    expect(box(page, second)).to_be_checked()
    assert selected(workload, "sec1") == {second.choice_id}

    page.keyboard.press("ArrowRight")

    expect(page).to_have_url(re.compile(re.escape(question_url(workload, "sec2")) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(choices_of("sec2")[0].question.title)
    assert not workshop.errors, workshop.errors


def test_keys_still_work_after_ticking_a_choice_with_the_mouse(workshop, workload, alice):
    page = workshop.join(alice, question_url(workload, "sec1"))
    tick(page, choices_of("sec1")[0])

    page.keyboard.press("ArrowRight")

    expect(page).to_have_url(
        re.compile(re.escape(question_url(workload, "sec2")) + "$"), timeout=SETTLED
    )
    assert not workshop.errors, workshop.errors


def test_a_notes_conflict_survives_other_changes_in_the_review(workshop, workload, alice, bob):
    url = question_url(workload, "ops1")
    alice_page = workshop.join(alice, url)
    bob_page = workshop.join(bob, url)
    bobs_text = "Ask the team who decides the priorities."
    notes_box(bob_page).fill(bobs_text)
    notes_box(alice_page).fill("Priorities are set by the product board every quarter.")
    with alice_page.expect_response(is_notes_post):
        alice_page.get_by_role("button", name="Save notes").click()
    with bob_page.expect_response(is_notes_post):
        bob_page.get_by_role("button", name="Save notes").click()
    expect(bob_page.get_by_role("alert")).to_be_visible()

    # Bob reads the two versions; meanwhile Alice answers the next question, which changes its
    # risk in Bob's sidebar.
    alice_page.goto(question_url(workload, "ops2"))
    tick(alice_page, choices_of("ops2")[0])
    expect(bob_page.locator("#question-poll")).to_have_attribute(
        "data-version", live_token(workload, "ops1", bob), timeout=LIVE
    )

    expect(bob_page.get_by_role("alert")).to_be_visible(timeout=SETTLED)
    expect(notes_box(bob_page)).to_have_value(bobs_text, timeout=SETTLED)
    assert not workshop.errors, workshop.errors


class HeldBack:
    """A page's requests matching `pattern`, kept from the server until released in turn."""

    def __init__(self, page: Page, pattern: re.Pattern) -> None:
        self.page = page
        self.routes: list = []
        self.holding = True
        page.route(pattern, self._route)

    def _route(self, route) -> None:
        if self.holding:
            self.routes.append(route)
        else:
            route.continue_()

    def wait_for(self, count: int) -> None:
        for _ in range(100):
            if len(self.routes) >= count:
                return
            self.page.wait_for_timeout(50)
        raise AssertionError(f"{len(self.routes)} requests held, not {count}")

    def release(self, index: int) -> None:
        """Send a held request to the server now and hand its answer to the page."""
        self.holding = False
        route = self.routes[index]
        route.fulfill(response=route.fetch())


def test_a_tick_answered_just_after_a_poll_stays_on_screen(workshop, workload, alice, bob):
    url = question_url(workload, "sec1")
    alice_page = workshop.join(alice, url)
    bob_page = workshop.join(bob, url)
    alices, bobs = choices_of("sec1")[:2]
    held = HeldBack(alice_page, re.compile(r"/(poll|choices)/"))
    held.wait_for(1)  # Alice's next poll
    tick(bob_page, bobs)

    box(alice_page, alices).click()
    held.wait_for(2)  # her tick
    held.release(0)  # the poll is answered (her tick has made the page drop it)...
    held.release(1)  # ...and her tick's answer, with both ticks, comes after it

    expect(box(alice_page, alices)).to_be_checked(timeout=SETTLED)
    expect(box(alice_page, bobs)).to_be_checked(timeout=SETTLED)
    assert selected(workload, "sec1") == {alices.choice_id, bobs.choice_id}
    assert not workshop.errors, workshop.errors  # htmx:oobErrorNoTarget, were it lost
