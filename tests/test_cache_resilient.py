"""A Redis outage costs cache hits, never requests; the cache comes back by itself.

Each test breaks a private redis-server of its own (tests/support/redisserver.py), never the
shared Redis on 6379.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from delphos.cache import CacheHit, RedisCache, ResilientCache
from tests.support.fixtures.cache import make_entry
from tests.support.redisserver import PrivateRedis

TENANT = "clinic-a"
CONSULTATION = "consult-1"
REDIS_TIMEOUT = 0.2
# Not a performance assertion: only "the call came back instead of hanging". Generous,
# because the machine is shared; the real bound is 2 x REDIS_TIMEOUT.
HANG_GUARD = 10.0


@pytest.fixture
async def resilient(private_redis: PrivateRedis) -> AsyncIterator[ResilientCache]:
    cache = ResilientCache(
        RedisCache(private_redis.url, prefix="fault", ttl_seconds=60, timeout=REDIS_TIMEOUT)
    )
    yield cache
    await cache.aclose()


async def lookup(cache: ResilientCache, text: str) -> CacheHit | None:
    return await asyncio.wait_for(
        cache.lookup(TENANT, CONSULTATION, text=text, max_delta=5),
        HANG_GUARD,
    )


async def test_killed_redis_degrades_to_misses_and_recovers_without_a_new_cache(
    resilient: ResilientCache,
    private_redis: PrivateRedis,
    consultations: list[tuple[str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="delphos.cache")
    text, note = consultations[0]
    entry = make_entry(text, note)
    await resilient.store(TENANT, CONSULTATION, entry)
    assert await lookup(resilient, text) is not None
    assert (await resilient.health()).ok

    await asyncio.to_thread(private_redis.kill)

    for _ in range(10):
        assert await lookup(resilient, text) is None
        await asyncio.wait_for(resilient.store(TENANT, CONSULTATION, entry), HANG_GUARD)
    health = await resilient.health()
    assert not health.ok
    assert "ConnectionError" in health.detail

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "ConnectionError" in warnings[0].getMessage()

    await asyncio.to_thread(private_redis.start)  # same port, empty server

    assert (await resilient.health()).ok
    await resilient.store(TENANT, CONSULTATION, entry)
    hit = await lookup(resilient, text)
    assert hit is not None
    assert hit.payload == entry.payload

    # Nothing secret or clinical was logged or reported along the way.
    reported = caplog.text + health.detail
    assert private_redis.password
    assert private_redis.password not in reported
    assert text.splitlines()[0] not in reported
    assert "answers again" in caplog.text


async def test_hung_redis_is_bounded_by_the_timeout(
    resilient: ResilientCache,
    private_redis: PrivateRedis,
    consultations: list[tuple[str, str]],
) -> None:
    text, note = consultations[0]
    entry = make_entry(text, note)
    await resilient.store(TENANT, CONSULTATION, entry)

    private_redis.pause()
    try:
        assert await lookup(resilient, text) is None
        await asyncio.wait_for(resilient.store(TENANT, CONSULTATION, entry), HANG_GUARD)
        health = await asyncio.wait_for(resilient.health(), HANG_GUARD)
        assert not health.ok
    finally:
        private_redis.resume()

    assert (await resilient.health()).ok
    hit = await lookup(resilient, text)
    assert hit is not None
    assert hit.reason == "exact"


async def test_restart_between_requests_is_invisible(
    resilient: ResilientCache,
    private_redis: PrivateRedis,
    consultations: list[tuple[str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="delphos.cache")
    text, note = consultations[0]
    entry = make_entry(text, note)
    await resilient.store(TENANT, CONSULTATION, entry)
    assert await lookup(resilient, text) is not None

    # The pooled connection now points at a dead server; the next command reconnects.
    await asyncio.to_thread(private_redis.kill)
    await asyncio.to_thread(private_redis.start)

    await resilient.store(TENANT, CONSULTATION, entry)
    assert await lookup(resilient, text) is not None
    assert resilient.available
    assert caplog.records == []
