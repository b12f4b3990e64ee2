"""Retry an engine on transient failures, but only before the note has started to show.

Once a delta has reached the caller the clinician is watching text appear; starting the
generation again would repeat or contradict it, so a failure after the first delta
propagates and the pipeline ends the stream with an ``error`` event instead.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from contextlib import aclosing

from delphos.engines.base import Engine, EngineUnavailable
from delphos.metrics import ENGINE_RETRIES
from delphos.records import Usage

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The provider's wait hint: ``retry-after-ms`` or ``retry-after`` (seconds) headers.

    The HTTP-date form of ``retry-after`` is ignored: the LLM APIs send seconds.
    """
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            continue
        if seconds >= 0:
            return seconds
    return None


class RetryingEngine:
    """Wraps any engine; retries ``EngineUnavailable`` raised before the first delta.

    ``attempts`` is the number of *retries*: at most ``attempts + 1`` upstream requests.
    Delays grow exponentially from ``base_delay`` with jitter (so many clients hitting the
    same rate limit do not retry in lockstep), never beyond ``max_delay``; a provider's
    ``retry-after`` hint raises the delay, still capped by ``max_delay`` because a
    clinician is waiting for the note.
    """

    def __init__(
        self,
        inner: Engine,
        attempts: int,
        base_delay: float,
        max_delay: float = 8.0,
        *,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.model = inner.model
        self._attempts = attempts
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._sleep = sleep

    def delay(self, retry: int, hint: float | None) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        backoff = min(self._max_delay, self._base_delay * 2.0**retry)
        # "Equal jitter": between half and all of the backoff, never zero.
        delay = backoff * (0.5 + random.random() / 2)
        if hint is not None:
            delay = max(delay, hint)
        return min(delay, self._max_delay)

    async def _wait_before_retry(self, retry: int, exc: EngineUnavailable, what: str) -> None:
        delay = self.delay(retry, exc.retry_after)
        # str(exc) is safe by contract (base.EngineError): no patient text, no bodies.
        log.warning(
            "%s engine %s failed (%s); retry %d of %d in %.2fs",
            self.name,
            what,
            exc,
            retry + 1,
            self._attempts,
            delay,
        )
        ENGINE_RETRIES.inc()
        await self._sleep(delay)

    async def stream(self, transcript: str) -> AsyncGenerator[str | Usage, None]:
        retry = 0
        while True:
            started = False
            try:
                # When our caller closes us, the inner stream (and its upstream HTTP
                # response) is closed at once, not whenever the GC gets to it.
                async with aclosing(self.inner.stream(transcript)) as deltas:
                    async for delta in deltas:
                        # Only text shows: a usage report alone started nothing.
                        started = started or isinstance(delta, str)
                        yield delta
                return
            except EngineUnavailable as exc:
                if started or retry >= self._attempts:
                    raise
                await self._wait_before_retry(retry, exc, "stream")
                retry += 1

    async def complete(self, system: str, user: str, max_tokens: int = 1024) -> str:
        retry = 0
        while True:
            try:
                return await self.inner.complete(system, user, max_tokens)
            except EngineUnavailable as exc:
                if retry >= self._attempts:
                    raise
                await self._wait_before_retry(retry, exc, "completion")
                retry += 1

    async def aclose(self) -> None:
        await self.inner.aclose()
