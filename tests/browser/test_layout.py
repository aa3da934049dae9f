"""Every main page fits a phone, a tablet and a laptop: no page scrolls sideways.

Wide tables may scroll inside their own box (`.table-scroll`), never the page. Screenshots of
each page at each width go to SHOTS for a person to look at.
"""

import os
from pathlib import Path

import pytest
from django.urls import reverse

from lenses.models import Lens
from reviews.milestones import milestone_create
from reviews.models import Answer, Report
from reviews.services import answer_choice_update

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("ARCHLENS_SHOTS", "/tmp/archlens-shots")) / "layout"
LENS = "wellarchitected"
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
LAPTOP = {"width": 1280, "height": 800}
WIDTHS = [PHONE, TABLET, LAPTOP]


def tick(workload, user, question_id: str, choice_id: str) -> None:
    answer = Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload, question__question_id=question_id
    )
    answer_choice_update(answer=answer, choice_id=choice_id, status="SELECTED", user=user)


@pytest.fixture
def reviewed(workload, alice):
    """The workload with some answers, risks, improvement items, two milestones and a report."""
    for question_id in ("ops1", "sec1", "rel1"):
        tick(workload, alice, question_id, f"{question_id}_no")
    milestone_create(workload=workload, name="Before the workshop", user=alice)
    tick(workload, alice, "sec2", "sec2_no")
    milestone_create(workload=workload, name="After the workshop", user=alice)
    Report.objects.create(
        kind=Report.Kind.LENS_REVIEW,
        workload=workload,
        lens=Lens.objects.get(alias=LENS),
        status=Report.Status.FAILED,
        error="The worker stopped.",
        requested_by=alice,
    )
    return workload


def owner_pages(workload) -> dict[str, str]:
    review = [workload.public_id, LENS]
    report = Report.objects.get(workload=workload)
    return {
        "workload-list": reverse("reviews:workload_list"),
        "workload-detail": reverse("reviews:workload_detail", args=[workload.public_id]),
        "workload-new": reverse("reviews:workload_create"),
        "workload-edit": reverse("reviews:workload_edit", args=[workload.public_id]),
        "overview": reverse("reviews:overview", args=review),
        "pillar": reverse("reviews:pillar", args=[*review, "security"]),
        "question": reverse("reviews:question", args=[*review, "sec1"]),
        "improvement-plan": reverse("reviews:improvement_plan", args=review),
        "milestones": reverse("reviews:milestones", args=[workload.public_id]),
        "compare": reverse("reviews:compare", args=[workload.public_id]) + "?from=1&to=2",
        "milestone-overview": reverse(
            "reviews:milestone_overview", args=[workload.public_id, 1, LENS]
        ),
        "milestone-pillar": reverse(
            "reviews:milestone_pillar", args=[workload.public_id, 1, LENS, "security"]
        ),
        "milestone-question": reverse(
            "reviews:milestone_question", args=[workload.public_id, 1, LENS, "sec1"]
        ),
        "milestone-improvements": reverse(
            "reviews:milestone_improvements", args=[workload.public_id, 1, LENS]
        ),
        "sharing": reverse("reviews:sharing", args=[workload.public_id]),
        "reports": reverse("reviews:reports", args=[workload.public_id]),
        "report": reverse("reviews:report", args=[workload.public_id, report.pk]),
        "consolidated-reports": reverse("reviews:consolidated_reports"),
        "dashboard": reverse("reviews:dashboard"),
        "lenses": reverse("lenses:catalogue"),
        "lens": reverse("lenses:lens", args=[LENS]),
    }


def staff_pages(builtin_lens) -> dict[str, str]:
    return {
        "lens-version": reverse("lenses:version", args=[LENS, builtin_lens.pk]),
        "lens-upload": reverse("lenses:import"),
        "branding": reverse("reviews:branding"),
    }


def overflow(page) -> dict:
    """How wide the page is against the window, and the widest element that sticks out."""
    return page.evaluate(
        """() => {
          const width = window.innerWidth;
          let widest = null;
          for (const element of document.body.querySelectorAll("*")) {
            const box = element.getBoundingClientRect();
            if (box.right > width + 1 && (!widest || box.right > widest.right)) {
              const scrolls = element.closest(".table-scroll");
              if (!scrolls) widest = {tag: element.tagName, cls: element.className, right: box.right};
            }
          }
          return {scroll: document.documentElement.scrollWidth, inner: width, widest};
        }"""
    )


def look_at(page, name: str, size: dict) -> dict:
    page.set_viewport_size(size)
    page.wait_for_timeout(50)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}-{size['width']}.png", full_page=True)
    page.screenshot(path=SHOTS / f"{name}-{size['width']}-first-screen.png")
    return overflow(page)


def test_no_page_scrolls_sideways_on_a_phone_a_tablet_or_a_laptop(
    workshop, reviewed, builtin_lens, alice, admin_user
):
    too_wide = []
    visits = [(alice, owner_pages(reviewed)), (admin_user, staff_pages(builtin_lens))]
    for user, pages in visits:
        page = workshop.join(user)
        for name, path in pages.items():
            page.goto(path)
            for size in WIDTHS:
                found = look_at(page, name, size)
                if found["scroll"] > found["inner"]:
                    too_wide.append((name, size["width"], found))
    login = workshop.browser.new_page(base_url=workshop.base_url)
    login.goto(reverse("login"))
    for size in WIDTHS:
        found = look_at(login, "login", size)
        if found["scroll"] > found["inner"]:
            too_wide.append(("login", size["width"], found))
    login.close()

    assert not too_wide, "\n".join(f"{name} at {width}px: {found}" for name, width, found in too_wide)
    assert not workshop.errors, workshop.errors
