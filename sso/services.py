"""Signing in through the OpenID provider: which Archlens user the provider's person is.

The claims come from the provider's userinfo answer merged over the verified ID token.
"""

import re
from enum import StrEnum

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from people.models import Invitation, PeopleEvent, Team
from people.services import team_member_add, team_member_remove
from reviews.models import name_key
from sso.models import Identity

USERNAME_MAX = 150
NOT_IN_USERNAME = re.compile(r"[^\w.@+-]")


class Reason(StrEnum):
    STATE = "state"  # the callback does not belong to a sign-in started in this browser
    PROVIDER = "provider"  # the provider answered with an error (the person cancelled, say)
    UNREACHABLE = "unreachable"  # the provider did not answer
    REFUSED = "refused"  # the provider refused the code: expired, or used already
    TOKEN = "token"  # the ID token is invalid, expired or not meant for us
    NO_EMAIL = "no_email"  # the provider sent no email address
    UNVERIFIED = "unverified"  # an unverified address names an existing or invited account
    AMBIGUOUS = "ambiguous"  # several accounts have that address
    DEACTIVATED = "deactivated"  # the account was deactivated


class SignInFailed(Exception):
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def email_is_verified(claims: dict) -> bool:
    # Some providers send the Boolean as a string.
    return claims.get("email_verified") in (True, "true", "True")


@transaction.atomic
def sso_sign_in(*, issuer: str, claims: dict, groups_claim: str) -> User:
    """The user the provider's person signs in as, created on their first sign-in.

    A first sign-in joins the existing account with the same address, or takes up a pending
    invitation to it, only when the provider says the address is verified: otherwise anyone
    who can set that address at the provider could take the account over. Team memberships
    follow the groups claim at every sign-in (`_teams_sync`).
    """
    subject = str(claims.get("sub") or "")
    if not subject:
        raise SignInFailed(Reason.TOKEN, "no subject in the claims")
    identity = (
        Identity.objects.select_for_update()
        .select_related("user")
        .filter(issuer=issuer, subject=subject)
        .first()
    )
    if identity is None:
        user = _account_for(claims)
        identity = Identity.objects.create(user=user, issuer=issuer, subject=subject)
    user = identity.user
    if not user.is_active:
        raise SignInFailed(Reason.DEACTIVATED, f"user_id={user.pk} is deactivated")
    _update_names(user, claims)
    if groups_claim in claims:
        _teams_sync(identity, claims[groups_claim])
    identity.last_sign_in_at = timezone.now()
    identity.save(update_fields=["last_sign_in_at", "team_keys"])
    return user


def _account_for(claims: dict) -> User:
    email = str(claims.get("email") or "").strip()
    if not email:
        raise SignInFailed(Reason.NO_EMAIL, "the provider sent no email claim")
    verified = email_is_verified(claims)
    existing = list(User.objects.filter(email__iexact=email)[:2])
    if len(existing) > 1:
        raise SignInFailed(Reason.AMBIGUOUS, "several accounts have this email")
    if existing:
        if not verified:
            raise SignInFailed(Reason.UNVERIFIED, f"unverified email of user_id={existing[0].pk}")
        return existing[0]
    invitation = (
        Invitation.objects.pending().select_for_update().filter(email__iexact=email).first()
    )
    if invitation is not None and not verified:
        raise SignInFailed(Reason.UNVERIFIED, f"unverified email of invitation {invitation.pk}")
    user = User(username=_free_username(claims, email), email=email)
    user.set_unusable_password()  # signs in through the provider only
    user.save()
    detail = {"via": "single sign-on"}
    if invitation is not None:
        invitation.accepted_at = timezone.now()
        invitation.user = user
        invitation.save(update_fields=["accepted_at", "user"])
        invited_by = invitation.invited_by
        detail["invited_by"] = invited_by.get_username() if invited_by else ""
        if invitation.name and not (claims.get("name") or claims.get("given_name")):
            user.first_name, _, user.last_name = invitation.name.partition(" ")
            user.save(update_fields=["first_name", "last_name"])
    PeopleEvent.objects.create(
        action=PeopleEvent.Action.JOINED, actor=user, target_user=user.username, detail=detail
    )
    return user


def _free_username(claims: dict, email: str) -> str:
    wanted = str(claims.get("preferred_username") or "") or email.split("@")[0]
    base = NOT_IN_USERNAME.sub("", wanted)[: USERNAME_MAX - 4] or "user"
    candidate, number = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def _teams_sync(identity: Identity, groups) -> None:
    """Put the person in the teams their groups name (by name, ignoring case and spaces).

    Groups without a team of that name are ignored: single sign-on never creates teams. A
    group that the last sign-in's claim had and this one lacks takes the person out of its
    team; teams that no claim of theirs named (added by staff) are left alone. Changes go to
    the staff log with no actor.
    """
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list):
        return
    keys = sorted({name_key(str(group)) for group in groups if str(group).strip()})
    user = identity.user
    teams = Team.objects.filter(name_key__in=keys).exclude(memberships__user=user)
    for team in teams:
        team_member_add(team=team, user=user, actor=None)
    dropped = set(identity.team_keys) - set(keys)
    if dropped:
        left = Team.objects.filter(name_key__in=dropped, memberships__user=user)
        for team in left:
            team_member_remove(team=team, user=user, actor=None)
    identity.team_keys = keys


def _update_names(user: User, claims: dict) -> None:
    """The provider is where people's names are kept: take them at every sign-in."""
    first = str(claims.get("given_name") or "")
    last = str(claims.get("family_name") or "")
    if not (first or last) and claims.get("name"):
        first, _, last = str(claims["name"]).strip().partition(" ")
    first, last = first[:150], last[:150]
    if (first or last) and (user.first_name, user.last_name) != (first, last):
        user.first_name, user.last_name = first, last
        user.save(update_fields=["first_name", "last_name"])
