"""A Redis outage costs coordination, never requests: each worker then works alone.

Every operation on the wrapped :class:`RedisCoordinator` runs in a
:class:`delphos.redis_guard.Guard` (bounded by a deadline, its Redis errors absorbed):

- ``try_lock`` -> a token (fail open: coalescing falls back to in-process only),
- ``unlock`` -> nothing,
- ``extend_lock`` -> False, ``lock_owner`` -> None (as if the lock had expired),
- ``publish_event`` -> dropped, ``read_events`` -> None (the reader generates itself).
"""

from __future__ import annotations

import logging

from delphos.coordination.base import StreamEvent, new_token
from delphos.coordination.redis_store import RedisCoordinator
from delphos.redis_guard import Guarded

__all__ = ["ResilientCoordinator"]


class ResilientCoordinator(Guarded[RedisCoordinator]):
    what = "Redis coordinator"
    logger = logging.getLogger("delphos.coordination")
    shared = True  # every worker sees the same locks and streams (while Redis answers)

    async def try_lock(self, name: str, ttl_seconds: float) -> str | None:
        # The fallback token is never in Redis, so unlocking it later is a harmless no-op
        # even if Redis is back by then.
        return await self._guard.call(lambda: self._inner.try_lock(name, ttl_seconds), new_token())

    async def unlock(self, name: str, token: str) -> None:
        await self._guard.call(lambda: self._inner.unlock(name, token), None)

    async def extend_lock(self, name: str, token: str, ttl_seconds: float) -> bool:
        return await self._guard.call(
            lambda: self._inner.extend_lock(name, token, ttl_seconds), False
        )

    async def lock_owner(self, name: str) -> str | None:
        return await self._guard.call(lambda: self._inner.lock_owner(name), None)

    async def publish_event(
        self, stream: str, name: str, data_json: bytes, ttl_seconds: float
    ) -> None:
        await self._guard.call(
            lambda: self._inner.publish_event(stream, name, data_json, ttl_seconds), None
        )

    async def read_events(
        self, stream: str, after: str, block_seconds: float
    ) -> list[StreamEvent] | None:
        return await self._guard.call(
            lambda: self._inner.read_events(stream, after, block_seconds), None
        )
