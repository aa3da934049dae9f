"""Pillar priorities are set by moving pillars up and down, with or without JavaScript."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from reviews.models import Workload
from tests.browser.conftest import PASSWORD

pytestmark = pytest.mark.browser

LENS_ORDER = [
    "Operational Excellence",
    "Security",
    "Reliability",
    "Performance Efficiency",
    "Cost Optimization",
    "Sustainability",
]


def shown_order(page) -> list[str]:
    return page.locator(".pillar-order .pillar-name").all_inner_texts()


def join_without_javascript(workshop, user):
    """Like workshop.join, in a browser context that runs no JavaScript (so no htmx)."""
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    context = workshop.browser.new_context(base_url=workshop.base_url, java_script_enabled=False)
    workshop.contexts.append(context)
    page = context.new_page()
    page.goto(reverse("login"))
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    return page


@pytest.mark.parametrize("javascript", [True, False])
def test_an_owner_moves_a_pillar_up_twice_and_saves_the_order(
    workshop, workload, alice, javascript
):
    page = workshop.join(alice) if javascript else join_without_javascript(workshop, alice)
    page.goto(reverse("reviews:workload_edit", args=[workload.public_id]))
    page.get_by_label("Name", exact=True).fill("Payments API v2")
    assert shown_order(page) == LENS_ORDER

    page.get_by_role("button", name="Move up Reliability").click()
    expect(page.locator(".pillar-order li").nth(1)).to_contain_text("Reliability")
    page.get_by_role("button", name="Move up Reliability").click()

    expect(page.locator(".pillar-order li").first).to_contain_text("Reliability")
    assert shown_order(page)[:3] == ["Reliability", "Operational Excellence", "Security"]
    expect(page.get_by_label("Name", exact=True)).to_have_value("Payments API v2")
    assert Workload.objects.get(pk=workload.pk).pillar_priorities[0] == "operationalExcellence"
    if javascript:
        # The focus stays on the pillar just moved (it is first now, so on its "Move down").
        expect(page.get_by_role("button", name="Move down Reliability")).to_be_focused()

    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Payments API v2")
    saved = Workload.objects.get(pk=workload.pk)
    assert saved.pillar_priorities[:3] == ["reliability", "operationalExcellence", "security"]
    expect(page.locator(".priorities li").first).to_have_text("Reliability")
    assert not workshop.errors, workshop.errors


def test_enter_in_a_text_box_saves_the_form_and_moves_no_pillar(workshop, workload, alice):
    page = workshop.join(alice, reverse("reviews:workload_edit", args=[workload.public_id]))

    page.get_by_label("Name", exact=True).fill("Payments API v3")
    page.get_by_label("Name", exact=True).press("Enter")

    expect(page.get_by_role("heading", level=1)).to_contain_text("Payments API v3")
    saved = Workload.objects.get(pk=workload.pk)
    assert saved.pillar_priorities[0] == "operationalExcellence"
    assert not workshop.errors, workshop.errors
