"""Sharing one generation among its listeners, in this process.

Requests for the same tenant, consultation and text join the same `Run` while it is
joinable. This is the ONE place that counts a run's listeners and decides abandonment:
when the last listener leaves before the note is complete, the run is abandoned — its
keeper (if it holds a cross-worker lock) stops and the generation cancels its engine at
once (no tokens burnt for nobody); a new request starts afresh. Once every section is
complete the note is always finished (cached, persisted), even if every client leaves
before the closing brace.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass

from delphos.soap.events import NoteEvent
from delphos.soap.generation import Generation

RunKey = tuple[str, str, str]  # (tenant id, consultation id, text hash)


@dataclass(eq=False)
class Run:
    """One generation in this process, who listens to it, and its cross-worker lock."""

    key: RunKey
    generation: Generation
    lock: tuple[str, str] | None  # (name, token) while other workers may be waiting
    listeners: int = 0
    abandoned: bool = False
    # With a cross-worker lock: publishes the run's events for the other workers (see
    # `CrossWorker.keep`); not counted as a listener.
    keeper: asyncio.Task[None] | None = None

    @property
    def joinable(self) -> bool:
        return not self.abandoned and self.generation.joinable

    @property
    def settled(self) -> bool:
        """Every section was complete in a partial (or the final event is out): the note
        is finished (cached, persisted) even if every client leaves before the closing
        brace. Read off the generation's own log, so it is exact at the moment the last
        client leaves, whatever that client had read."""
        return self.generation.settled


class Runs:
    """The runs in flight in this process, by key."""

    def __init__(self) -> None:
        self._inflight: dict[RunKey, Run] = {}

    def __len__(self) -> int:
        return len(self._inflight)

    def all(self) -> list[Run]:
        return list(self._inflight.values())

    def joinable(self, key: RunKey) -> Run | None:
        run = self._inflight.get(key)
        return run if run is not None and run.joinable else None

    def add(self, run: Run) -> None:
        """Track a started run until its generation ends (or it is abandoned)."""
        self._inflight[run.key] = run

        def forget(_: object) -> None:
            self._forget(run)

        run.generation.add_done_callback(forget)

    def listen(self, run: Run) -> AsyncGenerator[NoteEvent, None]:
        """One client's view of a run; the last client to leave early abandons it.

        The client counts from the moment it joins, not from its first read: otherwise the
        only other client leaving in between would abandon the run under it."""
        run.listeners += 1
        return self._listening(run)

    async def _listening(self, run: Run) -> AsyncGenerator[NoteEvent, None]:
        try:
            # aclosing: the subscription ends the moment this client does, not whenever the
            # garbage collector gets to it.
            async with aclosing(run.generation.subscribe()) as events:
                async for event in events:
                    yield event
        finally:
            run.listeners -= 1
            if run.listeners == 0:
                self._abandon_if_unfinished(run)

    def _abandon_if_unfinished(self, run: Run) -> None:
        if run.generation.done or run.settled or run.abandoned:
            return
        run.abandoned = True
        self._forget(run)
        if run.keeper is not None:
            run.keeper.cancel()
        run.generation.abandon()

    def _forget(self, run: Run) -> None:
        if self._inflight.get(run.key) is run:
            del self._inflight[run.key]
