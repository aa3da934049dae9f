"""A workload's writer chooses a business-context profile in a real browser, and the question
page others have open marks the questions it prioritises without a reload."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from profiles.services import builtin_profiles_load

pytestmark = pytest.mark.browser


def test_attaching_a_profile_marks_its_questions_on_an_open_question_page(
    workshop, workload, alice, carol
):
    builtin_profiles_load()
    question = reverse("reviews:question", args=[workload.public_id, "wellarchitected", "sec6"])
    reader = workshop.join(carol, question)
    expect(reader.locator("#question-priority")).to_have_text("")

    owner = workshop.join(alice, reverse("profiles:workload_profile", args=[workload.public_id]))
    owner.get_by_label("Profile", exact=True).select_option(label="Healthcare and finance")
    owner.get_by_role("button", name="Show its questions").click()
    owner.get_by_label("Health records").check()
    owner.get_by_label("Harm to people or large losses").check()
    owner.get_by_label("Take the workload's pillar order from the profile").check()
    owner.get_by_role("button", name="Use this profile").click()

    expect(owner.locator("#profile-in-use")).to_contain_text("Healthcare and finance")
    expect(owner.locator("#profile-in-use")).to_contain_text("Health records")
    # Carol's page learns of it by its poll: the header badge and the sidebar's stars.
    expect(reader.locator("#question-priority")).to_contain_text("Prioritised", timeout=15_000)
    expect(reader.locator("#review-nav .prioritised-star").first).to_be_visible()
    assert workshop.errors == []
