"""The cache shared by several web nodes: Django's Redis cache, made to miss while Redis is away.

Everything Archlens caches can be computed again, and Redis is also the task queue, whose
outage must leave pages, ticks and downloads working (README, "Load and fault tests"). So a
cache operation that cannot reach Redis behaves like a miss: reads return the default, writes
are dropped, and `incr` raises ValueError as for a missing key. After a failure the cache
stays away from Redis for RETRY_AFTER seconds, so a Redis that hangs costs a request one socket
timeout and not one per cache call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError, TimeoutError

logger = logging.getLogger(__name__)

RETRY_AFTER = 5.0
T = TypeVar("T")


class SharedRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._away_until = 0.0

    def _or_miss(self, miss: T, operation: Callable[..., T], *args: Any) -> T:
        if time.monotonic() < self._away_until:
            return miss
        try:
            return operation(*args)
        except (ConnectionError, TimeoutError) as exc:
            self._away_until = time.monotonic() + RETRY_AFTER
            logger.warning("cache: Redis unavailable (%s); missing for %s s", exc, RETRY_AFTER)
            return miss

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._or_miss(False, super().add, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._or_miss(default, super().get, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._or_miss(None, super().set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._or_miss(False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._or_miss(False, super().delete, key, version)

    def get_many(self, keys, version=None):
        return self._or_miss({}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._or_miss(False, super().has_key, key, version)

    def incr(self, key, delta=1, version=None):
        missing = object()
        value = self._or_miss(missing, super().incr, key, delta, version)
        if value is missing:
            raise ValueError(f"Key '{key}' not found (the cache is unavailable).")
        return value

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        # The keys that were not stored: all of them while Redis is away.
        return self._or_miss(list(data), super().set_many, data, timeout, version)

    def delete_many(self, keys, version=None):
        self._or_miss(None, super().delete_many, keys, version)

    def clear(self):
        return self._or_miss(False, super().clear)
