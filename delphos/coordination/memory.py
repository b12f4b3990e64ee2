"""The coordinator in one process: locks that expire, a relay that delivers.

Used when no Redis is configured (one worker). Everything runs on the event loop without
awaiting in between, so no lock is needed around the dictionaries. The service does not
need either to share a generation in one process (its listeners join the run in memory),
but the browser tokens do, and both behave as their Redis form does, expiry included.
"""

from __future__ import annotations

import asyncio
import time
from typing import Generic, TypeVar

from delphos.coordination.base import StreamEvent, new_token

__all__ = ["MemoryCoordinator"]

T = TypeVar("T")

# Expired entries are swept once the table has doubled since the last sweep (at least
# this many): memory stays bounded by twice the live entries, at an amortised O(1).
_SWEEP_FLOOR = 256


class _Expiring(Generic[T]):
    """Values by name that are gone at their deadline (``time.monotonic()``)."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[float, T]] = {}
        self._sweep_at = _SWEEP_FLOOR

    def get(self, name: str) -> T | None:
        item = self._items.get(name)
        if item is None:
            return None
        if item[0] <= time.monotonic():
            del self._items[name]
            return None
        return item[1]

    def put(self, name: str, value: T, ttl_seconds: float) -> None:
        self._items[name] = (time.monotonic() + ttl_seconds, value)
        if len(self._items) >= self._sweep_at:
            now = time.monotonic()
            self._items = {k: item for k, item in self._items.items() if item[0] > now}
            self._sweep_at = max(_SWEEP_FLOOR, 2 * len(self._items))

    def pop(self, name: str) -> None:
        self._items.pop(name, None)

    def clear(self) -> None:
        self._items.clear()


class MemoryCoordinator:
    kind = "memory"
    shared = False

    def __init__(self) -> None:
        self._locks: _Expiring[str] = _Expiring()
        self._streams: _Expiring[list[tuple[str, bytes]]] = _Expiring()  # (name, data JSON)
        # Set (and replaced) on every publish: a blocked reader wakes and reads again.
        self._published = asyncio.Event()

    async def try_lock(self, name: str, ttl_seconds: float) -> str | None:
        if self._locks.get(name) is not None:
            return None
        token = new_token()
        self._locks.put(name, token, ttl_seconds)
        return token

    async def unlock(self, name: str, token: str) -> None:
        if self._locks.get(name) == token:
            self._locks.pop(name)

    async def extend_lock(self, name: str, token: str, ttl_seconds: float) -> bool:
        if self._locks.get(name) != token:
            return False
        self._locks.put(name, token, ttl_seconds)
        return True

    async def lock_owner(self, name: str) -> str | None:
        return self._locks.get(name)

    async def publish_event(
        self, stream: str, name: str, data_json: bytes, ttl_seconds: float
    ) -> None:
        events = self._streams.get(stream) or []
        events.append((name, data_json))
        # The expiry restarts with every event, as in Redis.
        self._streams.put(stream, events, ttl_seconds)
        published, self._published = self._published, asyncio.Event()
        published.set()

    async def read_events(
        self, stream: str, after: str, block_seconds: float
    ) -> list[StreamEvent] | None:
        start = int(after) if after.isdigit() else 0
        deadline = time.monotonic() + block_seconds
        found = self._read(stream, start)
        # Woken by any stream's event: read again, and wait on while nothing is ours.
        while not found and (left := deadline - time.monotonic()) > 0:
            published = self._published
            try:
                async with asyncio.timeout(left):
                    await published.wait()
            except TimeoutError:
                break
            found = self._read(stream, start)
        return found

    def _read(self, stream: str, start: int) -> list[StreamEvent]:
        events = self._streams.get(stream)
        if events is None:
            return []
        # An event's id is its position from 1, so "0" reads from the start.
        return [
            StreamEvent(id=str(position), name=name, data=raw)
            for position, (name, raw) in enumerate(events[start:], start=start + 1)
        ]

    async def aclose(self) -> None:
        self._locks.clear()
        self._streams.clear()
