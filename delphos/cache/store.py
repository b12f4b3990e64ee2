"""The note cache contract shared by the in-process and the Redis backends.

One entry per (tenant, consultation): the latest note and the text it was made from. A
request whose text is identical (same ``text_hash``) or differs by fewer than
``max_delta`` words (see :mod:`delphos.cache.delta`) is answered from the entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from delphos.cache.delta import normalise_words, word_delta

__all__ = [
    "CacheEntry",
    "CacheHealth",
    "CacheHit",
    "NoteCache",
    "decide",
    "decode_payload",
    "encode_payload",
]


@dataclass(frozen=True)
class CacheEntry:
    text_hash: str  # sha256 of the accumulated_text the note was made from
    text: str  # that text: the next request's delta is measured against it
    soap_hash: str
    # The final `soap` event body (sections, completeness, soap_hash, is_degraded, engine,
    # model...), without "cached": whether it came from the cache is decided per request.
    payload: dict[str, Any]


@dataclass(frozen=True)
class CacheHit:
    payload: dict[str, Any]
    soap_hash: str
    reason: Literal["exact", "delta"]
    delta_words: int


@dataclass(frozen=True)
class CacheHealth:
    kind: str  # "memory" | "redis"
    ok: bool
    detail: str  # for operators: never a password or patient text


class NoteCache(Protocol):
    kind: str

    async def lookup(
        self,
        tenant_id: str,
        consultation_id: str,
        *,
        text: str,
        text_hash: str,
        max_delta: int,
    ) -> CacheHit | None:
        """The cached note if the text is the same or fewer than ``max_delta`` words off."""
        ...

    async def store(self, tenant_id: str, consultation_id: str, entry: CacheEntry) -> None:
        """Replace the consultation's entry (and restart its time to live)."""
        ...

    async def try_lock(self, name: str, ttl_seconds: float) -> str | None:
        """A token if the short cross-worker lock ``name`` was acquired, else None."""
        ...

    async def unlock(self, name: str, token: str) -> None:
        """Release the lock, but only if it is still held with ``token``."""
        ...

    async def health(self) -> CacheHealth: ...

    async def aclose(self) -> None: ...


def encode_payload(payload: dict[str, Any]) -> str:
    """JSON of the payload as stored; "cached" is per-response and never stored."""
    return json.dumps(
        {key: value for key, value in payload.items() if key != "cached"},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def decode_payload(raw: str) -> dict[str, Any]:
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("stored note payload is not a JSON object")
    return value


def decide(
    *,
    cached_text: str,
    cached_soap_hash: str,
    raw_payload: str,
    text: str,
    max_delta: int,
) -> CacheHit | None:
    """The delta-path decision once the hashes differ: hit if fewer than max_delta words."""
    if max_delta <= 0:
        return None
    delta = word_delta(normalise_words(cached_text), normalise_words(text), max_delta)
    if delta >= max_delta:
        return None
    return CacheHit(
        payload=decode_payload(raw_payload),
        soap_hash=cached_soap_hash,
        reason="delta",
        delta_words=delta,
    )
