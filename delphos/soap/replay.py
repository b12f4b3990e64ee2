"""The events of one generation, kept for replay to every listener from the first.

A listener that joins late receives the events it missed, then each new one as it is
appended, until the log is closed after the final event. `partial`s are kept compactly:
every partial is a snapshot of the whole note so far and each section's text only grows
(the parser's text is always a prefix of its final text), so a partial is the latest texts
cut to the lengths it had. Kept as dicts, a 2,000-character note streamed at four partials
a second held ~50 snapshots of it per stream until the stream ended.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from delphos.records import SECTION_KEYS, SHORT
from delphos.soap.events import TERMINAL, Event

_SHORT_KEYS = tuple(SHORT[k] for k in SECTION_KEYS)


@dataclass(frozen=True, slots=True)
class _Partial:
    """A `partial` as kept for replay: how long each section was, and which were done."""

    lengths: tuple[int, ...]
    done: tuple[bool, ...]


_Stored = Event | _Partial


def _name(item: _Stored) -> str:
    return "partial" if isinstance(item, _Partial) else item[0]


class EventLog:
    def __init__(self, first: Event) -> None:
        self._items: list[_Stored] = [first]
        # The sections as of the latest partial: every stored partial is a prefix of these.
        self._texts: tuple[str, ...] = ("", "", "", "")
        self._changed = asyncio.Event()
        self._closed = False

    @property
    def ended(self) -> bool:
        """A final event (`soap` or `error`) is in the log."""
        return any(_name(item) in TERMINAL for item in self._items)

    @property
    def last_is_final(self) -> bool:
        return any(_name(item) in TERMINAL for item in self._items[-1:])

    def append(self, name: str, data: dict[str, Any]) -> None:
        self._add((name, data))

    def append_partial(self, texts: tuple[str, ...], done: tuple[bool, ...]) -> None:
        """A `partial` with these section texts (in SECTION_KEYS order) and completeness."""
        if not all(map(str.startswith, texts, self._texts)):
            # A section restarted (a retry, a repeated key): the partials kept so far are
            # not cuts of the new texts. Rare; they become plain events.
            self._items = [
                ("partial", self._snapshot(item)) if isinstance(item, _Partial) else item
                for item in self._items
            ]
        self._texts = texts
        self._add(_Partial(lengths=tuple(map(len, texts)), done=done))

    def close(self) -> None:
        """No more events: every listener ends once it has read what is there."""
        self._closed = True
        self._changed.set()

    async def replay(self) -> AsyncGenerator[Event, None]:
        """All events from the first; ends once the log is closed and read to its end."""
        index = 0
        while True:
            while index < len(self._items):
                item = self._items[index]
                index += 1
                yield ("partial", self._snapshot(item)) if isinstance(item, _Partial) else item
            if self._closed:
                return
            changed = self._changed
            await changed.wait()

    def _add(self, item: _Stored) -> None:
        self._items.append(item)
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _snapshot(self, partial: _Partial) -> dict[str, Any]:
        """The `partial` event's data (a full-length cut is the text itself, not a copy)."""
        cut: dict[str, Any] = {
            key: text[:n]
            for key, text, n in zip(SECTION_KEYS, self._texts, partial.lengths, strict=True)
        }
        return {**cut, "completeness": dict(zip(_SHORT_KEYS, partial.done, strict=True))}
