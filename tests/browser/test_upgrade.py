"""The upgrade flow as a member goes through it: notice, what changed, confirm, new state."""

import copy
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from lenses.services import lens_import, lens_version_publish
from reviews.models import Answer, ChoiceAnswer
from reviews.services import answer_choice_update, workload_add_lens
from tests.factories import lens_bytes, lens_document

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("ARCHLENS_SHOTS", "/tmp/archlens-shots")) / "upgrade"


def test_a_member_sees_the_notice_reads_what_changes_confirms_and_finds_the_new_state(
    workshop, workload, alice, bob, admin_user
):
    document = lens_document(name="Team Lens")
    first = lens_version_publish(
        lens_version=lens_import(raw=lens_bytes(document), user=admin_user), version="1.0"
    )
    review = workload_add_lens(workload=workload, lens=first.lens)
    answer = Answer.objects.select_related("question", "lens_review").get(
        lens_review=review, question__question_id="p1_q1"
    )
    for choice_id in ("p1_q1_c1", "p1_q1_c3"):
        answer, _ = answer_choice_update(
            answer=answer, choice_id=choice_id, status="SELECTED", user=bob
        )
    following = copy.deepcopy(document)
    question = following["pillars"][0]["questions"][0]
    question["choices"] = [c for c in question["choices"] if c["id"] != "p1_q1_c3"]
    question["riskRules"] = [{"condition": "default", "risk": "HIGH_RISK"}]
    following["pillars"][1]["questions"].pop()  # p2_q2 leaves the lens
    second = lens_version_publish(
        lens_version=lens_import(raw=lens_bytes(following), user=admin_user), version="1.1"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)

    # Someone else has the question that the upgrade removes open.
    gone = workshop.join(
        alice, f"/workloads/{workload.public_id}/lenses/team-lens/questions/p2_q2/"
    )
    page = workshop.join(bob, f"/workloads/{workload.public_id}/lenses/team-lens/")
    notice = page.locator("#upgrade-notice-team-lens")
    assert "Team Lens 1.1 is available" in notice.inner_text()
    page.screenshot(path=str(SHOTS / "1-notice.png"))

    notice.get_by_role("link", name="What changed").click()
    page.locator("#diff-question-p1_q1").wait_for()
    assert "Removed" in page.locator("#diff-question-p1_q1").inner_text()
    page.screenshot(path=str(SHOTS / "2-difference.png"), full_page=True)

    page.go_back()
    page.locator("#upgrade-notice-team-lens").get_by_role(
        "link", name="Upgrade this review…"
    ).click()
    lost = page.locator("#upgrade-lost")
    assert "p1_q1_c3" in lost.inner_text()
    assert "Medium risk" in page.locator("#upgrade-risks").inner_text()
    assert page.get_by_label("Milestone saved first").input_value() == (
        "Before upgrade to Team Lens 1.1"
    )
    for width in (390, 768, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"3-confirm-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("button", name="Save the milestone and upgrade").click()
    page.get_by_text("Upgraded to Team Lens 1.1").wait_for()
    page.screenshot(path=str(SHOTS / "4-upgraded.png"))

    with workshop.server_lock:
        review.refresh_from_db()
        assert review.lens_version == second
        assert workload.milestones.get().name == "Before upgrade to Team Lens 1.1"
        kept = set(
            ChoiceAnswer.objects.filter(answer__lens_review=review, status="SELECTED").values_list(
                "choice__choice_id", flat=True
            )
        )
    assert kept == {"p1_q1_c1"}
    assert page.locator("#upgrade-notice-team-lens").count() == 0
    # The page of the removed question says so at its next poll instead of "connection lost".
    expect(gone.locator("#request-problem")).to_contain_text("no longer there", timeout=5_000)
    gone.screenshot(path=str(SHOTS / "5-removed-question.png"))
    page.goto(f"/workloads/{workload.public_id}/lenses/team-lens/questions/p1_q1/")
    history = page.locator("body").inner_text()
    assert "upgraded the lens from 1.0 to 1.1" in history
    assert "no longer in the lens" in history
    # Chromium and htmx log the removed question's 404 polls: those are expected.
    unexpected = [e for e in workshop.errors if not (e.startswith("alice:") and " 404 " in e)]
    assert not unexpected, workshop.errors
