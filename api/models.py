"""API keys and the remembered results of idempotent calls."""

from __future__ import annotations

from django.conf import settings
from django.db import models

MAX_ACTIVE_KEYS = 2  # two, so that a key can be rotated without a moment without one


class ApiKeyQuerySet(models.QuerySet):
    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """An access key id of a user's; its secret is derived, never stored (api.keys)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    access_key_id = models.CharField(max_length=20, unique=True)
    salt = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.access_key_id} ({self.user})"


class IdempotentCall(models.Model):
    """The result of a call that carried a ClientRequestToken, to answer its retries with."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    operation = models.CharField(max_length=64)
    token = models.CharField(max_length=2048)
    input_digest = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "operation", "token"], name="one_result_per_request_token"
            )
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.token[:16]}"
