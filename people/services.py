"""People workflows: invitations, accounts, staff and viewer flags, teams, sessions.

Every change a member of staff makes is written to the staff log (PeopleEvent) in the same
transaction, so the log cannot miss a change nor record one that did not happen.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from people.models import (
    INVITATION_DAYS,
    TEAM_NAME_MAX,
    TEAM_NAME_MIN,
    Invitation,
    PeopleEvent,
    Team,
    TeamMember,
    UserSession,
    profile_of,
    token_hash,
)
from reviews.errors import CONFLICT, FORBIDDEN, INVALID, NOT_FOUND, DomainError
from reviews.models import name_key

Action = PeopleEvent.Action


class PeopleError(DomainError):
    """A change to people or teams that cannot be made, with a message for the person who asked."""


def _log(
    action: str, *, actor: User | None, user: User | None = None, team: str = "", **detail
) -> None:
    PeopleEvent.objects.create(
        action=action,
        actor=actor,
        target_user=user.get_username() if user else detail.pop("email", ""),
        target_team=team,
        detail=detail,
    )


def _clean_email(email: str) -> str:
    email = User.objects.normalize_email(email.strip())
    try:
        validate_email(email)
    except ValidationError:
        raise PeopleError("Enter a valid email address.", INVALID, field="email") from None
    return email


def _email_taken(email: str, *, other_than: User | None = None) -> bool:
    accounts = User.objects.filter(email__iexact=email)
    if other_than is not None:
        accounts = accounts.exclude(pk=other_than.pk)
    return accounts.exists()


# -- invitations ---------------------------------------------------------------------------------


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


@transaction.atomic
def invitation_create(*, email: str, name: str = "", invited_by: User) -> tuple[Invitation, str]:
    """A pending invitation and its raw token, which only the link carries from here on."""
    email = _clean_email(email)
    name = name.strip()
    if len(name) > 150:
        raise PeopleError("A name has at most 150 characters.", INVALID, field="name")
    if _email_taken(email):
        raise PeopleError(
            f"{email} already has an account: find it on the People page instead.",
            CONFLICT,
            field="email",
        )
    if Invitation.objects.pending().filter(email__iexact=email).exists():
        raise PeopleError(
            f"{email} has been invited already: resend that invitation instead.",
            CONFLICT,
            field="email",
        )
    token, hashed = _new_token()
    invitation = Invitation.objects.create(
        email=email, name=name, token_hash=hashed, invited_by=invited_by
    )
    _log(Action.INVITED, actor=invited_by, email=email)
    return invitation, token


def _open(invitation: Invitation) -> Invitation:
    """The invitation locked for a change, or a PeopleError if it was used or withdrawn."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise PeopleError(f"{invitation.email} has accepted this invitation already.", CONFLICT)
    if invitation.revoked:
        raise PeopleError("This invitation was revoked.", CONFLICT)
    return invitation


@transaction.atomic
def invitation_resend(*, invitation: Invitation, actor: User) -> tuple[Invitation, str]:
    """A fresh token and seven more days; the link sent before stops working."""
    invitation = _open(invitation)
    if _email_taken(invitation.email):
        raise PeopleError(f"{invitation.email} has an account now.", CONFLICT)
    token, invitation.token_hash = _new_token()
    invitation.expires_at = timezone.now() + timedelta(days=INVITATION_DAYS)
    invitation.save(update_fields=["token_hash", "expires_at"])
    _log(Action.INVITATION_RESENT, actor=actor, email=invitation.email)
    return invitation, token


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    invitation = _open(invitation)
    invitation.revoked = True
    invitation.save(update_fields=["revoked"])
    _log(Action.INVITATION_REVOKED, actor=actor, email=invitation.email)
    return invitation


INVITATION_UNUSABLE = (
    "This invitation link is not valid any more: it was used, withdrawn or replaced, or it has "
    "expired. Ask whoever invited you for a new one."
)


def invitation_for_token(token: str) -> Invitation:
    """The pending invitation the link's token opens, or NOT_FOUND with a message for people."""
    invitation = Invitation.objects.pending().filter(token_hash=token_hash(token)).first()
    if invitation is None:
        raise PeopleError(INVITATION_UNUSABLE, NOT_FOUND)
    return invitation


@transaction.atomic
def invitation_accept(
    *,
    token: str,
    username: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
) -> User:
    """The account the invited person creates: their email, the name and password they chose.

    The invitation is locked first, so the same link used twice at once creates one account.
    """
    found = invitation_for_token(token)
    invitation = Invitation.objects.select_for_update().get(pk=found.pk)
    if not invitation.is_pending:
        raise PeopleError(INVITATION_UNUSABLE, NOT_FOUND)
    if _email_taken(invitation.email):
        raise PeopleError(f"{invitation.email} has an account already: log in with it.", CONFLICT)
    username = User.normalize_username(username.strip())
    if User.objects.filter(username__iexact=username).exists():
        raise PeopleError("That username is taken: choose another.", CONFLICT, field="username")
    user = User(
        username=username,
        email=invitation.email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
    )
    try:
        user.full_clean(exclude=["password"])
        password_validation.validate_password(password, user)
    except ValidationError as error:
        field = "password" if not hasattr(error, "error_dict") else next(iter(error.error_dict))
        raise PeopleError(" ".join(error.messages), INVALID, field=field) from None
    user.set_password(password)
    user.save()
    invitation.accepted_at = timezone.now()
    invitation.user = user
    invitation.save(update_fields=["accepted_at", "user"])
    _log(Action.JOINED, actor=user, user=user, invited_by=_name(invitation.invited_by))
    return user


@transaction.atomic
def invitation_join(*, user: User) -> Invitation | None:
    """Mark the pending invitation to the user's email as taken up by that account.

    For an account that came another way than the link (single sign-on with the same, verified
    email): the invitation stops being pending, and the log says the person joined.
    """
    if not user.email:
        return None
    invitation = (
        Invitation.objects.pending()
        .select_for_update()
        .filter(email__iexact=user.email)
        .order_by("-created_at")
        .first()
    )
    if invitation is None:
        return None
    invitation.accepted_at = timezone.now()
    invitation.user = user
    invitation.save(update_fields=["accepted_at", "user"])
    _log(Action.JOINED, actor=user, user=user, invited_by=_name(invitation.invited_by))
    return invitation


def _name(user: User | None) -> str:
    return user.get_username() if user else ""


# -- accounts ------------------------------------------------------------------------------------


def _active_staff_count() -> int:
    return User.objects.filter(is_staff=True, is_active=True).count()


@transaction.atomic
def user_deactivate(*, user: User, actor: User) -> User:
    """The user cannot sign in any more; what they wrote and their name stay everywhere."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.pk == actor.pk:
        raise PeopleError("You cannot deactivate your own account.", FORBIDDEN)
    if not user.is_active:
        raise PeopleError(f"{user.get_username()} is deactivated already.", CONFLICT)
    user.is_active = False
    user.save(update_fields=["is_active"])
    ended = sessions_end(user=user)
    _log(Action.DEACTIVATED, actor=actor, user=user, sessions_ended=ended)
    return user


@transaction.atomic
def user_reactivate(*, user: User, actor: User) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        raise PeopleError(f"{user.get_username()} is active already.", CONFLICT)
    user.is_active = True
    user.save(update_fields=["is_active"])
    _log(Action.REACTIVATED, actor=actor, user=user)
    return user


@transaction.atomic
def user_staff_set(*, user: User, actor: User, is_staff: bool) -> User:
    """Grant or remove staff. Removing it also removes superuser, which only staff can use."""
    # Lock every staff row: two staff removing each other at once must not leave nobody.
    list(User.objects.select_for_update().filter(is_staff=True).values_list("pk"))
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_staff == is_staff:
        state = "staff already" if is_staff else "not staff"
        raise PeopleError(f"{user.get_username()} is {state}.", CONFLICT)
    if is_staff and not user.is_active:
        raise PeopleError("Reactivate the account before making it staff.", CONFLICT)
    if not is_staff and user.is_active and _active_staff_count() <= 1:
        raise PeopleError(
            "This is the last active member of staff: make someone else staff first.", CONFLICT
        )
    user.is_staff = is_staff
    if not is_staff:
        user.is_superuser = False
    user.save(update_fields=["is_staff", "is_superuser"])
    _log(Action.STAFF_GRANTED if is_staff else Action.STAFF_REMOVED, actor=actor, user=user)
    return user


@transaction.atomic
def user_viewer_set(*, user: User, actor: User, is_viewer: bool) -> User:
    """The portfolio-viewer flag: read access to every workload, never a write."""
    profile = profile_of(user)
    profile = type(profile).objects.select_for_update().get(pk=profile.pk)
    if profile.is_portfolio_viewer == is_viewer:
        state = "a portfolio viewer already" if is_viewer else "not a portfolio viewer"
        raise PeopleError(f"{user.get_username()} is {state}.", CONFLICT)
    profile.is_portfolio_viewer = is_viewer
    profile.save(update_fields=["is_portfolio_viewer"])
    user.profile = profile
    _log(Action.VIEWER_GRANTED if is_viewer else Action.VIEWER_REMOVED, actor=actor, user=user)
    return user


@transaction.atomic
def account_update(*, user: User, first_name: str, last_name: str, email: str) -> User:
    """A person's own name and email. Email is how invitations and single sign-on find them."""
    email = _clean_email(email)
    if _email_taken(email, other_than=user):
        raise PeopleError("Another account uses that email address.", CONFLICT, field="email")
    first_name, last_name = first_name.strip(), last_name.strip()
    if len(first_name) > 150 or len(last_name) > 150:
        raise PeopleError("A name has at most 150 characters.", INVALID)
    user.first_name, user.last_name, user.email = first_name, last_name, email
    user.save(update_fields=["first_name", "last_name", "email"])
    return user


# -- sessions ------------------------------------------------------------------------------------


def sessions_live(user: User) -> list[UserSession]:
    """The user's sessions that can still be used, newest first; dead ones are forgotten."""
    remembered = list(UserSession.objects.filter(user=user))
    keys = {row.session_key for row in remembered}
    live = set(
        Session.objects.filter(session_key__in=keys, expire_date__gt=timezone.now()).values_list(
            "session_key", flat=True
        )
    )
    if keys - live:
        UserSession.objects.filter(user=user, session_key__in=keys - live).delete()
    return [row for row in remembered if row.session_key in live]


@transaction.atomic
def sessions_end(*, user: User, keep: str | None = None) -> int:
    """Sign the user out of every session but `keep` (the one asking); how many ended."""
    rows = UserSession.objects.filter(user=user)
    if keep:
        rows = rows.exclude(session_key=keep)
    keys = list(rows.values_list("session_key", flat=True))
    ended, _ = Session.objects.filter(session_key__in=keys).delete()
    rows.delete()
    # Cached sessions (SESSION_ENGINE cached_db) are read from the cache first: drop them there
    # too, or the cache would go on honouring them. Again once committed, as a request that
    # read a row before the commit may have put it back.
    _sessions_uncache(keys)
    transaction.on_commit(lambda: _sessions_uncache(keys))
    return ended


def _sessions_uncache(keys: list[str]) -> None:
    store = import_module(settings.SESSION_ENGINE).SessionStore
    prefix = getattr(store, "cache_key_prefix", None)
    if prefix and keys:
        caches[settings.SESSION_CACHE_ALIAS].delete_many([prefix + key for key in keys])


def session_renamed(*, user: User, old_key: str | None, new_key: str) -> None:
    """A session that got a new key (password change) stays listed under it."""
    if old_key and old_key != new_key:
        UserSession.objects.filter(user=user, session_key=old_key).update(session_key=new_key)


# -- teams ---------------------------------------------------------------------------------------


def _clean_team_name(name: str, *, team: Team | None = None) -> str:
    name = " ".join(name.split())
    if not TEAM_NAME_MIN <= len(name) <= TEAM_NAME_MAX:
        raise PeopleError(
            f"A team name has {TEAM_NAME_MIN} to {TEAM_NAME_MAX} characters.", INVALID, field="name"
        )
    clash = Team.objects.filter(name_key=name_key(name))
    if team is not None:
        clash = clash.exclude(pk=team.pk)
    if clash.exists():
        raise PeopleError(f"There is a team called {name} already.", CONFLICT, field="name")
    return name


def _clean_description(description: str) -> str:
    description = description.strip()
    if len(description) > 250:
        raise PeopleError("A description has at most 250 characters.", INVALID, field="description")
    return description


@transaction.atomic
def team_create(*, name: str, description: str = "", actor: User | None) -> Team:
    name = _clean_team_name(name)
    try:
        with transaction.atomic():
            team = Team.objects.create(name=name, description=_clean_description(description))
    except IntegrityError:  # created by someone else since the check above
        raise PeopleError(
            f"There is a team called {name} already.", CONFLICT, field="name"
        ) from None
    _log(Action.TEAM_CREATED, actor=actor, team=team.name)
    return team


@transaction.atomic
def team_update(*, team: Team, name: str, description: str, actor: User) -> Team:
    team = Team.objects.select_for_update().get(pk=team.pk)
    old_name = team.name
    team.name = _clean_team_name(name, team=team)
    team.description = _clean_description(description)
    team.save()
    if team.name != old_name:
        _log(Action.TEAM_RENAMED, actor=actor, team=team.name, old_name=old_name)
    return team


@transaction.atomic
def team_delete(*, team: Team, actor: User) -> None:
    members = team.memberships.count()
    name = team.name
    team.delete()
    _log(Action.TEAM_DELETED, actor=actor, team=name, members=members)


@transaction.atomic
def team_member_add(*, team: Team, user: User, actor: User | None) -> TeamMember:
    if not user.is_active:
        raise PeopleError(f"{user.get_username()} is deactivated.", CONFLICT, field="user")
    member, created = TeamMember.objects.get_or_create(team=team, user=user)
    if not created:
        raise PeopleError(
            f"{user.get_username()} is in {team.name} already.", CONFLICT, field="user"
        )
    _log(Action.MEMBER_ADDED, actor=actor, user=user, team=team.name)
    return member


@transaction.atomic
def team_member_remove(*, team: Team, user: User, actor: User | None) -> None:
    deleted, _ = TeamMember.objects.filter(team=team, user=user).delete()
    if not deleted:
        raise PeopleError(f"{user.get_username()} is not in {team.name}.", NOT_FOUND)
    _log(Action.MEMBER_REMOVED, actor=actor, user=user, team=team.name)
