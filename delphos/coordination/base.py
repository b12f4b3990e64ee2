"""The coordinator contract: what lets worker processes share one generation.

Two things, both short-lived: named locks that expire unless their holder refreshes them
(the first worker to take ``gen:…`` generates the note; a browser token is redeemed once),
and an event relay, where the worker that generates publishes its events for the workers
that wait on its lock to read from the start. In one process
(:class:`~delphos.coordination.memory.MemoryCoordinator`) they are a dictionary; across
workers (:class:`~delphos.coordination.redis_store.RedisCoordinator`), Redis keys.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Coordinator", "StreamEvent", "new_token"]


@dataclass(frozen=True)
class StreamEvent:
    """One event of a generation, as relayed between workers (see ``publish_event``)."""

    id: str  # position in the stream; pass the last one seen as ``after`` to read on
    name: str
    data: bytes  # the JSON as published: the reader decodes (and checks) it


class Coordinator(Protocol):
    kind: str  # "memory" | "redis"
    # True when several worker processes see the same locks and streams (Redis): only then
    # does a generation need the cross-worker lock (one process coalesces in memory).
    shared: bool

    async def try_lock(self, name: str, ttl_seconds: float) -> str | None:
        """A token if the lock ``name`` was acquired, else None (someone holds it)."""
        ...

    async def unlock(self, name: str, token: str) -> None:
        """Release the lock, but only if it is still held with ``token``."""
        ...

    async def extend_lock(self, name: str, token: str, ttl_seconds: float) -> bool:
        """Restart the lock's time to live if it is still held with ``token``."""
        ...

    async def lock_owner(self, name: str) -> str | None:
        """The token the lock ``name`` is held with, or None if nobody holds it."""
        ...

    async def publish_event(
        self, stream: str, name: str, data_json: bytes, ttl_seconds: float
    ) -> None:
        """Append an event (its data as JSON, written once by the caller) to ``stream``; the
        stream expires ``ttl_seconds`` after the last."""
        ...

    async def read_events(
        self, stream: str, after: str, block_seconds: float
    ) -> list[StreamEvent] | None:
        """Events of ``stream`` after position ``after`` ("0" = from the start), waiting up
        to ``block_seconds`` for the first. None when the stream cannot be read (an outage
        absorbed by the resilient wrapper; the bare Redis backend raises instead)."""
        ...

    async def aclose(self) -> None: ...


def new_token() -> str:
    """A lock token: unguessable, so only its holder can release or extend the lock."""
    return secrets.token_hex(16)
