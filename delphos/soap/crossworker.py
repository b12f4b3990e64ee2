"""Sharing one generation across workers (Redis deployments): lock, relay, takeover.

The first worker takes the short lock ``gen:{tenant}:{consultation}:{text_hash}`` and its
run's keeper publishes every event to a Redis Stream named by its lock token; a worker that
finds the lock taken replays that stream from the start to its own client (`follow`). A
holder that dies stops refreshing its lock; the waiters then take the lock over and
generate themselves.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing

from delphos.coordination import Coordinator
from delphos.soap.events import GENERATING, NoteEvent
from delphos.soap.relay import ABANDONED, Relay, remote_events
from delphos.soap.sharing import Run, Runs

log = logging.getLogger("delphos.service")

# The cross-worker generation lock lives this long unless its holder refreshes it (every
# third of it): a dead worker's lock frees within seconds, a live one keeps it.
LOCK_SECONDS = 6.0

# Given the lock's token, the run this worker now answers from (joined or started).
TakeOver = Callable[[str], Awaitable[Run]]


def lock_name(tenant_id: str, consultation_id: str, digest: str) -> str:
    return f"gen:{tenant_id}:{consultation_id}:{digest}"


class CrossWorker:
    def __init__(self, *, coordinator: Coordinator, runs: Runs, stream_ttl: float) -> None:
        self._coordinator = coordinator
        self._runs = runs
        # A relayed event stream outlives its generation by this long (late readers).
        self._stream_ttl = stream_ttl
        self.closing = False

    async def try_lock(self, name: str) -> str | None:
        return await self._coordinator.try_lock(name, LOCK_SECONDS)

    async def keep(self, run: Run, lock: str, token: str) -> None:
        """For a run holding the cross-worker lock ``lock`` (our ``token``): publishes
        every event for the workers waiting on it, keeps the lock alive meanwhile, and
        lets it go at the end. (A run without the lock has no keeper: nobody else waits
        for it, and a subscriber of its own would cost a wake-up per partial.)"""
        heartbeat = asyncio.get_running_loop().create_task(self._heartbeat(lock, token))
        finished = False
        try:
            async with aclosing(run.generation.subscribe()) as events:
                async for event in events:
                    if event.name == "error" and self.closing:
                        break  # shutting down: the waiting workers generate themselves
                    # The event's JSON, written once for every reader of it (SSE, relay).
                    await self._coordinator.publish_event(
                        token, event.name, event.data_json, self._stream_ttl
                    )
                    finished = finished or event.final
        finally:
            heartbeat.cancel()
            if not finished:
                await self._coordinator.publish_event(token, ABANDONED, b"{}", self._stream_ttl)
            await self._coordinator.unlock(lock, token)

    async def _heartbeat(self, name: str, token: str) -> None:
        while True:
            await asyncio.sleep(LOCK_SECONDS / 3)
            if not await self._coordinator.extend_lock(name, token, LOCK_SECONDS):
                # Expired (a stalled loop, a Redis restart): another worker may generate
                # too. Nothing to undo; this run still finishes its own note.
                log.info("generation lock lost; another worker may generate the same note")
                return

    async def follow(
        self, name: str, owner: str, take_over: TakeOver
    ) -> AsyncGenerator[NoteEvent, None]:
        """Relay another worker's generation from its first event; take over if it dies."""
        relay = Relay()
        yield GENERATING
        relay.accept(GENERATING)
        holder: str | None = owner
        while True:
            if holder is not None:
                async for event in remote_events(self._coordinator, name, holder):
                    out = relay.accept(event)
                    if out is not None:
                        yield out
                if relay.finished:
                    return
            # The holder stopped without a note (left, died, or Redis is unreadable).
            token = await self.try_lock(name)
            if token is None:
                holder = await self._coordinator.lock_owner(name)
                continue
            run = await take_over(token)
            async for event in self._runs.listen(run):
                out = relay.accept(event)
                if out is not None:
                    yield out
            return
