"""Note cache in Redis, shared by every worker.

Layout, under a configurable prefix (tests use their own):

- ``{prefix}:entry:{tenant}:{sha256(consultation)}`` — one value, bytes: the text hash
  (64 hex), the soap hash (64 hex), the byte length of the text (10 digits), the text the
  note was made from (UTF-8), then the payload as one-line UTF-8 JSON, ready to be written
  out as a hit's `soap` event. The tenant is percent-encoded (readable, and no ``:``
  inside can make two keys collide); the consultation id is hashed because it is an
  arbitrary string of up to 255 characters. Every lookup is ONE plain GET (an MGET of two
  keys costs more than a SHA-256), sent by :mod:`delphos.cache.redis_get`, not redis-py;
  the request's text is compared with the stored one as bytes, so a hit never hashes it,
  and note and text are always read as the pair they were written as.

The coordinator's locks and event streams live beside, under the same prefix (see
:mod:`delphos.coordination.redis_store`).

Errors are NOT caught here: :class:`delphos.cache.resilient.ResilientCache` decides what a
Redis failure means for a request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from redis.exceptions import RedisError

from delphos.cache.redis_get import RedisGet, supports
from delphos.cache.store import CacheEntry, CacheHealth, CacheHit, decide
from delphos.redis_guard import connect, safe_redis_location

__all__ = ["RedisCache"]

_KEY_MEMO_SIZE = 4096
_HASH_CHARS = 64  # a SHA-256 in hex: the text hash and the soap hash lead every note value
_LENGTH_DIGITS = 10
_TEXT_AT = 2 * _HASH_CHARS + _LENGTH_DIGITS


def _split_entry(value: bytes | None) -> tuple[bytes, int, int] | None:
    """(soap hash, start, end) of a stored entry: the text is ``value[start:end]`` and the
    payload JSON ``value[end:]``. Offsets, not slices: an exact hit compares the text in
    place, never copying it. None for no entry (or one this layout cannot read)."""
    if value is None or len(value) <= _TEXT_AT:
        return None
    length = value[2 * _HASH_CHARS : _TEXT_AT]
    if not length.isdigit():
        return None
    end = _TEXT_AT + int(length)
    if len(value) <= end:
        return None
    return value[_HASH_CHARS : 2 * _HASH_CHARS], _TEXT_AT, end


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class RedisCache:
    kind = "redis"

    def __init__(self, url: str, prefix: str, ttl_seconds: float, timeout: float) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be > 0")
        self._prefix = prefix
        self.timeout = timeout
        self._ttl_ms = max(1, round(ttl_seconds * 1000))
        self._location = safe_redis_location(url)
        self._redis = connect(url, timeout)
        # The hit path's one GET, on a lean client where the URL allows (redis_get.py).
        self._getter = RedisGet(url, timeout) if supports(url) else None
        self._get: Callable[[str], Awaitable[bytes | None]] = (
            self._getter.get if self._getter is not None else self._redis.get  # type: ignore[assignment]  # a bytes client
        )
        self._key_memo: dict[tuple[str, str], str] = {}

    @property
    def location(self) -> str:
        return self._location

    def entry_key(self, tenant_id: str, consultation_id: str) -> str:
        """The consultation's one cache key; the last few thousand are kept, as a repeated
        request (the hit path) would otherwise percent-encode and hash the same ids again."""
        ids = (tenant_id, consultation_id)
        key = self._key_memo.get(ids)
        if key is None:
            key = f"{self._prefix}:entry:{quote(tenant_id, safe='')}:{_digest(consultation_id)}"
            if len(self._key_memo) >= _KEY_MEMO_SIZE:
                self._key_memo.clear()  # simpler than LRU, and as good for a working set
            self._key_memo[ids] = key
        return key

    async def lookup(
        self,
        tenant_id: str,
        consultation_id: str,
        *,
        text: str,
        max_delta: int,
    ) -> CacheHit | None:
        raw = await self._get(self.entry_key(tenant_id, consultation_id))
        entry = _split_entry(raw)
        if entry is None:
            return None
        assert raw is not None
        soap_hash, start, end = entry
        wanted = text.encode()
        if len(wanted) == end - start and raw.startswith(wanted, start):
            return CacheHit(
                payload_json=raw[end:], soap_hash=soap_hash.decode(), reason="exact", delta_words=0
            )
        return decide(
            cached_text=raw[start:end].decode(),
            cached_soap_hash=soap_hash.decode(),
            raw_payload=raw[end:],
            text=text,
            max_delta=max_delta,
        )

    async def store(self, tenant_id: str, consultation_id: str, entry: CacheEntry) -> None:
        if len(entry.text_hash) != _HASH_CHARS or len(entry.soap_hash) != _HASH_CHARS:
            raise ValueError("text_hash and soap_hash must be SHA-256 hex digests")
        text = entry.text.encode()
        value = b"".join(
            (
                (entry.text_hash + entry.soap_hash).encode(),
                b"%010d" % len(text),
                text,
                entry.payload_json,
            )
        )
        # One key, one SET: readers never see a note without its text, and the time to
        # live restarts with every write.
        await self._redis.set(self.entry_key(tenant_id, consultation_id), value, px=self._ttl_ms)

    async def ping(self) -> None:
        """Raises the Redis error if the server does not answer."""
        await self._redis.ping()

    async def health(self) -> CacheHealth:
        try:
            await self.ping()
        except (RedisError, OSError) as exc:
            return CacheHealth(
                kind=self.kind, ok=False, detail=f"{self._location}: {type(exc).__name__}"
            )
        return CacheHealth(kind=self.kind, ok=True, detail=self._location)

    async def aclose(self) -> None:
        try:
            if self._getter is not None:
                await self._getter.aclose()
        finally:
            await self._redis.aclose()
