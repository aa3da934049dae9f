"""A staff member brings people in without Django admin: invitations, a team with a
workload shared with it, and a portfolio viewer (the issue's "done when")."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from people.models import Invitation, Team, profile_of
from reviews.models import Workload
from reviews.services import workload_create
from tests.browser.conftest import LAPTOP
from tests.browser.test_layout import WIDTHS, look_at

pytestmark = pytest.mark.browser

ADMIN_PASSWORD = "first-admin-pw-42"


def new_page(workshop, name: str, visited: list[str]):
    context = workshop.browser.new_context(base_url=workshop.base_url, viewport=LAPTOP)
    context.set_default_timeout(10_000)
    workshop.contexts.append(context)
    page = context.new_page()
    page.on("pageerror", lambda error: workshop.errors.append(f"{name}: page error: {error}"))
    page.on("console", lambda message: workshop._console(name, message))
    page.on("request", lambda request: visited.append(request.url))
    return page


def fits(page, name: str) -> None:
    """Screenshots at each width (for a person to look at), and nothing scrolls sideways."""
    for size in WIDTHS:
        found = look_at(page, name, size)
        assert found["scroll"] <= found["inner"], (name, size, found)
    page.set_viewport_size(LAPTOP)


def invite(page, email: str, name: str) -> str:
    page.get_by_role("link", name="Invite someone").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Name (optional)").fill(name)
    page.get_by_role("button", name="Create invitation link").click()
    page.get_by_role("heading", name=f"Invitation for {email}").wait_for()
    link = page.get_by_label("Invitation link").input_value()
    fits(page, "invitation-link")
    page.get_by_role("link", name="Back to People").click()
    return link


def join(page, link: str, username: str) -> None:
    page.goto(link)
    fits(page, "invitation-accept")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(f"{username}-pass-4242")
    page.get_by_label("Password again").fill(f"{username}-pass-4242")
    page.get_by_role("button", name="Create my account").click()
    page.get_by_role("button", name="Log out").wait_for()


def test_staff_invite_two_people_share_a_workload_with_a_team_and_make_a_viewer_without_admin(
    workshop, settings, builtin_lens
):
    settings.EMAIL_HOST = ""  # no mail: the invitation links are shown to pass on
    visited: list[str] = []
    staff = new_page(workshop, "ada", visited)

    staff.goto(reverse("first_run"))
    staff.get_by_label("Username").fill("ada")
    staff.get_by_label("Password", exact=True).fill(ADMIN_PASSWORD)
    staff.get_by_label("Password confirmation").fill(ADMIN_PASSWORD)
    staff.get_by_role("button", name="Create administrator").click()
    staff.get_by_role("heading", name="People").wait_for()
    assert staff.url.endswith(reverse("people:people"))

    dana_link = invite(staff, "dana@example.com", "Dana Diaz")
    maria_link = invite(staff, "maria@example.com", "Maria Manager")
    assert staff.locator("#invitations").is_visible()
    assert Invitation.objects.pending().count() == 2

    join(new_page(workshop, "dana", visited), dana_link, "dana")
    join(new_page(workshop, "maria", visited), maria_link, "maria")

    staff.get_by_role("link", name="Teams").click()
    staff.get_by_label("Name").fill("Platform")
    staff.get_by_role("button", name="Create team").click()
    staff.get_by_role("heading", name="Platform").wait_for()
    staff.get_by_label("Username or email").fill("dana@example.com")
    staff.get_by_role("button", name="Add member").click()
    staff.locator(f"#member-{User.objects.get(username='dana').pk}").wait_for()

    staff.locator(".mainnav").get_by_role("link", name="People").click()
    staff.get_by_role("link", name="maria").click()
    staff.get_by_role("button", name="Make portfolio viewer").click()
    staff.get_by_text("maria is a portfolio viewer now.").wait_for()

    # The team gets a workload: ada shares one of hers with it, read-only.
    with workshop.server_lock:
        workload = workload_create(
            owner=User.objects.get(username="ada"),
            name="Payments API",
            description="Takes card payments for the web shop.",
            environment=Workload.Environment.PRODUCTION,
            review_owner="Ada",
        )
    staff.goto(reverse("reviews:sharing", args=[workload.public_id]))
    staff.locator("#share-team").get_by_label("Team").select_option(label="Platform")
    staff.locator("#share-team").get_by_label("Role").select_option(label="Read-only")
    staff.get_by_role("button", name="Share with the team").click()
    staff.locator(f"#team-{Team.objects.get(name='Platform').pk}").wait_for()
    dana = workshop.contexts[1].pages[0]
    dana.goto(reverse("reviews:workload_list"))
    dana.get_by_role("link", name="Payments API").wait_for()

    assert list(Team.objects.get(name="Platform").users.values_list("username", flat=True)) == [
        "dana"
    ]
    assert profile_of(User.objects.get(username="maria")).is_portfolio_viewer
    assert not [url for url in visited if "/admin/" in url]
    assert not workshop.errors, workshop.errors
