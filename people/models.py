"""People around the reviews: profiles, teams, invitations, sessions and the staff log."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from reviews.models import name_key

INVITATION_DAYS = 7
TEAM_NAME_MIN = 2
TEAM_NAME_MAX = 100


def token_hash(token: str) -> str:
    """What is stored of a one-time token: its SHA-256, so a copy of the database opens nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    # Reads every workload, writes none (managers, auditors); the sharing rules honour it.
    is_portfolio_viewer = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Profile of {self.user}"


def profile_of(user) -> Profile:
    """The user's profile, created on first use for accounts that predate it or came raw."""
    try:
        return user.profile
    except Profile.DoesNotExist:
        profile, _ = Profile.objects.get_or_create(user=user)
        user.profile = profile
        return profile


class Team(models.Model):
    name = models.CharField(max_length=TEAM_NAME_MAX)
    name_key = models.CharField(max_length=TEAM_NAME_MAX, unique=True, editable=False)
    description = models.CharField(max_length=250, blank=True)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="TeamMember", related_name="teams"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name_key"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.name_key = name_key(self.name)
        super().save(*args, **kwargs)


class TeamMember(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team__name_key", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="member_once_per_team"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


def _invitation_expiry():
    return timezone.now() + timedelta(days=INVITATION_DAYS)


class InvitationQuerySet(models.QuerySet):
    def pending(self) -> InvitationQuerySet:
        return self.filter(accepted_at=None, revoked=False, expires_at__gt=timezone.now())


class Invitation(models.Model):
    email = models.EmailField(db_index=True)
    name = models.CharField(max_length=150, blank=True)
    # The raw token is only ever in the link that was sent.
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=_invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)
    # The account the invitation created, or joined (single sign-on with the same email).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations",
    )
    revoked = models.BooleanField(default=False)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and not self.revoked and self.expires_at > timezone.now()


class UserSession(models.Model):
    """A signed-in session of a user, so "sign out everywhere" needs no scan of all sessions."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signed_in_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    user_agent = models.CharField(max_length=300, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Session of {self.user} since {self.created_at:%Y-%m-%d %H:%M}"


class PeopleEvent(models.Model):
    class Action(models.TextChoices):
        INVITED = "INVITED", "Invited"
        INVITATION_RESENT = "INVITATION_RESENT", "Invitation resent"
        INVITATION_REVOKED = "INVITATION_REVOKED", "Invitation revoked"
        JOINED = "JOINED", "Joined"
        DEACTIVATED = "DEACTIVATED", "Deactivated"
        REACTIVATED = "REACTIVATED", "Reactivated"
        STAFF_GRANTED = "STAFF_GRANTED", "Staff granted"
        STAFF_REMOVED = "STAFF_REMOVED", "Staff removed"
        VIEWER_GRANTED = "VIEWER_GRANTED", "Portfolio viewer granted"
        VIEWER_REMOVED = "VIEWER_REMOVED", "Portfolio viewer removed"
        TEAM_CREATED = "TEAM_CREATED", "Team created"
        TEAM_RENAMED = "TEAM_RENAMED", "Team renamed"
        TEAM_DELETED = "TEAM_DELETED", "Team deleted"
        MEMBER_ADDED = "MEMBER_ADDED", "Member added"
        MEMBER_REMOVED = "MEMBER_REMOVED", "Member removed"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # Null for changes nobody made by hand (single sign-on mapping groups onto teams).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=32, choices=Action)
    # Names as they were at the time, so the log still reads after a rename or a deletion.
    target_user = models.CharField(max_length=254, blank=True)
    target_team = models.CharField(max_length=TEAM_NAME_MAX, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.at:%Y-%m-%d %H:%M}"
