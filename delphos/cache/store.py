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
    "hit_json",
]


@dataclass(frozen=True)
class CacheEntry:
    text_hash: str  # sha256 of the accumulated_text the note was made from
    text: str  # that text: the next request's delta is measured against it
    soap_hash: str
    # The final `soap` event's data (sections, completeness, soap_hash, is_degraded,
    # engine, model...) as stored: one-line UTF-8 JSON of one object, without "cached"
    # (whether it came from the cache is decided per request). Bytes, written once by the
    # event itself (``SoapEvent.stored_json``) and kept as they are.
    payload_json: bytes

    @property
    def payload(self) -> dict[str, Any]:
        """The payload decoded (tests, diagnostics: storing never needs it)."""
        return decode_payload(self.payload_json)


# Slots, not frozen: one is made per cache hit, and a frozen dataclass's __init__ sets
# each field through object.__setattr__ (three times the cost, on the hot path).
@dataclass(slots=True)
class CacheHit:
    # The stored payload as UTF-8 JSON bytes, exactly as the cache holds them: a hit is
    # written out as it is, never decoded and re-encoded (see ``hit_json``).
    payload_json: bytes
    soap_hash: str
    reason: Literal["exact", "delta"]
    delta_words: int

    @property
    def payload(self) -> dict[str, Any]:
        """The payload decoded (tests, diagnostics: the hit path never needs it)."""
        return decode_payload(self.payload_json)


@dataclass(frozen=True)
class CacheHealth:
    kind: str  # "memory" | "redis"
    ok: bool
    detail: str  # for operators: never a password or patient text


class NoteCache(Protocol):
    """Lookup and store, nothing else: the locks and the event relay that let workers
    share a generation are the coordinator's (:mod:`delphos.coordination`)."""

    kind: str

    async def lookup(
        self,
        tenant_id: str,
        consultation_id: str,
        *,
        text: str,
        max_delta: int,
    ) -> CacheHit | None:
        """The cached note if the text is the same or fewer than ``max_delta`` words off."""
        ...

    async def store(self, tenant_id: str, consultation_id: str, entry: CacheEntry) -> None:
        """Replace the consultation's entry (and restart its time to live)."""
        ...

    async def health(self) -> CacheHealth: ...

    async def aclose(self) -> None: ...


def decode_payload(raw: str | bytes) -> dict[str, Any]:
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("stored note payload is not a JSON object")
    return value


def hit_json(payload_json: bytes) -> bytes:
    """The stored payload's JSON with ``"cached": true`` added, without decoding it.

    The stored form (``SoapEvent.stored_json``) is one JSON object with no trailing
    whitespace, so the flag goes in before its closing brace.
    """
    if not payload_json.endswith(b"}"):
        raise ValueError("stored note payload is not a JSON object")
    if payload_json == b"{}":
        return b'{"cached":true}'
    # One copy of the note (a slice then `+` would make two).
    return b"".join((memoryview(payload_json)[:-1], b',"cached":true}'))


def decide(
    *,
    cached_text: str,
    cached_soap_hash: str,
    raw_payload: bytes,
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
        payload_json=raw_payload,
        soap_hash=cached_soap_hash,
        reason="delta",
        delta_words=delta,
    )
