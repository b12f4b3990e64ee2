"""Note cache in Redis, shared by every worker.

Layout, under a configurable prefix (tests use their own):

- ``{prefix}:entry:{tenant}:{sha256(consultation)}`` — one value, bytes: the text hash
  (64 hex), the soap hash (64 hex), the byte length of the text (10 digits), the text the
  note was made from (UTF-8), then the payload as one-line UTF-8 JSON, ready to be written
  out as a hit's `soap` event. The tenant is percent-encoded (readable, and no ``:``
  inside can make two keys collide); the consultation id is hashed because it is an
  arbitrary string of up to 255 characters. Every lookup is ONE plain GET (the cheapest
  read redis-py does: an MGET of two keys costs more than a SHA-256); the request's text
  is compared with the stored one as bytes, so a hit never hashes it, and note and text
  are always read as the pair they were written as.
- ``{prefix}:lock:{sha256(name)}`` — ``SET NX PX`` locks released by compare-and-delete.
- ``{prefix}:events:{sha256(stream)}`` — a Redis Stream of one generation's events
  (fields ``n`` name, ``d`` JSON data), so a worker that did not win the generation lock
  can replay them from the start and relay them to its own client. It expires a while
  after its last event.

Errors are NOT caught here: :class:`delphos.cache.resilient.ResilientCache` decides what a
Redis failure means for a request.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any
from urllib.parse import quote, urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.typing import EncodableT, FieldT

from delphos.cache.store import (
    CacheEntry,
    CacheHealth,
    CacheHit,
    StreamEvent,
    decide,
    decode_payload,
    encode_payload,
)

__all__ = ["RedisCache", "safe_redis_location"]

# Compare-and-delete: a lock that expired and was taken by another worker must not be
# released by the first holder finishing late.
_UNLOCK_LUA = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""

# Compare-and-extend: only the holder may keep its lock alive.
_EXTEND_LUA = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""

_KEY_MEMO_SIZE = 4096
_HASH_CHARS = 64  # a SHA-256 in hex: the text hash and the soap hash lead every note value


def safe_redis_location(url: str) -> str:
    """Where the cache lives, for logs and health: scheme, host, port, db — no credentials."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    host = parts.hostname or "localhost"
    port = parts.port or 6379
    return f"{parts.scheme}://{host}:{port}{parts.path or '/0'}"


def _text(value: bytes | str | None) -> str | None:
    # The client answers bytes (the hit path never decodes a note); ids and texts are UTF-8.
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value


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


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _stream_entries(reply: Any) -> list[tuple[str, dict[Any, Any]]]:
    """The (id, fields) pairs of a one-stream XREAD reply (RESP2 list or RESP3 map)."""
    if not reply:
        return []
    if isinstance(reply, dict):
        streams = list(reply.values())
        entries = streams[0] if streams else []
        if entries and isinstance(entries[0], list) and len(entries) == 1:
            entries = entries[0]
    else:
        entries = reply[0][1]
    return [(_text(entry_id) or "", fields) for entry_id, fields in entries]


def _field(fields: dict[Any, Any], name: str) -> str | None:
    """A stream entry's field, whichever way the client keyed it (bytes or text)."""
    value = fields.get(name.encode())
    return _text(value if value is not None else fields.get(name))


class RedisCache:
    kind = "redis"
    shared = True

    def __init__(self, url: str, prefix: str, ttl_seconds: float, timeout: float) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be > 0")
        self._prefix = prefix
        self.timeout = timeout
        self._ttl_ms = max(1, round(ttl_seconds * 1000))
        self._location = safe_redis_location(url)
        # One immediate retry, no backoff: after Redis restarts, pooled sockets are dead
        # and the retry reconnects transparently; while Redis is down it only doubles an
        # instant "connection refused". redis-py's default (10 retries with backoff) would
        # stall every request for seconds while Redis is down.
        self._redis: Redis = Redis.from_url(
            url,
            # Bytes: a cache hit goes from the socket to the response without a decode
            # and re-encode of the note (hundreds of microseconds on a long one).
            decode_responses=False,
            # No per-operation socket timeout: redis-py would wrap every write in
            # asyncio.wait_for (a task per command, on the cache-hit path). The resilient
            # wrapper's deadline bounds each whole operation instead; used bare (tests),
            # a hung server blocks. Connecting is still bounded.
            socket_timeout=None,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
        )
        self._key_memo: dict[tuple[str, str], str] = {}
        self._unlock_script = self._redis.register_script(_UNLOCK_LUA)
        self._extend_script = self._redis.register_script(_EXTEND_LUA)

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

    def lock_key(self, name: str) -> str:
        # Hashed: callers build names from ids, and a key name must never carry anything
        # that could be patient text.
        return f"{self._prefix}:lock:{_digest(name)}"

    async def lookup(
        self,
        tenant_id: str,
        consultation_id: str,
        *,
        text: str,
        max_delta: int,
    ) -> CacheHit | None:
        raw: bytes | None = await self._redis.get(self.entry_key(tenant_id, consultation_id))  # type: ignore[assignment]  # a bytes client
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
                encode_payload(entry.payload),
            )
        )
        # One key, one SET: readers never see a note without its text, and the time to
        # live restarts with every write.
        await self._redis.set(self.entry_key(tenant_id, consultation_id), value, px=self._ttl_ms)

    async def try_lock(self, name: str, ttl_seconds: float) -> str | None:
        token = secrets.token_hex(16)
        acquired = await self._redis.set(self.lock_key(name), token, nx=True, px=_ms(ttl_seconds))
        return token if acquired else None

    async def unlock(self, name: str, token: str) -> None:
        await self._unlock_script(keys=[self.lock_key(name)], args=[token])

    async def extend_lock(self, name: str, token: str, ttl_seconds: float) -> bool:
        extended = await self._extend_script(
            keys=[self.lock_key(name)], args=[token, _ms(ttl_seconds)]
        )
        return bool(extended)

    async def lock_owner(self, name: str) -> str | None:
        return _text(await self._redis.get(self.lock_key(name)))

    def events_key(self, stream: str) -> str:
        return f"{self._prefix}:events:{_digest(stream)}"

    async def publish_event(
        self, stream: str, name: str, data: dict[str, Any], ttl_seconds: float
    ) -> None:
        key = self.events_key(stream)
        fields: dict[FieldT, EncodableT] = {
            "n": name,
            "d": json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        }
        # One round trip; the expiry restarts with every event so a stream outlives its
        # generation by ttl_seconds and then disappears by itself.
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xadd(key, fields)
            pipe.pexpire(key, _ms(ttl_seconds))
            await pipe.execute()

    async def read_events(
        self, stream: str, after: str, block_seconds: float
    ) -> list[StreamEvent] | None:
        key = self.events_key(stream)
        # A blocking read must come back well within the resilient wrapper's deadline
        # (2 x timeout), or it would look like an outage; block=0 would mean "forever".
        block_ms = int(min(block_seconds, self.timeout / 2) * 1000)
        reply = await self._redis.xread({key: after}, block=block_ms if block_ms > 0 else None)
        events: list[StreamEvent] = []
        for entry_id, fields in _stream_entries(reply):
            name = _field(fields, "n")
            raw = _field(fields, "d")
            if name is None or raw is None:
                continue
            events.append(StreamEvent(id=entry_id, name=name, data=decode_payload(raw)))
        return events

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
        await self._redis.aclose()
