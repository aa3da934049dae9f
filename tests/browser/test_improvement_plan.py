"""The improvement plan in a real browser: a row edited in place, and one change for many rows."""

import datetime

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from reviews.models import ImprovementItem, ImprovementStatus
from tests.reviews.test_improvement_plan import answer, item_of

pytestmark = pytest.mark.browser

QUESTIONS = ["ops1", "ops2", "ops3", "sec1", "sec2", "sec3", "rel1", "rel2", "rel3", "perf1"]


@pytest.fixture
def plan(workshop, workload, alice, bob):
    with workshop.server_lock:
        for question_id in QUESTIONS:
            answer(workload, alice, question_id, f"{question_id}_no")
        bob.first_name, bob.last_name = "Maximiliane", "von Wolkenstein-Rodenegg"
        bob.save()
    return reverse("reviews:improvement_plan", args=[workload.public_id, "wellarchitected"])


def row(page, workload, question_id):
    return page.locator(f"#item-{item_of(workload, question_id).pk}")


def test_a_row_is_edited_in_place_and_saved_back_into_the_table(workshop, workload, bob, plan):
    with workshop.server_lock:
        ImprovementItem.objects.filter(pk=item_of(workload, "sec1").pk).update(
            due_date=datetime.date(2020, 1, 31)
        )
    page = workshop.join(bob, plan)
    expect(page.locator("#plan-summary")).to_contain_text("1 overdue")
    sec1 = row(page, workload, "sec1")

    sec1.get_by_role("link", name="Edit").click()
    expect(sec1.locator("form.item-form")).to_be_visible()
    assert page.url.endswith(plan)  # swapped in place, no page load
    sec1.get_by_label("Status").select_option("RISK_ACKNOWLEDGED")
    sec1.get_by_role("button", name="Save").click()
    expect(sec1.get_by_role("alert")).to_contain_text("“Risk acknowledged” needs a reason")

    sec1.get_by_label("Comment").fill("Retired in March.")
    sec1.get_by_label("Assignee").select_option(label="Maximiliane von Wolkenstein-Rodenegg (bob)")
    sec1.get_by_role("button", name="Save").click()

    expect(sec1.locator("form")).to_have_count(0)
    expect(sec1).to_contain_text("Risk acknowledged")
    expect(sec1).to_contain_text("Maximiliane von Wolkenstein-Rodenegg (bob)")
    expect(sec1).to_contain_text("Saved.")
    # The summary above the table follows (swapped out of band with the row).
    expect(page.locator("#plan-summary")).to_contain_text("0 overdue")
    expect(page.locator("#plan-summary")).to_have_count(1)
    item = item_of(workload, "sec1")
    assert (item.status, item.assignee, item.comment) == (
        ImprovementStatus.RISK_ACKNOWLEDGED,
        bob,
        "Retired in March.",
    )

    # Cancel puts the row back as it was.
    rel1 = row(page, workload, "rel1")
    rel1.get_by_role("link", name="Edit").click()
    rel1.get_by_label("Status").select_option("COMPLETE")
    rel1.get_by_role("link", name="Cancel").click()
    expect(rel1.locator("form")).to_have_count(0)
    expect(rel1).to_contain_text("Not started")

    # Complete while still risky: said in the row and above the table.
    rel1.get_by_role("link", name="Edit").click()
    rel1.get_by_label("Status").select_option("COMPLETE")
    rel1.get_by_role("button", name="Save").click()
    expect(rel1).to_contain_text("Still high risk: the answers do not show the improvement yet.")
    expect(page.locator("#plan-notices")).to_contain_text("is marked complete but is still high")
    assert workshop.errors == []


def test_ticked_rows_change_together_or_not_at_all(workshop, workload, alice, carol, plan):
    page = workshop.join(alice, plan)
    ticked = ["ops1", "ops2", "sec1"]
    for question_id in ticked:
        row(page, workload, question_id).get_by_role("checkbox").check()
    bulk = page.locator("#bulk-form")

    bulk.get_by_label("Status").select_option("RISK_ACKNOWLEDGED")
    bulk.get_by_role("button", name="Apply to ticked items").click()
    expect(page.locator("#plan-notices")).to_contain_text("Nothing was changed.")
    assert set(ImprovementItem.objects.values_list("status", flat=True)) == {"NOT_STARTED"}
    # The ticks survive the refusal.
    for question_id in ticked:
        expect(row(page, workload, question_id).get_by_role("checkbox")).to_be_checked()

    bulk = page.locator("#bulk-form")
    bulk.get_by_label("Status").select_option("IN_PROGRESS")
    bulk.get_by_label("Assignee").select_option(label="carol")
    bulk.get_by_label("Due date").fill("2030-06-30")
    bulk.get_by_role("button", name="Apply to ticked items").click()

    expect(page.locator("#plan-notices")).to_contain_text("Changed 3 items.")
    for question_id in ticked:
        expect(row(page, workload, question_id)).to_contain_text("In progress")
        expect(row(page, workload, question_id)).to_contain_text("30 Jun 2030")
        item = item_of(workload, question_id)
        assert (item.status, item.assignee) == (ImprovementStatus.IN_PROGRESS, carol)
    expect(row(page, workload, "rel1")).to_contain_text("Not started")
    assert item_of(workload, "rel1").assignee is None

    # "Tick every item shown" ticks the rows of the filtered table, and only those.
    page.get_by_label("Risk", exact=True).select_option("HIGH")
    page.get_by_label("Pillar").select_option("security")
    expect(page.locator("table.plan-table tbody tr")).to_have_count(3)
    page.get_by_label("Tick every item shown").check()
    expect(page.locator("input[name=items]:checked")).to_have_count(3)
    page.locator("#bulk-form").get_by_label("Status").select_option("COMPLETE")
    page.get_by_role("button", name="Apply to ticked items").click()
    expect(page.locator("#plan-notices")).to_contain_text("Changed 3 items.")
    completed = ImprovementItem.objects.filter(status=ImprovementStatus.COMPLETE)
    assert sorted(completed.values_list("answer__question__question_id", flat=True)) == [
        "sec1",
        "sec2",
        "sec3",
    ]
    assert workshop.errors == []


def test_read_only_members_see_the_table_without_controls(workshop, workload, carol, plan):
    page = workshop.join(carol, plan)

    expect(page.locator("table.plan-table tbody tr")).to_have_count(len(QUESTIONS))
    # No checkbox to pick items (the filters' "Prioritised only" is for readers too).
    expect(page.locator("table.plan-table").get_by_role("checkbox")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.locator("#bulk-form")).to_have_count(0)
    assert workshop.errors == []
