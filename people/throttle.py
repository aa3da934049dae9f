"""Counting requests per key in the cache, for actions that send mail to an address."""

from __future__ import annotations

from hashlib import sha256

from django.core.cache import cache


def throttle_allows(scope: str, key: str, *, limit: int, seconds: int) -> bool:
    """Count one more request for `key` in this window; False once there were `limit` already.

    A fixed window: the count starts when the first request comes and ends `seconds` later.
    The key is hashed, so addresses are not kept in the cache in plain text.
    """
    name = f"throttle:{scope}:{sha256(key.encode()).hexdigest()}"
    cache.add(name, 0, timeout=seconds)
    try:
        count = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.set(name, 1, timeout=seconds)
        count = 1
    return count <= limit
