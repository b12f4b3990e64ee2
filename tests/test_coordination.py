"""The coordinator's locks and event relay, in one process and in the real Redis: both
forms lock, expire and deliver alike (only Redis reaches other workers)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator

import pytest

from delphos.coordination import (
    Coordinator,
    MemoryCoordinator,
    RedisCoordinator,
    ResilientCoordinator,
    build_coordinator,
)
from delphos.settings import Settings
from tests.support.fixtures.cache import delete_prefix
from tests.support.redisserver import PrivateRedis

# Not a performance assertion: only "the call came back instead of hanging".
HANG_GUARD = 10.0


def lock_name() -> str:
    return f"clinic-a:{uuid.uuid4().hex}"


async def test_lock_acquire_contend_unlock(coordinator: Coordinator) -> None:
    name = lock_name()
    token = await coordinator.try_lock(name, ttl_seconds=30)
    assert token

    assert await coordinator.try_lock(name, ttl_seconds=30) is None, "held: nobody else"
    await coordinator.unlock(name, "not-the-holder")
    assert await coordinator.try_lock(name, ttl_seconds=30) is None

    await coordinator.unlock(name, token)
    again = await coordinator.try_lock(name, ttl_seconds=30)
    assert again is not None
    assert again != token


async def test_lock_expires_and_a_late_unlock_keeps_the_new_holder(
    coordinator: Coordinator,
) -> None:
    name = lock_name()
    first = await coordinator.try_lock(name, ttl_seconds=0.2)
    assert first is not None

    await asyncio.sleep(0.5)
    second = await coordinator.try_lock(name, ttl_seconds=30)
    assert second is not None

    await coordinator.unlock(name, first)  # the first holder finishing late
    assert await coordinator.try_lock(name, ttl_seconds=30) is None
    assert await coordinator.lock_owner(name) == second


async def test_only_the_holder_extends_a_lock_and_its_owner_is_visible(
    coordinator: Coordinator,
) -> None:
    name = lock_name()
    token = await coordinator.try_lock(name, ttl_seconds=0.3)
    assert token is not None
    assert await coordinator.lock_owner(name) == token
    assert not await coordinator.extend_lock(name, "not-the-holder", 30)
    assert await coordinator.extend_lock(name, token, 30)

    await asyncio.sleep(0.5)  # past the first time to live: the extension holds it

    assert await coordinator.lock_owner(name) == token
    await coordinator.unlock(name, token)
    assert await coordinator.lock_owner(name) is None
    assert not await coordinator.extend_lock(name, token, 30), "a released lock stays released"


async def test_published_events_replay_from_the_start_in_order(
    coordinator: Coordinator,
) -> None:
    stream = uuid.uuid4().hex
    # The data is published as its JSON bytes and read back as exactly those bytes.
    sent: list[tuple[str, bytes]] = [
        ("status", b'{"type":"generating"}'),
        ("partial", '{"subjective":"Patiënt — “hoofdpijn”","completeness":{"s":false}}'.encode()),
        ("soap", b'{"soap_hash":"' + b"a" * 64 + b'","cached":false}'),
    ]
    for name, data in sent:
        await coordinator.publish_event(stream, name, data, ttl_seconds=60)

    everything = await coordinator.read_events(stream, "0", block_seconds=0.1)

    assert everything is not None
    assert [(e.name, e.data) for e in everything] == sent
    later = await coordinator.read_events(stream, everything[1].id, block_seconds=0.1)
    assert later is not None
    assert [(e.name, e.data) for e in later] == sent[2:]
    assert await coordinator.read_events(stream, everything[-1].id, block_seconds=0.05) == []
    assert await coordinator.read_events(uuid.uuid4().hex, "0", block_seconds=0.05) == []


async def test_a_waiting_reader_gets_the_event_published_meanwhile(
    coordinator: Coordinator,
) -> None:
    stream = uuid.uuid4().hex

    async def publish_soon() -> None:
        await asyncio.sleep(0.05)
        await coordinator.publish_event(uuid.uuid4().hex, "status", b'{"other":true}', 60)
        await coordinator.publish_event(stream, "status", b'{"type":"generating"}', 60)

    publisher = asyncio.create_task(publish_soon())
    # Well beyond the publish: the read ends with the event, not at its time limit (the
    # Redis form caps one blocking read at half its timeout, 2.5 s here).
    read = await asyncio.wait_for(coordinator.read_events(stream, "0", 2.0), HANG_GUARD)
    await publisher

    assert read is not None
    assert [(e.name, e.data) for e in read] == [("status", b'{"type":"generating"}')]


async def test_a_stream_expires_after_its_last_event(coordinator: Coordinator) -> None:
    stream = uuid.uuid4().hex
    await coordinator.publish_event(stream, "status", b'{"type":"generating"}', ttl_seconds=0.3)

    await asyncio.sleep(0.6)

    assert await coordinator.read_events(stream, "0", block_seconds=0) == []


async def test_build_without_redis_is_in_process() -> None:
    coordinator = build_coordinator(Settings(redis_url=None))
    assert isinstance(coordinator, MemoryCoordinator)
    assert not coordinator.shared


async def test_build_with_redis_is_shared_between_workers(redis_server_url: str) -> None:
    prefix = f"delphos-test-{uuid.uuid4().hex}"
    settings = Settings(redis_url=redis_server_url, redis_prefix=prefix)
    first, second = build_coordinator(settings), build_coordinator(settings)
    try:
        assert isinstance(first, ResilientCoordinator)
        assert first.shared
        name = lock_name()
        token = await first.try_lock(name, ttl_seconds=30)
        # A second worker (another coordinator object) sees the lock and its holder.
        assert await second.try_lock(name, ttl_seconds=30) is None
        assert await second.lock_owner(name) == token
    finally:
        await first.aclose()
        await second.aclose()
        await delete_prefix(redis_server_url, prefix)


@pytest.fixture
async def resilient(private_redis: PrivateRedis) -> AsyncIterator[ResilientCoordinator]:
    coordinator = ResilientCoordinator(RedisCoordinator(private_redis.url, "fault", timeout=0.2))
    yield coordinator
    await coordinator.aclose()


async def test_killed_redis_lets_each_worker_work_alone_and_recovers(
    resilient: ResilientCoordinator,
    private_redis: PrivateRedis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="delphos.coordination")
    assert await resilient.try_lock("held", 30) is not None

    await asyncio.to_thread(private_redis.kill)

    for _ in range(5):
        # Fail open: this worker generates rather than wait for nobody.
        token = await asyncio.wait_for(resilient.try_lock("held", 5), HANG_GUARD)
        assert token
        assert not await asyncio.wait_for(resilient.extend_lock("held", token, 5), HANG_GUARD)
        assert await asyncio.wait_for(resilient.lock_owner("held"), HANG_GUARD) is None
        await asyncio.wait_for(resilient.unlock("held", token), HANG_GUARD)
        await asyncio.wait_for(resilient.publish_event("s", "status", b"{}", 60), HANG_GUARD)
        assert await asyncio.wait_for(resilient.read_events("s", "0", 0.1), HANG_GUARD) is None
    assert not resilient.available
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "ConnectionError" in warnings[0].getMessage()

    await asyncio.to_thread(private_redis.start)  # same port, empty server

    token = await resilient.try_lock("held", 30)
    assert token is not None
    assert await resilient.lock_owner("held") == token
    assert resilient.available
    assert "answers again" in caplog.text
    assert private_redis.password not in caplog.text
