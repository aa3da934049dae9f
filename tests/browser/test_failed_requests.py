"""A request the server could not complete is said out loud and never leaves a false tick."""

from unittest import mock

from django.db import OperationalError
from playwright.sync_api import expect

from tests.browser.test_workshop import (
    box,
    choices_of,
    is_choice_post,
    question_url,
    selected,
    tick,
)

OUTAGE = OperationalError("connection to server at 127.0.0.1 failed: Connection refused")


def expected_only(errors: list[str], status: int) -> bool:
    """The browser and htmx log a failed request as console errors: only those may appear."""
    logged = (f"status of {status}", f"Response Status Error Code {status}")
    return all(any(text in error for text in logged) for error in errors)


def test_a_tick_the_server_could_not_save_is_undone_and_said_out_loud(workshop, workload, alice):
    page = workshop.join(alice, question_url(workload, "sec2"))
    first, second = choices_of("sec2")[:2]
    problem = page.locator("#request-problem")

    with mock.patch("reviews.views.answers.answer_choice_update", side_effect=OUTAGE):
        with page.expect_response(is_choice_post) as answer:
            box(page, first).click()
        assert answer.value.status == 503
        expect(problem).to_contain_text("may not have been saved")
        expect(box(page, first)).not_to_be_checked()
        assert selected(workload, "sec2") == set()
        # The next poll asks for the whole region, whatever version the page holds.
        with page.expect_response(lambda r: "/poll/" in r.url and "v=resync" in r.url) as poll:
            pass
        assert poll.value.status == 200

    expect(problem).to_be_visible()  # until a save succeeds, however many polls pass
    tick(page, second)
    expect(problem).to_be_hidden()
    expect(box(page, second)).to_be_checked()
    expect(box(page, first)).not_to_be_checked()
    assert selected(workload, "sec2") == {second.choice_id}
    assert expected_only(workshop.errors, 503), "\n".join(workshop.errors)


def test_a_lost_connection_is_shown_while_polls_fail_and_cleared_when_they_work(
    workshop, workload, alice
):
    page = workshop.join(alice, question_url(workload, "sec2"))
    problem = page.locator("#request-problem")

    # The poll's first lookup (answer_versions_for) is where the database fails.
    with mock.patch("reviews.views.answers.answer_versions_for", side_effect=OUTAGE):
        expect(problem).to_contain_text("Connection lost", timeout=8_000)

    expect(problem).to_be_hidden(timeout=8_000)
    assert expected_only(workshop.errors, 503), "\n".join(workshop.errors)
