"""Login throttling with one limit per kind of attack (django-axes' AXES_HANDLER).

Axes counts failed logins per lockout parameter (LOGIN_FAILURE_LIMITS' keys) but compares every
count with one AXES_FAILURE_LIMIT. Guessing one account's password from one address deserves
a lower limit than a username tried from many addresses (someone's account under attack) or
many usernames from one address (password spraying, or an office behind one address). So each
count is scaled to the pair's limit before axes compares it: 10 failures for one username,
against a limit of 20 there and 5 for the pair, count as 2.5 pair failures.
"""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


class ScaledLimitsHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials: dict | None = None) -> int:
        counts = [
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]
        limits = list(settings.LOGIN_FAILURE_LIMITS.values())
        pair_limit = settings.AXES_FAILURE_LIMIT
        # Whole pair-failures, rounded down, so a count reaches the pair's limit exactly when it
        # reaches its own.
        return max(count * pair_limit // limit for count, limit in zip(counts, limits, strict=True))

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """A successful login forgives that username at that address, and nothing wider.

        Axes would also clear every failure from the address and for the username, so an
        attacker with an account of their own could sign in now and then to keep spraying.
        """
        username = get_client_username(request, credentials)
        attempts = AccessAttempt.objects.filter(
            username=username, ip_address=request.axes_ip_address
        )
        count, _ = attempts.delete()
        return count
