"""The cache-hit path's own Redis GET (delphos/cache/redis_get.py) answers every caller
with its own value: many requests share one pipelined socket, so a reply handed to the
wrong waiter would show one consultation's note to another. Against the real Redis."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator

import pytest
import uvloop
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from delphos.cache.redis_get import RedisGet, _reply, supports
from tests.support.redisserver import PrivateRedis


@pytest.fixture
async def keys(redis_server_url: str) -> AsyncIterator[tuple[Redis, str]]:
    """A redis-py client of the shared Redis and a key prefix of this test's own."""
    client = Redis.from_url(redis_server_url)
    prefix = f"delphos-test-get-{uuid.uuid4().hex}"
    yield client, prefix
    found = [key async for key in client.scan_iter(match=f"{prefix}:*", count=500)]
    if found:
        await client.delete(*found)
    await client.aclose()


async def test_concurrent_gets_each_receive_their_own_value(
    redis_server_url: str, keys: tuple[Redis, str]
) -> None:
    client, prefix = keys
    rng = random.Random(7)
    # Sizes from nothing to values far larger than one socket read, and missing keys.
    values: dict[str, bytes | None] = {}
    for i in range(300):
        size = rng.choice((0, 1, 90, 7_000, 70_000, 400_000))
        key = f"{prefix}:{i}"
        if i % 7 == 3:
            values[key] = None
            continue
        values[key] = (b"%d|" % i) * (size // 4 + 1)
        await client.set(key, values[key])  # type: ignore[arg-type]

    getter = RedisGet(redis_server_url, timeout=5.0)
    try:
        order = list(values)
        rng.shuffle(order)
        answers = await asyncio.gather(*(getter.get(key) for key in order))
        assert dict(zip(order, answers, strict=True)) == values
    finally:
        await getter.aclose()


async def test_a_caller_that_leaves_does_not_shift_the_replies_of_the_others(
    redis_server_url: str, keys: tuple[Redis, str]
) -> None:
    client, prefix = keys
    for i in range(200):
        await client.set(f"{prefix}:{i}", b"value-%d" % i * (i * 50 + 1))
    getter = RedisGet(redis_server_url, timeout=5.0)
    try:
        assert await getter.get(f"{prefix}:0") is not None  # the connection is open
        tasks = [asyncio.create_task(getter.get(f"{prefix}:{i}")) for i in range(200)]
        await asyncio.sleep(0)  # all sent, none answered yet
        for i in range(0, 200, 3):
            tasks[i].cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for i, result in enumerate(results):
            if i % 3 == 0:
                assert isinstance(result, asyncio.CancelledError)
            else:
                assert result == b"value-%d" % i * (i * 50 + 1)
        # The connection is still in step afterwards.
        assert await getter.get(f"{prefix}:5") == b"value-5" * 251
    finally:
        await getter.aclose()


def test_it_runs_on_uvloop_as_uvicorn_serves(redis_server_url: str) -> None:
    async def roundtrip() -> bytes | None:
        key = f"delphos-test-get-{uuid.uuid4().hex}:k"
        client = Redis.from_url(redis_server_url)
        getter = RedisGet(redis_server_url, timeout=5.0)
        try:
            await client.set(key, b"on uvloop", px=60_000)
            return await getter.get(key)
        finally:
            await getter.aclose()
            await client.delete(key)
            await client.aclose()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(roundtrip()) == b"on uvloop"


async def test_the_url_selects_the_database(redis_server_url: str) -> None:
    key = f"delphos-test-get-{uuid.uuid4().hex}:k"
    db1 = redis_server_url.rsplit("/", 1)[0] + "/1"
    client = Redis.from_url(db1)
    getter0 = RedisGet(redis_server_url, timeout=5.0)
    getter1 = RedisGet(db1, timeout=5.0)
    try:
        await client.set(key, b"in db 1", px=60_000)
        assert await getter1.get(key) == b"in db 1"
        assert await getter0.get(key) is None
    finally:
        await getter0.aclose()
        await getter1.aclose()
        await client.delete(key)
        await client.aclose()


async def test_a_password_protected_server_is_read_with_the_urls_password(
    private_redis: PrivateRedis,
) -> None:
    assert private_redis.password is not None
    client = Redis.from_url(private_redis.url)
    await client.set("k", b"behind a password")
    await client.aclose()
    getter = RedisGet(private_redis.url, timeout=5.0)
    try:
        assert await getter.get("k") == b"behind a password"
    finally:
        await getter.aclose()

    wrong = private_redis.url.replace(private_redis.password, "not-the-password")
    for url in (wrong, f"redis://127.0.0.1:{private_redis.port}/0"):
        getter = RedisGet(url, timeout=5.0)
        try:
            with pytest.raises(ResponseError) as refused:
                await getter.get("k")
            # The server's kind of refusal, never a secret.
            assert private_redis.password not in str(refused.value)
            assert "not-the-password" not in str(refused.value)
        finally:
            await getter.aclose()


def test_urls_it_cannot_read_as_redis_py_would_stay_on_redis_py() -> None:
    assert supports("redis://127.0.0.1:6379/0")
    assert supports("redis://:secret@redis:6379")
    assert supports("redis://user:secret@redis:6379/3")
    assert not supports("rediss://redis:6379/0")  # TLS
    assert not supports("unix:///run/redis.sock")
    assert not supports("redis://redis:6379/0?protocol=3")
    assert not supports("redis://redis:6379/zero")


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        (b"$5\r\nhello\r\n", (b"hello", 11)),
        (b"$0\r\n\r\n", (b"", 6)),
        (b"$-1\r\n", (None, 5)),
        (b"+OK\r\n", (b"OK", 5)),
        (b"$5\r\nhel", None),  # the value has not all arrived
        (b"$5\r\nhello", None),  # nor its terminator
        (b"$12", None),  # nor the header
    ],
)
def test_replies_are_read_only_once_whole(
    stream: bytes, expected: tuple[bytes | None, int] | None
) -> None:
    assert _reply(bytearray(stream), 0) == expected


def test_an_error_reply_keeps_only_its_kind() -> None:
    parsed = _reply(bytearray(b"-WRONGPASS invalid username-password pair\r\n"), 0)
    assert parsed is not None
    failed, end = parsed
    assert end == 43
    assert isinstance(failed, Exception)
    assert failed.args == ("WRONGPASS",)


@pytest.mark.parametrize("junk", [b":12\r\n", b"*1\r\n", b"$x\r\n", b"A" * 600])
def test_bytes_that_are_not_a_reply_are_refused(junk: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011  (the connection is closed on any)
        _reply(bytearray(junk), 0)
