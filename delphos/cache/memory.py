"""In-process note cache: least-recently-used eviction plus a time to live.

Used when no Redis is configured (one worker). Everything runs on the event loop without
awaiting in between, so no lock is needed around the dictionary.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from delphos.cache.store import CacheEntry, CacheHealth, CacheHit, decide, encode_payload

__all__ = ["MemoryCache"]


@dataclass(frozen=True, slots=True)
class _Stored:
    expires_at: float  # time.monotonic() deadline
    text_hash: str
    text: str
    soap_hash: str
    # Kept as JSON, like in Redis: callers get a fresh dict on every hit (mutating it
    # cannot change the cache) and a payload that cannot be serialised fails at store time
    # on both backends alike.
    payload_json: bytes


class MemoryCache:
    kind = "memory"

    def __init__(self, max_entries: int, ttl_seconds: float) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be > 0")
        self._max_entries = max_entries
        self._ttl = ttl_seconds
        self._entries: OrderedDict[tuple[str, str], _Stored] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def lookup(
        self,
        tenant_id: str,
        consultation_id: str,
        *,
        text: str,
        max_delta: int,
    ) -> CacheHit | None:
        key = (tenant_id, consultation_id)
        stored = self._entries.get(key)
        if stored is None:
            return None
        if stored.expires_at <= time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        if stored.text == text:
            return CacheHit(
                payload_json=stored.payload_json,
                soap_hash=stored.soap_hash,
                reason="exact",
                delta_words=0,
            )
        return decide(
            cached_text=stored.text,
            cached_soap_hash=stored.soap_hash,
            raw_payload=stored.payload_json,
            text=text,
            max_delta=max_delta,
        )

    async def store(self, tenant_id: str, consultation_id: str, entry: CacheEntry) -> None:
        key = (tenant_id, consultation_id)
        self._entries[key] = _Stored(
            expires_at=time.monotonic() + self._ttl,
            text_hash=entry.text_hash,
            text=entry.text,
            soap_hash=entry.soap_hash,
            payload_json=encode_payload(entry.payload),
        )
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def health(self) -> CacheHealth:
        return CacheHealth(
            kind=self.kind,
            ok=True,
            detail=f"in-process, {len(self._entries)}/{self._max_entries} entries",
        )

    async def aclose(self) -> None:
        self._entries.clear()
