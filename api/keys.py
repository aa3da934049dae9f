"""Issuing and revoking API keys.

SigV4 needs the secret itself to check a signature, so a hash of it would not do. Instead the
secret is derived from the server's SECRET_KEY and a per-key salt: the database alone gives
nothing away, and changing SECRET_KEY invalidates every key (as it ends every session).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from api.models import MAX_ACTIVE_KEYS, ApiKey
from reviews.errors import NOT_FOUND, QUOTA, DomainError

KEY_ID_PREFIX = "AKAL"  # "AK" as AWS's long-term keys, "AL" for Archlens
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


class ApiKeyError(DomainError):
    """A key that cannot be created or revoked."""


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str  # shown once, to the person who created the key


def key_secret(key: ApiKey) -> str:
    """The 40-character secret access key of `key`."""
    message = f"archlens-api-key|{key.access_key_id}|{key.salt}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest[:30]).decode()


@transaction.atomic
def api_key_create(*, user: AbstractBaseUser) -> IssuedKey:
    """A new key for `user`, who may hold MAX_ACTIVE_KEYS active keys at once."""
    # The user's row lock makes two simultaneous requests count each other's keys.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    if ApiKey.objects.active().filter(user=user).count() >= MAX_ACTIVE_KEYS:
        raise ApiKeyError(
            f"You have {MAX_ACTIVE_KEYS} active keys already: revoke one before creating another.",
            QUOTA,
        )
    key_id = KEY_ID_PREFIX + "".join(secrets.choice(_BASE32) for _ in range(16))
    key = ApiKey.objects.create(user=user, access_key_id=key_id, salt=secrets.token_hex(16))
    return IssuedKey(key=key, secret=key_secret(key))


@transaction.atomic
def api_key_revoke(*, user: AbstractBaseUser, access_key_id: str) -> ApiKey:
    key = ApiKey.objects.active().filter(user=user, access_key_id=access_key_id).first()
    if key is None:
        raise ApiKeyError("No such active key.", NOT_FOUND)
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    return key
