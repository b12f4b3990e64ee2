"""Redis as an optimisation, never as a dependency: a Redis outage degrades to misses.

Every operation on the wrapped :class:`RedisCache` is bounded by a deadline and its Redis
errors are absorbed (the deadline is kept by one shared watchdog timer, not a timer per call:
see :class:`Deadlines`):

- ``lookup`` -> None (a miss: the note is generated as if nothing were cached),
- ``store`` -> dropped,
- ``try_lock`` -> a token (fail open: coalescing falls back to in-process only),
- ``unlock`` -> nothing,
- ``extend_lock`` -> False, ``lock_owner`` -> None (as if the lock had expired),
- ``publish_event`` -> dropped, ``read_events`` -> None (the reader generates itself).

A warning names the exception class (never its message, which may hold an address with
credentials, and never patient text) at most once per ``warn_interval``. Nothing has to
be restarted when Redis answers again: redis-py replaces the dead pooled connections (see
the retry policy in :mod:`delphos.cache.redis_store`) and the next operation succeeds.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.exceptions import RedisError

from delphos.cache.redis_store import RedisCache
from delphos.cache.store import CacheEntry, CacheHealth, CacheHit, StreamEvent

__all__ = ["ResilientCache"]

logger = logging.getLogger("delphos.cache")

T = TypeVar("T")

# OSError covers the builtin TimeoutError raised by the deadline below and socket errors
# that surface unwrapped.
_REDIS_FAILURES: tuple[type[BaseException], ...] = (RedisError, OSError)


class _Running:
    __slots__ = ("expired", "expires_at", "task")

    def __init__(self, task: asyncio.Task[Any], expires_at: float) -> None:
        self.task = task
        self.expires_at = expires_at
        self.expired = False


class Deadlines:
    """Bounds operations by a deadline with ONE periodic timer for all of them.

    ``asyncio.timeout`` arms and disarms a timer per call (a heap push, a cancelled handle
    for the loop to sift out): on the cache-hit path, a measurable part of a request. Here
    a call costs two dictionary operations; a sweep every quarter deadline, only while calls
    are running, cancels those past it, which then raise TimeoutError as with
    ``asyncio.timeout`` (an operation is cut between 1 and 1.25 deadlines after it began).
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._running: dict[object, _Running] = {}
        # The pending sweep and its loop (a cache outliving one event loop, as in tests,
        # must not wait for a sweep that a closed loop will never run).
        self._sweep: asyncio.TimerHandle | None = None
        self._sweep_loop: asyncio.AbstractEventLoop | None = None

    async def run(self, operation: Callable[[], Awaitable[T]]) -> T:
        task = asyncio.current_task()
        if task is None:  # not inside a task (never in the app): nothing to cancel
            return await operation()
        loop = task.get_loop()
        token = object()
        entry = _Running(task, loop.time() + self.seconds)
        self._running[token] = entry
        if self._sweep is None or self._sweep_loop is not loop:
            self._sweep_loop = loop
            self._sweep = loop.call_later(self.seconds / 4, self._expire, loop)
        try:
            return await operation()
        except asyncio.CancelledError:
            # Our cancellation (and nobody else's): a timeout, as asyncio.timeout says it.
            if entry.expired and task.uncancel() == 0:
                raise TimeoutError from None
            raise
        finally:
            del self._running[token]

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._sweep = None
        now = loop.time()
        for entry in self._running.values():
            if not entry.expired and entry.expires_at <= now and entry.task.get_loop() is loop:
                entry.expired = True
                entry.task.cancel()
        if self._running:
            self._sweep = loop.call_later(self.seconds / 4, self._expire, loop)


class ResilientCache:
    def __init__(
        self,
        inner: RedisCache,
        *,
        warn_interval: float = 30.0,
        deadline: float | None = None,
    ) -> None:
        self.kind = inner.kind
        self.shared = inner.shared
        self._inner = inner
        self._warn_interval = warn_interval
        # The deadline bounds every operation (two round trips on the delta path, one
        # reconnect attempt each), so a hung Redis costs a request at most this long. The
        # client has no per-socket read timeout of its own (see RedisCache): this is it.
        self._deadline = deadline if deadline is not None else 2 * inner.timeout
        self._deadlines = Deadlines(self._deadline)
        self._last_warning_at: float | None = None
        self._last_error: str | None = None  # exception class name while Redis is down

    @property
    def available(self) -> bool:
        """False from a failed operation until the next successful one."""
        return self._last_error is None

    async def _call(self, operation: Callable[[], Awaitable[T]], fallback: T) -> T:
        try:
            result = await self._deadlines.run(operation)
        except _REDIS_FAILURES as exc:
            self._record_failure(exc)
            return fallback
        if self._last_error is not None:
            logger.info("Redis note cache at %s answers again", self._inner.location)
            self._last_error = None
        return result

    def _record_failure(self, exc: BaseException) -> None:
        self._last_error = type(exc).__name__
        now = time.monotonic()
        if self._last_warning_at is not None and now - self._last_warning_at < self._warn_interval:
            return
        self._last_warning_at = now
        logger.warning(
            "Redis note cache at %s unavailable (%s); serving without it until it answers",
            self._inner.location,
            self._last_error,
        )

    async def lookup(
        self,
        tenant_id: str,
        consultation_id: str,
        *,
        text: str,
        max_delta: int,
    ) -> CacheHit | None:
        return await self._call(
            lambda: self._inner.lookup(tenant_id, consultation_id, text=text, max_delta=max_delta),
            None,
        )

    async def store(self, tenant_id: str, consultation_id: str, entry: CacheEntry) -> None:
        await self._call(lambda: self._inner.store(tenant_id, consultation_id, entry), None)

    async def try_lock(self, name: str, ttl_seconds: float) -> str | None:
        # The fallback token is never in Redis, so unlocking it later is a harmless no-op
        # even if Redis is back by then.
        return await self._call(
            lambda: self._inner.try_lock(name, ttl_seconds), secrets.token_hex(16)
        )

    async def unlock(self, name: str, token: str) -> None:
        await self._call(lambda: self._inner.unlock(name, token), None)

    async def extend_lock(self, name: str, token: str, ttl_seconds: float) -> bool:
        return await self._call(lambda: self._inner.extend_lock(name, token, ttl_seconds), False)

    async def lock_owner(self, name: str) -> str | None:
        return await self._call(lambda: self._inner.lock_owner(name), None)

    async def publish_event(
        self, stream: str, name: str, data_json: bytes, ttl_seconds: float
    ) -> None:
        await self._call(
            lambda: self._inner.publish_event(stream, name, data_json, ttl_seconds), None
        )

    async def read_events(
        self, stream: str, after: str, block_seconds: float
    ) -> list[StreamEvent] | None:
        return await self._call(lambda: self._inner.read_events(stream, after, block_seconds), None)

    async def health(self) -> CacheHealth:
        answered = await self._call(self._ping, False)
        if answered:
            return CacheHealth(kind=self.kind, ok=True, detail=self._inner.location)
        return CacheHealth(
            kind=self.kind,
            ok=False,
            detail=f"{self._inner.location} unavailable ({self._last_error})",
        )

    async def _ping(self) -> bool:
        await self._inner.ping()
        return True

    async def aclose(self) -> None:
        # Closing a pool whose server is gone must not fail shutdown.
        try:
            await self._inner.aclose()
        except _REDIS_FAILURES:
            logger.debug("closing the Redis note cache failed", exc_info=False)
