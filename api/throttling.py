"""A limit on requests per key, so one runaway script cannot take the server from everyone.

A fixed one-second window in the cache (Redis when configured, so every web process counts
together). AWS SDKs back off and retry on ThrottlingException by themselves.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from api.errors import ApiError


def throttle(access_key_id: str) -> None:
    rate = settings.API_RATE_PER_SECOND
    if rate <= 0:
        return
    window = f"archlens-api-rate:{access_key_id}:{int(time.time())}"
    cache.add(window, 0, timeout=5)
    try:
        count = cache.incr(window)
    except ValueError:  # the window expired between add and incr
        count = 1
    if count > rate:
        raise ApiError(
            "ThrottlingException",
            429,
            f"Rate exceeded: at most {rate} requests per second per key.",
            ServiceCode="wellarchitected",
        )
