"""Note cache in Redis, shared by every worker.

Layout, under a configurable prefix (tests use their own):

- ``{prefix}:note:{tenant}:{sha256(consultation)}`` — a hash with ``th`` (text hash),
  ``sh`` (soap hash), ``p`` (payload JSON) and ``t`` (the text). The tenant is
  percent-encoded (readable, and no ``:`` inside can make two keys collide); the
  consultation id is hashed because it is an arbitrary string of up to 255 characters.
  The text sits in its own field so the exact-match path (one HMGET of th/sh/p) never
  transfers it; only a differing hash costs a second round trip that fetches it.
- ``{prefix}:lock:{sha256(name)}`` — ``SET NX PX`` locks released by compare-and-delete.

Errors are NOT caught here: :class:`delphos.cache.resilient.ResilientCache` decides what a
Redis failure means for a request.
"""

from __future__ import annotations

import hashlib
import secrets
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

_EXACT_FIELDS = ("th", "sh", "p")
_DELTA_FIELDS = ("th", "sh", "p", "t")


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
        # One immediate retry, no backoff: after Redis restarts, pooled sockets are dead
        # and the retry reconnects transparently; while Redis is down it only doubles an
        # instant "connection refused". redis-py's default (10 retries with backoff) would
        # stall every request for seconds while Redis is down.
        self._redis: Redis = Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
        )
        self._unlock_script = self._redis.register_script(_UNLOCK_LUA)

    @property
    def location(self) -> str:
        return self._location

    def note_key(self, tenant_id: str, consultation_id: str) -> str:
        return f"{self._prefix}:note:{quote(tenant_id, safe='')}:{_digest(consultation_id)}"

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
        cached_hash, soap_hash, payload = map(
            _text, await self._redis.hmget(key, list(_EXACT_FIELDS))
        )
        if cached_hash is None or soap_hash is None or payload is None:
            return None
        if cached_hash == text_hash:
            return CacheHit(
                payload=decode_payload(payload),
                soap_hash=soap_hash,
                reason="exact",
                delta_words=0,
            )
        if max_delta <= 0:
            return None
        # All four fields again in one command: a note stored by another worker between
        # the two round trips must not pair one note's payload with another's text.
        cached_hash, soap_hash, payload, cached_text = map(
            _text, await self._redis.hmget(key, list(_DELTA_FIELDS))
        )
        if cached_hash is None or soap_hash is None or payload is None or cached_text is None:
            return None
        if cached_hash == text_hash:
            return CacheHit(
                payload=decode_payload(payload),
                soap_hash=soap_hash,
                reason="exact",
                delta_words=0,
            )
        return decide(
            cached_text=cached_text,
            cached_soap_hash=soap_hash,
            raw_payload=payload,
            text=text,
            max_delta=max_delta,
        )

    async def store(self, tenant_id: str, consultation_id: str, entry: CacheEntry) -> None:
        key = self.note_key(tenant_id, consultation_id)
        fields: dict[FieldT, EncodableT] = {
            "th": entry.text_hash,
            "sh": entry.soap_hash,
            "p": encode_payload(entry.payload),
            "t": entry.text,
        }
        # MULTI/EXEC in one round trip: readers never see a half-written entry, and the
        # time to live restarts with every write.
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping=fields)
            pipe.pexpire(key, self._ttl_ms)
            await pipe.execute()

    async def try_lock(self, name: str, ttl_seconds: float) -> str | None:
        token = secrets.token_hex(16)
        acquired = await self._redis.set(
            self.lock_key(name), token, nx=True, px=max(1, round(ttl_seconds * 1000))
        )
        return token if acquired else None

    async def unlock(self, name: str, token: str) -> None:
        await self._unlock_script(keys=[self.lock_key(name)], args=[token])

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
