"""Rate limits live in Redis when REDIS_URL is set, so every worker shares them."""

import importlib
import socket

import pytest


def redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


def test_without_redis_url_limits_are_kept_in_memory(monkeypatch):
    import config

    monkeypatch.delenv("REDIS_URL", raising=False)
    importlib.reload(config)
    assert config.Config.RATELIMIT_STORAGE_URI == "memory://"


@pytest.mark.skipif(not redis_up(), reason="Redis rate-limit storage: no Redis answered at 127.0.0.1:6379")
def test_with_redis_url_limits_are_kept_in_redis(monkeypatch):
    from limits import parse
    from limits.storage import storage_from_string
    from limits.strategies import FixedWindowRateLimiter

    import config

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        importlib.reload(config)
        uri = config.Config.RATELIMIT_STORAGE_URI
        assert uri == "redis://127.0.0.1:6379/15"
        storage = storage_from_string(uri)
        assert storage.check()
        storage.reset()
        limiter = FixedWindowRateLimiter(storage)
        login_limit = parse("5 per minute")
        results = [limiter.hit(login_limit, "login", "127.0.0.1") for _ in range(6)]
        assert results == [True] * 5 + [False]
        # A second worker (another storage client) sees the same count.
        assert not FixedWindowRateLimiter(storage_from_string(uri)).hit(login_limit, "login", "127.0.0.1")
        storage.reset()
    finally:
        monkeypatch.delenv("REDIS_URL", raising=False)
        importlib.reload(config)
