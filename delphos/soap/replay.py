"""The events of one generation, kept for replay to every listener from the first.

A listener that joins late receives the events it missed, then each new one as it is
appended, until the log is closed after the final event. `partial`s are kept compactly:
every partial is a snapshot of the whole note so far and each section's text only grows
(the parser's text is always a prefix of its final text), so a partial is the latest texts
cut to the lengths it had. Kept whole, a 2,000-character note streamed at four partials
a second held ~50 snapshots of it per stream until the stream ended. The latest partial's
event is kept as made, so every listener reading it live shares one object and its JSON is
written once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from delphos.soap.events import NoteEvent, completeness
from delphos.soap.schemas import PartialEvent

# A `partial` as kept for replay: one int holding each section's length in a field of its
# own and which sections were done in the bits above them. One is kept per partial of
# every stream (four a second, for as long as the note streams); as a tuple of two tuples
# it cost ~270 bytes and three objects the cyclic collector walks, as an int of this size
# ~50 bytes and none (bench/streams.py, tracemalloc). 32 bits hold any section length a
# request can produce (the body is capped at megabytes).
_FIELD = 32
_MASK = (1 << _FIELD) - 1
_DONE = 4 * _FIELD


def _pack(lengths: tuple[int, int, int, int], done: tuple[bool, bool, bool, bool]) -> int:
    s, o, a, p = lengths
    ds, do, da, dp = done
    bits = ds | do << 1 | da << 2 | dp << 3
    return s | o << _FIELD | a << 2 * _FIELD | p << 3 * _FIELD | bits << _DONE


def _unpack(packed: int) -> tuple[tuple[int, int, int, int], tuple[bool, bool, bool, bool]]:
    bits = packed >> _DONE
    lengths = (
        packed & _MASK,
        packed >> _FIELD & _MASK,
        packed >> 2 * _FIELD & _MASK,
        packed >> 3 * _FIELD & _MASK,
    )
    return lengths, (bool(bits & 1), bool(bits & 2), bool(bits & 4), bool(bits & 8))


# An event, or a partial packed as above.
_Stored = NoteEvent | int


def _final(item: _Stored) -> bool:
    return not isinstance(item, int) and item.final


class EventLog:
    def __init__(self, first: NoteEvent) -> None:
        self._items: list[_Stored] = [first]
        # The sections as of the latest partial: every stored partial is a prefix of these.
        self._texts: tuple[str, str, str, str] = ("", "", "", "")
        # The latest partial's event (by its place in the log), once a listener asked for it.
        self._latest: tuple[int, PartialEvent] | None = None
        # Listeners waiting for the next event: each awaits a future of its own (a shared
        # one would be cancelled for all by one listener's cancellation), made on the
        # loop looked up once. asyncio.Event looks the running loop up on every wait, and
        # on CPython 3.11 that lookup is a getpid() system call: with a new Event per
        # event, ~1.4 % of the worker's loop at 500 streams.
        self._waiters: list[asyncio.Future[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._settled = False

    @property
    def settled(self) -> bool:
        """A partial had every section complete, or a final event is in: the note is to be
        finished even if every listener leaves. Latched: a retry that restarts the
        sections does not undo it."""
        return self._settled

    @property
    def ended(self) -> bool:
        """A final event (`soap` or `error`) is in the log."""
        return any(map(_final, self._items))

    @property
    def last_is_final(self) -> bool:
        return _final(self._items[-1])

    def append(self, event: NoteEvent) -> None:
        if event.final:
            self._settled = True
        self._add(event)

    def append_partial(
        self, texts: tuple[str, str, str, str], done: tuple[bool, bool, bool, bool]
    ) -> None:
        """A `partial` with these section texts (in SECTION_KEYS order) and completeness."""
        if not all(map(str.startswith, texts, self._texts)):
            # A section restarted (a retry, a repeated key): the partials kept so far are
            # not cuts of the new texts. Rare; they become plain events.
            self._items = [
                self._snapshot(item, at) if isinstance(item, int) else item
                for at, item in enumerate(self._items)
            ]
            self._latest = None
        self._texts = texts
        if all(done):
            self._settled = True
        s, o, a, p = texts
        self._add(_pack((len(s), len(o), len(a), len(p)), done))

    def close(self) -> None:
        """No more events: every listener ends once it has read what is there."""
        self._closed = True
        self._wake()

    async def replay(self) -> AsyncGenerator[NoteEvent, None]:
        """All events from the first; ends once the log is closed and read to its end."""
        index = 0
        while True:
            while index < len(self._items):
                item = self._items[index]
                index += 1
                yield self._snapshot(item, index - 1) if isinstance(item, int) else item
            if self._closed:
                return
            loop = self._loop
            if loop is None:
                loop = self._loop = asyncio.get_running_loop()
            waiter = loop.create_future()
            self._waiters.append(waiter)
            await waiter

    def _add(self, item: _Stored) -> None:
        self._items.append(item)
        self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():  # a listener cancelled meanwhile
                waiter.set_result(None)

    def _snapshot(self, partial: int, at: int) -> PartialEvent:
        """The `partial` event of the packed partial at ``at`` in the log (a full-length
        cut is the text itself, not a copy)."""
        latest = self._latest
        if latest is not None and latest[0] == at:
            return latest[1]
        (s, o, a, p), ((ns, no, na, np), done) = self._texts, _unpack(partial)
        event = PartialEvent(
            subjective=s[:ns],
            objective=o[:no],
            assessment=a[:na],
            plan=p[:np],
            completeness=completeness(done),
        )
        if at == len(self._items) - 1:
            self._latest = (at, event)
        return event
