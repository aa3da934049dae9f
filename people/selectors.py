"""Reads of the people pages; each says what it costs in queries."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Count, Prefetch, Q, QuerySet

from people.models import Invitation, PeopleEvent, Team, TeamMember
from reviews.models import Workload


def sign_in_method(user: User) -> str:
    """How the person signs in: an account without a usable password came by single sign-on."""
    return "Password" if user.has_usable_password() else "Single sign-on"


# Checked in order: Edge and Chrome also say "Safari", Chrome on iOS says "CriOS".
BROWSERS = [
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("FxiOS", "Firefox"),
    ("CriOS", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
]
SYSTEMS = [
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
]


def browser_of(user_agent: str) -> str:
    """A short name for a session's browser ("Firefox on Linux"); the full string is a tooltip."""
    browser = next((name for mark, name in BROWSERS if mark in user_agent), "")
    system = next((name for mark, name in SYSTEMS if mark in user_agent), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown browser"


def people_list(search: str = "") -> QuerySet[User]:
    """Everyone, active first, with profile and teams: two queries however many there are."""
    users = (
        User.objects.select_related("profile")
        .prefetch_related(Prefetch("teams", queryset=Team.objects.order_by("name_key")))
        .order_by("-is_active", "username")
    )
    if search := search.strip():
        users = users.filter(
            Q(username__icontains=search)
            | Q(email__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
        )
    return users


def invitations_pending() -> QuerySet[Invitation]:
    return Invitation.objects.pending().select_related("invited_by")


def workloads_owned_by(user: User) -> QuerySet[Workload]:
    return Workload.objects.filter(owner=user).order_by("name")


def teams_list() -> QuerySet[Team]:
    return Team.objects.annotate(member_count=Count("memberships"))


def team_members(team: Team) -> QuerySet[TeamMember]:
    return TeamMember.objects.filter(team=team).select_related("user").order_by("user__username")


def people_events() -> QuerySet[PeopleEvent]:
    return PeopleEvent.objects.select_related("actor")
