"""Note cache in Redis, shared by every worker.

Layout, under a configurable prefix (tests use their own):

- ``{prefix}:note:{tenant}:{sha256(consultation)}`` — a string: the text hash (64 hex),
  the soap hash (64 hex), then the payload JSON. The tenant is percent-encoded (readable,
  and no ``:`` inside can make two keys collide); the consultation id is hashed because
  it is an arbitrary string of up to 255 characters.
- ``{prefix}:text:{tenant}:{sha256(consultation)}`` — the text the note was made from.
  The exact-match path (the hot one: a client repeating its text) is ONE plain GET that
  never transfers the text, the cheapest read redis-py does; only a differing hash costs
  a second round trip (MGET of both keys, so the pair is read at one instant).
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
    # The client decodes responses; bytes only appear if that setting is ever changed.
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value


def _split_note(value: bytes | str | None) -> tuple[str, str, str] | None:
    """(text hash, soap hash, payload JSON) of a stored note value, or None."""
    note = _text(value)
    if note is None or len(note) <= 2 * _HASH_CHARS:
        return None
    return note[:_HASH_CHARS], note[_HASH_CHARS : 2 * _HASH_CHARS], note[2 * _HASH_CHARS :]


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _stream_entries(reply: Any) -> list[tuple[str, dict[str, str]]]:
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
            decode_responses=True,
            # No per-operation socket timeout: redis-py would wrap every write in
            # asyncio.wait_for (a task per command, on the cache-hit path). The resilient
            # wrapper's deadline bounds each whole operation instead; used bare (tests),
            # a hung server blocks. Connecting is still bounded.
            socket_timeout=None,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
        )
        self._unlock_script = self._redis.register_script(_UNLOCK_LUA)
        self._extend_script = self._redis.register_script(_EXTEND_LUA)

    @property
    def location(self) -> str:
        return self._location

    def note_key(self, tenant_id: str, consultation_id: str) -> str:
        return f"{self._prefix}:note:{quote(tenant_id, safe='')}:{_digest(consultation_id)}"

    def text_key(self, tenant_id: str, consultation_id: str) -> str:
        return f"{self._prefix}:text:{quote(tenant_id, safe='')}:{_digest(consultation_id)}"

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
        text_hash: str,
        max_delta: int,
    ) -> CacheHit | None:
        key = self.note_key(tenant_id, consultation_id)
        note = _split_note(await self._redis.get(key))
        if note is None:
            return None
        cached_hash, soap_hash, payload = note
        if cached_hash == text_hash:
            return CacheHit(
                payload_json=payload, soap_hash=soap_hash, reason="exact", delta_words=0
            )
        if max_delta <= 0:
            return None
        # Both keys in one command: a note stored by another worker between the two round
        # trips must not pair one note's payload with another's text.
        raw_note, raw_text = await self._redis.mget(
            [key, self.text_key(tenant_id, consultation_id)]
        )
        note = _split_note(raw_note)
        cached_text = _text(raw_text)
        if note is None or cached_text is None:
            return None
        cached_hash, soap_hash, payload = note
        if cached_hash == text_hash:
            return CacheHit(
                payload_json=payload, soap_hash=soap_hash, reason="exact", delta_words=0
            )
        return decide(
            cached_text=cached_text,
            cached_soap_hash=soap_hash,
            raw_payload=payload,
            text=text,
            max_delta=max_delta,
        )

    async def store(self, tenant_id: str, consultation_id: str, entry: CacheEntry) -> None:
        if len(entry.text_hash) != _HASH_CHARS or len(entry.soap_hash) != _HASH_CHARS:
            raise ValueError("text_hash and soap_hash must be SHA-256 hex digests")
        note = entry.text_hash + entry.soap_hash + encode_payload(entry.payload)
        # MULTI/EXEC in one round trip: readers never see a half-written entry, and the
        # time to live restarts with every write.
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self.note_key(tenant_id, consultation_id), note, px=self._ttl_ms)
            pipe.set(self.text_key(tenant_id, consultation_id), entry.text, px=self._ttl_ms)
            await pipe.execute()

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
            name = _text(fields.get("n"))
            raw = _text(fields.get("d"))
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
