"""Redis as an optimisation, never as a dependency: a Redis outage degrades to misses.

Every operation on the wrapped :class:`RedisCache` runs in a :class:`delphos.redis_guard.Guard`
(bounded by a deadline, its Redis errors absorbed):

- ``lookup`` -> None (a miss: the note is generated as if nothing were cached),
- ``store`` -> dropped.
"""

from __future__ import annotations

import logging

from delphos.cache.redis_store import RedisCache
from delphos.cache.store import CacheEntry, CacheHealth, CacheHit
from delphos.redis_guard import Guarded

__all__ = ["ResilientCache"]


class ResilientCache(Guarded[RedisCache]):
    what = "Redis note cache"
    logger = logging.getLogger("delphos.cache")

    async def lookup(
        self,
        tenant_id: str,
        consultation_id: str,
        *,
        text: str,
        max_delta: int,
    ) -> CacheHit | None:
        return await self._guard.call(
            lambda: self._inner.lookup(tenant_id, consultation_id, text=text, max_delta=max_delta),
            None,
        )

    async def store(self, tenant_id: str, consultation_id: str, entry: CacheEntry) -> None:
        await self._guard.call(lambda: self._inner.store(tenant_id, consultation_id, entry), None)

    async def health(self) -> CacheHealth:
        answered = await self._guard.call(self._ping, False)
        if answered:
            return CacheHealth(kind=self.kind, ok=True, detail=self._inner.location)
        return CacheHealth(
            kind=self.kind,
            ok=False,
            detail=f"{self._inner.location} unavailable ({self._guard.last_error})",
        )

    async def _ping(self) -> bool:
        await self._inner.ping()
        return True
