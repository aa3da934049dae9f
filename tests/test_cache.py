"""The cache: process memory by default, Redis shared by every web node with CACHE_URL.

Tests that need Redis use the one at TEST_REDIS_URL (default redis://127.0.0.1:6379/10), each
under a key prefix of its own, and skip when it does not answer.
"""

import os
import socket
import time
import uuid

import pytest
import redis
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured

from api.errors import ApiError
from api.throttling import throttle
from config.cache import SharedRedisCache
from config.settings import cache_settings

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/10")


def node(url: str, prefix: str) -> SharedRedisCache:
    """The cache one web process builds from CACHE_URL."""
    params = cache_settings({"CACHE_URL": url, "CACHE_KEY_PREFIX": prefix})["default"]
    return SharedRedisCache(params["LOCATION"], params)


@pytest.fixture
def redis_url() -> str:
    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {TEST_REDIS_URL} ({exc})")
    return TEST_REDIS_URL


@pytest.fixture
def prefix() -> str:
    return f"archlens-test-{uuid.uuid4().hex[:12]}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_with_nothing_configured_the_cache_is_in_process_memory(settings):
    assert cache_settings({}) == {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }
    if not os.environ.get("CACHE_URL"):
        assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")


def test_a_cache_url_selects_the_shared_redis_cache():
    config = cache_settings({"CACHE_URL": "redis://:secret@redis:6379/1"})["default"]

    assert config["BACKEND"] == "config.cache.SharedRedisCache"
    assert config["LOCATION"] == "redis://:secret@redis:6379/1"
    assert config["KEY_PREFIX"] == "archlens"


def test_a_cache_url_that_is_not_redis_is_refused_without_showing_the_url():
    with pytest.raises(ImproperlyConfigured, match="memcached://") as refused:
        cache_settings({"CACHE_URL": "memcached://user:secret@cache:11211"})

    assert "secret" not in str(refused.value)


def test_two_web_nodes_see_what_the_other_cached(redis_url, prefix):
    one, other = node(redis_url, prefix), node(redis_url, prefix)

    one.set("render:question-7:v3", "<section>…</section>", timeout=30)
    one.add("counter", 0, timeout=30)
    one.incr("counter")
    other.incr("counter", 2)

    assert other.get("render:question-7:v3") == "<section>…</section>"
    assert one.get("counter") == 3
    assert node(redis_url, "another-app").get("render:question-7:v3") is None


def test_the_api_rate_limit_counts_in_redis(redis_url, prefix, settings):
    settings.CACHES = cache_settings({"CACHE_URL": redis_url, "CACHE_KEY_PREFIX": prefix})
    settings.API_RATE_PER_SECOND = 3

    for _ in range(3):  # the four calls must fall into one one-second window
        # A key of its own each time: a try that crossed into the next second counted there.
        key = f"AKIA{uuid.uuid4().hex[:16].upper()}"
        second = int(time.time())
        answers = []
        for _ in range(4):
            try:
                throttle(key)
                answers.append("ok")
            except ApiError as refused:
                answers.append(refused.error_type)
        if int(time.time()) == second:
            break
    assert answers == ["ok", "ok", "ok", "ThrottlingException"]
    assert isinstance(caches["default"], SharedRedisCache)
    assert redis.Redis.from_url(redis_url).keys(f"{prefix}:*archlens-api-rate:{key}:*")


def test_a_redis_that_refuses_connections_turns_the_cache_into_misses(prefix):
    down = node(f"redis://127.0.0.1:{free_port()}/0", prefix)

    down.set("key", "value")
    assert down.get("key", "default") == "default"
    assert down.add("key", "value") is False
    assert down.get_many(["key"]) == {}
    assert down.set_many({"a": 1, "b": 2}) == ["a", "b"]
    assert down.get_or_set("key", lambda: "computed") == "computed"
    with pytest.raises(ValueError):
        down.incr("key")


def test_the_api_rate_limit_lets_requests_through_while_redis_is_down(prefix, settings):
    url = f"redis://127.0.0.1:{free_port()}/0"
    settings.CACHES = cache_settings({"CACHE_URL": url, "CACHE_KEY_PREFIX": prefix})
    settings.API_RATE_PER_SECOND = 1

    for _ in range(3):
        throttle("AKIAEXAMPLE")


def test_a_redis_that_never_answers_costs_one_timeout_and_is_then_left_alone(prefix):
    with socket.socket() as silent:
        # Accepts connections (the kernel does) and never answers.
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        hung = node(f"redis://127.0.0.1:{silent.getsockname()[1]}/0", prefix)

        started = time.monotonic()
        assert hung.get("key") is None
        first = time.monotonic() - started
        started = time.monotonic()
        for _ in range(50):
            assert hung.get("key") is None
        after = time.monotonic() - started

    assert 0.5 < first < 3
    assert after < 0.1
