"""Redis as an optimisation, never as a dependency: the client and the guard around it.

The note cache (:mod:`delphos.cache`) and the coordinator (:mod:`delphos.coordination`)
both talk to Redis through a client made by :func:`connect` and wrap every operation in a
:class:`Guard`, which bounds it by a deadline (one shared watchdog timer, not a timer per
call: see :class:`Deadlines`) and turns a Redis failure into the caller's fallback.

A warning names the exception class (never its message, which may hold an address with
credentials, and never patient text) at most once per ``warn_interval``. Nothing has to be
restarted when Redis answers again: redis-py replaces the dead pooled connections (see the
retry policy in :func:`connect`) and the next operation succeeds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Generic, Protocol, TypeVar
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

__all__ = [
    "REDIS_FAILURES",
    "Deadlines",
    "Guard",
    "Guarded",
    "RedisBacked",
    "connect",
    "safe_redis_location",
]

T = TypeVar("T")

# OSError covers the builtin TimeoutError raised by the deadline below and socket errors
# that surface unwrapped.
REDIS_FAILURES: tuple[type[BaseException], ...] = (RedisError, OSError)


def safe_redis_location(url: str) -> str:
    """Where Redis lives, for logs and health: scheme, host, port, db — no credentials."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    host = parts.hostname or "localhost"
    port = parts.port or 6379
    return f"{parts.scheme}://{host}:{port}{parts.path or '/0'}"


def connect(url: str, timeout: float) -> Redis:
    """A client that fails fast while Redis is down and reconnects by itself after."""
    # One immediate retry, no backoff: after Redis restarts, pooled sockets are dead and
    # the retry reconnects transparently; while Redis is down it only doubles an instant
    # "connection refused". redis-py's default (10 retries with backoff) would stall every
    # request for seconds while Redis is down.
    return Redis.from_url(
        url,
        # Bytes: a cache hit goes from the socket to the response without a decode and
        # re-encode of the note (hundreds of microseconds on a long one).
        decode_responses=False,
        # No per-operation socket timeout: redis-py would wrap every write in
        # asyncio.wait_for (a task per command, on the cache-hit path). The guard's
        # deadline bounds each whole operation instead; used bare (tests), a hung server
        # blocks. Connecting is still bounded.
        socket_timeout=None,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 1),
    )


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
        # The pending sweep and its loop (a client outliving one event loop, as in tests,
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


class Guard:
    """Runs Redis operations within a deadline; a failure answers the caller's fallback."""

    def __init__(
        self,
        *,
        what: str,
        location: str,
        logger: logging.Logger,
        deadline: float,
        warn_interval: float,
    ) -> None:
        self._what = what  # "Redis note cache", for the log lines
        self.location = location
        self._logger = logger
        self._deadlines = Deadlines(deadline)
        self._warn_interval = warn_interval
        self._last_warning_at: float | None = None
        self.last_error: str | None = None  # exception class name while Redis is down

    @property
    def available(self) -> bool:
        """False from a failed operation until the next successful one."""
        return self.last_error is None

    async def call(self, operation: Callable[[], Awaitable[T]], fallback: T) -> T:
        try:
            result = await self._deadlines.run(operation)
        except REDIS_FAILURES as exc:
            self._record_failure(exc)
            return fallback
        if self.last_error is not None:
            self._logger.info("%s at %s answers again", self._what, self.location)
            self.last_error = None
        return result

    def _record_failure(self, exc: BaseException) -> None:
        self.last_error = type(exc).__name__
        now = time.monotonic()
        if self._last_warning_at is not None and now - self._last_warning_at < self._warn_interval:
            return
        self._last_warning_at = now
        self._logger.warning(
            "%s at %s unavailable (%s); serving without it until it answers",
            self._what,
            self.location,
            self.last_error,
        )


class RedisBacked(Protocol):
    """A component over a bare Redis client (errors not caught), as :class:`Guarded` wraps."""

    @property
    def kind(self) -> str: ...

    @property
    def location(self) -> str: ...

    @property
    def timeout(self) -> float: ...  # the client's connect timeout (see connect)

    async def aclose(self) -> None: ...


Inner = TypeVar("Inner", bound=RedisBacked)


class Guarded(Generic[Inner]):
    """The base of a component whose every operation on ``inner`` runs in one Guard."""

    what: ClassVar[str]  # "Redis note cache", for the log lines
    logger: ClassVar[logging.Logger]

    def __init__(
        self,
        inner: Inner,
        *,
        warn_interval: float = 30.0,
        deadline: float | None = None,
    ) -> None:
        self.kind = inner.kind
        self._inner = inner
        # The deadline bounds every operation (two round trips on the cache's delta path,
        # one reconnect attempt each), so a hung Redis costs a request at most this long.
        # The client has no per-socket read timeout of its own (see connect): this is it.
        self._guard = Guard(
            what=self.what,
            location=inner.location,
            logger=self.logger,
            deadline=deadline if deadline is not None else 2 * inner.timeout,
            warn_interval=warn_interval,
        )

    @property
    def available(self) -> bool:
        """False from a failed operation until the next successful one."""
        return self._guard.available

    async def aclose(self) -> None:
        # Closing a pool whose server is gone must not fail shutdown.
        try:
            await self._inner.aclose()
        except REDIS_FAILURES:
            self.logger.debug("closing the %s failed", self.what, exc_info=False)
