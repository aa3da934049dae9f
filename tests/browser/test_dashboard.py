"""The dashboard in a real browser: pillars grouped by lens, and the lens picker."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from lenses.services import lens_import, lens_version_publish
from reviews.models import Answer, AnswerRisk
from reviews.services import workload_add_lens
from tests.browser.conftest import PASSWORD
from tests.factories import answers_set_risk, lens_bytes, lens_document

pytestmark = pytest.mark.browser

WIDTHS = (390, 768, 1280)


@pytest.fixture
def security_lens(workload, alice):
    """Payments API also reviews a lens with a "security" pillar, one question high risk."""
    document = lens_document(name="Cloud Security Lens", pillars=2, questions=2)
    document["pillars"][0].update(id="security", name="security")
    version = lens_import(raw=lens_bytes(document), user=alice)
    lens = lens_version_publish(lens_version=version, version="1.0").lens
    workload_add_lens(workload=workload, lens=lens)
    answers_set_risk(
        Answer.objects.filter(lens_review__lens=lens, question__question_id="p1_q1"),
        AnswerRisk.HIGH,
    )
    answers_set_risk(
        Answer.objects.filter(
            lens_review__workload=workload,
            question__question_id="sec1",
            lens_review__lens__is_builtin=True,
        ),
        AnswerRisk.HIGH,
    )
    return lens


def lens_headings(page: Page):
    return page.locator("#pillar-chart .lens-group-name")


def test_the_lens_picker_swaps_in_one_lens_without_reloading(workshop, alice, security_lens):
    page = workshop.join(alice, reverse("reviews:dashboard"))
    expect(lens_headings(page)).to_have_text(["Well-Architected Framework", "Cloud Security Lens"])
    page.evaluate("window.notReloaded = true")

    page.get_by_label("Lens", exact=True).select_option(label="Cloud Security Lens")

    expect(lens_headings(page)).to_have_text(["Cloud Security Lens"])
    expect(page.locator("#workloads th.lens-col")).to_have_text("Cloud Security Lens")
    assert page.evaluate("window.notReloaded === true")
    assert f"lens={security_lens.alias}" in page.url
    page.get_by_label("Lens", exact=True).select_option(label="All lenses")
    expect(lens_headings(page)).to_have_count(2)
    assert workshop.errors == []


@pytest.mark.parametrize("width", WIDTHS)
def test_each_lens_is_headed_and_the_picker_fits_at_every_width(
    workshop, alice, security_lens, width
):
    page = workshop.join(alice, reverse("reviews:dashboard"))

    page.set_viewport_size({"width": width, "height": 900})

    picker = page.get_by_label("Lens", exact=True)
    expect(picker).to_be_visible()
    for heading in lens_headings(page).all():
        expect(heading).to_be_visible()
        box = heading.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
    box = picker.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    assert workshop.errors == []


def test_the_lens_picker_works_without_javascript(browser, live_server, alice, security_lens):
    alice.set_password(PASSWORD)
    alice.save(update_fields=["password"])
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"/accounts/login/?next={reverse('reviews:dashboard')}")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill(PASSWORD)
        page.locator("main button[type=submit]").click()
        page.get_by_label("Lens", exact=True).select_option(label="Cloud Security Lens")

        page.get_by_role("button", name="Filter").click()

        expect(lens_headings(page)).to_have_text(["Cloud Security Lens"])
        assert f"lens={security_lens.alias}" in page.url
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_scores_show_beside_the_risks_on_the_dashboard_and_the_list_at_every_width(
    workshop, alice, security_lens, width
):
    page = workshop.join(alice, reverse("reviews:dashboard"))
    page.set_viewport_size({"width": width, "height": 900})

    expect(page.locator("#portfolio-score .total-number")).to_have_text("–")
    expect(page.locator("#workloads th", has_text="Score")).to_be_visible()
    expect(page.locator("#pillar-scores-wellarchitected")).to_contain_text("Security –")
    page.goto(reverse("reviews:workload_list"))
    expect(page.locator("table.workloads th", has_text="Score")).to_be_attached()
    expect(page.locator("table.workloads td.workload-score")).to_have_text(["–"])
    assert workshop.errors == []
