"""In-process note cache: least-recently-used eviction plus a time to live, bounded by
entries and by bytes.

Used when no Redis is configured (one worker). Everything runs on the event loop without
awaiting in between, so no lock is needed around the dictionary.

Entries are kept zlib-packed: an entry is the consultation's text (~6 KB for a 10-minute
visit) and its note's `soap` JSON with the evidence (~17 KB), ~23 KB as Python objects
and about a third of that packed. At 2,000 notes that was ~47 MB of the worker's RSS, and
10,000 entries (the default count) would have held ~230 MB. Unpacking costs tens of
microseconds, on a hit only (a miss for an unknown consultation touches nothing).
"""

from __future__ import annotations

import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass

from delphos.cache.store import CacheEntry, CacheHealth, CacheHit, decide
from delphos.records import text_hash

__all__ = ["MemoryCache"]

# zlib level 1: most of level 6's size for a fraction of its time (once per stored note).
_LEVEL = 1


@dataclass(frozen=True, slots=True)
class _Stored:
    expires_at: float  # time.monotonic() deadline
    text_hash: str  # an exact request is recognised by its hash, without unpacking text
    packed_text: bytes  # the text, UTF-8, zlib: read only on the delta path
    soap_hash: str
    # Kept as JSON, like in Redis: callers get a fresh dict on every hit (mutating it
    # cannot change the cache) and a payload that cannot be serialised fails at store time
    # on both backends alike. zlib-packed.
    packed_payload: bytes

    @property
    def size(self) -> int:
        """Bytes counted against the cache's bound (the packed fields)."""
        return len(self.packed_text) + len(self.packed_payload)


class MemoryCache:
    kind = "memory"

    def __init__(self, max_entries: int, ttl_seconds: float, max_bytes: int = 128 << 20) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be > 0")
        if max_bytes < 1:
            raise ValueError("max_bytes must be >= 1")
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0  # the packed sizes of the entries held
        self._ttl = ttl_seconds
        self._entries: OrderedDict[tuple[str, str], _Stored] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes_held(self) -> int:
        return self._bytes

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
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        if stored.text_hash == text_hash(text):
            return CacheHit(
                payload_json=zlib.decompress(stored.packed_payload),
                soap_hash=stored.soap_hash,
                reason="exact",
                delta_words=0,
            )
        if max_delta <= 0:
            return None
        hit = decide(
            cached_text=zlib.decompress(stored.packed_text).decode("utf-8"),
            cached_soap_hash=stored.soap_hash,
            raw_payload=stored.packed_payload,
            text=text,
            max_delta=max_delta,
        )
        if hit is not None:
            hit.payload_json = zlib.decompress(hit.payload_json)
        return hit

    async def store(self, tenant_id: str, consultation_id: str, entry: CacheEntry) -> None:
        key = (tenant_id, consultation_id)
        stored = _Stored(
            expires_at=time.monotonic() + self._ttl,
            # From the text itself: an exact request must match what is held, whatever the
            # caller computed.
            text_hash=text_hash(entry.text),
            packed_text=zlib.compress(entry.text.encode("utf-8"), _LEVEL),
            soap_hash=entry.soap_hash,
            packed_payload=zlib.compress(entry.payload_json, _LEVEL),
        )
        self._drop(key)
        if stored.size > self._max_bytes:
            return  # larger than the whole cache: never held (the note is persisted anyway)
        self._entries[key] = stored
        self._bytes += stored.size
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.size

    def _drop(self, key: tuple[str, str]) -> None:
        stored = self._entries.pop(key, None)
        if stored is not None:
            self._bytes -= stored.size

    async def health(self) -> CacheHealth:
        return CacheHealth(
            kind=self.kind,
            ok=True,
            detail=(
                f"in-process, {len(self._entries)}/{self._max_entries} entries, "
                f"{self._bytes >> 20}/{self._max_bytes >> 20} MiB"
            ),
        )

    async def aclose(self) -> None:
        self._entries.clear()
        self._bytes = 0
