"""Relaying one worker's generation to another worker's client (Redis deployments).

The worker holding the generation lock publishes every event of its run to a Redis Stream
named by its lock token (see ``CrossWorker``); a worker that found the lock taken reads
that stream from the start (``remote_events``) and passes it on through a ``Relay``, which
keeps the contract's event order intact even when the holder dies and the waiter has to
generate the note itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from delphos.coordination import Coordinator
from delphos.soap.events import NoteEvent, decode_event
from delphos.soap.schemas import PartialEvent, StatusEvent

# A waiting worker blocks on the event stream this long per read before it checks that the
# holder is still alive.
FOLLOW_BLOCK_SECONDS = 0.25
# Marker a holder publishes when it stops without a note (its clients all left, or it shuts
# down): waiting workers then generate themselves instead of relaying an error.
ABANDONED = "abandoned"


class Relay:
    """What a waiting worker passes on to its client: one `status`, then partials whose
    completeness never goes back (a takeover restarts the note), then the final event."""

    def __init__(self) -> None:
        self.finished = False
        self._status_sent = False
        self._done = (False, False, False, False)

    def accept(self, event: NoteEvent) -> NoteEvent | None:
        if self.finished:
            return None
        if isinstance(event, StatusEvent):
            if self._status_sent:
                return None
            self._status_sent = True
            return event
        if isinstance(event, PartialEvent):
            c = event.completeness
            done = (c.s, c.o, c.a, c.p)
            if any(was and not now for was, now in zip(self._done, done, strict=True)):
                return None
            self._done = done
            return event
        self.finished = True  # `soap` or `error`
        return event


async def remote_events(
    coordinator: Coordinator, name: str, holder: str
) -> AsyncIterator[NoteEvent]:
    """The events the holder of lock ``name`` (token ``holder``) publishes, from the first,
    until its final one; ends early, without a final event, if the holder is gone (it
    published ABANDONED, or no longer holds the lock) or Redis cannot be read."""
    after = "0"
    checked_gone = False
    while True:
        block = 0.0 if checked_gone else FOLLOW_BLOCK_SECONDS
        batch = await coordinator.read_events(holder, after, block)
        if batch is None:
            return
        for event in batch:
            after = event.id
            if event.name == ABANDONED:
                return
            note_event = decode_event(event.name, event.data)
            if note_event is None:
                continue  # not an event of the contract: a bug elsewhere, never passed on
            yield note_event
            if note_event.final:
                return
        if batch:
            continue
        if checked_gone:
            return
        if await coordinator.lock_owner(name) != holder:
            # Gone: one last read for what it published before letting go.
            checked_gone = True
