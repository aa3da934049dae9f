"""Every main page fits a phone, a tablet and a laptop: no page scrolls sideways.

Wide tables may scroll inside their own box (`.table-scroll`), never the page. Screenshots of
each page at each width go to SHOTS for a person to look at.
"""

import os
from pathlib import Path

import pytest
from django.urls import reverse

from lenses.models import Lens
from people.services import invitation_create, team_create, team_member_add
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


def staff_pages(builtin_lens, alice) -> dict[str, str]:
    team = team_create(
        name="Platform engineering", description="Runs the shared platform.", actor=None
    )
    team_member_add(team=team, user=alice, actor=None)
    invitation_create(
        email="a.very.long.address.for.testing@subsidiary.example.com", invited_by=alice
    )
    return {
        "lens-version": reverse("lenses:version", args=[LENS, builtin_lens.pk]),
        "lens-upload": reverse("lenses:import"),
        "branding": reverse("reviews:branding"),
        "people": reverse("people:people"),
        "invite": reverse("people:invite"),
        "person": reverse("people:person", args=[alice.pk]),
        "teams": reverse("people:teams"),
        "team": reverse("people:team", args=[team.pk]),
        "people-log": reverse("people:log"),
        "account": reverse("account:account"),
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
              if (!element.closest(".table-scroll")) {
                widest = {tag: element.tagName, cls: element.className, right: box.right};
              }
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
    visits = [(alice, owner_pages(reviewed)), (admin_user, staff_pages(builtin_lens, alice))]
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

    report = [f"{name} at {width}px: {found}" for name, width, found in too_wide]
    assert not too_wide, "\n".join(report)
    assert not workshop.errors, workshop.errors


def question_url(workload, question_id: str) -> str:
    return reverse("reviews:question", args=[workload.public_id, LENS, question_id])


def pillar_url(workload, pillar_id: str) -> str:
    return reverse("reviews:pillar", args=[workload.public_id, LENS, pillar_id])


def test_on_a_phone_the_question_comes_first_and_the_question_list_is_folded_away(
    workshop, workload, alice
):
    tick(workload, alice, "sec1", "sec1_no")
    page = workshop.join(alice)
    page.set_viewport_size(PHONE)
    page.goto(question_url(workload, "sec2"))

    title = page.get_by_role("heading", level=1).bounding_box()
    assert title["y"] >= 0 and title["y"] + title["height"] <= PHONE["height"]
    summary = page.locator(".nav-fold > summary")
    assert summary.inner_text() == "Questions (1/38 answered)"
    nav = page.locator("#review-nav")
    assert not nav.is_visible()

    summary.click()

    assert nav.is_visible()
    assert nav.get_by_role("link", name="Overview").is_visible()
    assert not workshop.errors, workshop.errors


def test_on_a_laptop_the_question_list_is_shown_beside_the_question_without_a_summary(
    workshop, workload, alice
):
    page = workshop.join(alice, question_url(workload, "sec2"))

    nav = page.locator("#review-nav").bounding_box()
    title = page.get_by_role("heading", level=1).bounding_box()
    assert page.locator("#review-nav").is_visible()
    assert not page.locator(".nav-fold > summary").is_visible()
    assert nav["x"] + nav["width"] <= title["x"]
    assert not workshop.errors, workshop.errors


def current_entry_in_view(page) -> dict:
    page.wait_for_load_state("load")
    return page.evaluate(
        """() => {
          const nav = document.getElementById("review-nav");
          const box = nav.getBoundingClientRect();
          const current = nav.querySelector("[aria-current]").getBoundingClientRect();
          return {
            inside: current.top >= box.top && current.bottom <= box.bottom,
            navScrolled: nav.scrollTop,
            pageScrolled: window.scrollY,
          };
        }"""
    )


def test_the_question_list_scrolls_itself_to_the_current_question_and_not_the_page(
    workshop, workload, alice
):
    page = workshop.join(alice, question_url(workload, "sus3"))

    found = current_entry_in_view(page)

    assert found["inside"], found
    assert found["navScrolled"] > 0
    assert found["pageScrolled"] == 0
    assert not workshop.errors, workshop.errors


def test_the_question_list_keeps_its_scroll_position_when_a_tick_updates_it(
    workshop, workload, alice
):
    page = workshop.join(alice, question_url(workload, "sus3"))
    before = current_entry_in_view(page)["navScrolled"]

    with page.expect_response(lambda r: r.request.method == "POST" and "/choices/" in r.url):
        page.keyboard.press("1")
    page.wait_for_timeout(100)

    assert page.locator("#review-nav .current .dot").get_attribute("class") != "dot risk-UNANSWERED"
    assert current_entry_in_view(page)["navScrolled"] == before
    assert not workshop.errors, workshop.errors


def test_page_down_scrolls_the_page_and_brackets_or_shift_arrows_change_pillar(
    workshop, workload, alice
):
    page = workshop.join(alice, question_url(workload, "sec2"))
    page.set_viewport_size({"width": 1280, "height": 500})

    page.keyboard.press("PageDown")
    page.wait_for_timeout(300)

    assert page.evaluate("window.scrollY") > 0
    assert page.url.endswith(question_url(workload, "sec2"))

    page.keyboard.press("]")
    page.wait_for_url(f"**{pillar_url(workload, 'reliability')}")
    page.keyboard.press("Shift+ArrowRight")
    page.wait_for_url(f"**{pillar_url(workload, 'performance')}")
    page.keyboard.press("[")
    page.wait_for_url(f"**{pillar_url(workload, 'reliability')}")
    page.keyboard.press("Shift+ArrowLeft")
    page.wait_for_url(f"**{pillar_url(workload, 'security')}")
    hint = page.locator(".keys").inner_text()
    assert "previous / next pillar" in hint and "Page" not in hint
    assert not workshop.errors, workshop.errors


def test_a_read_only_member_is_told_so_and_number_keys_tick_nothing(workshop, workload, carol):
    page = workshop.join(carol, question_url(workload, "sec1"))
    posts = []
    page.on(
        "request", lambda request: posts.append(request.url) if request.method == "POST" else None
    )

    page.keyboard.press("1")
    page.wait_for_timeout(300)

    assert page.get_by_role("note").inner_text() == (
        "You can read this review; you cannot change it."
    )
    hint = page.locator(".keys").inner_text()
    assert "tick" not in hint and "previous / next question" in hint
    assert posts == []
    assert not page.get_by_role("checkbox").first.is_checked()
    assert not workshop.errors, workshop.errors
