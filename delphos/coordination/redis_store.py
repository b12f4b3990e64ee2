"""The coordinator in Redis, shared by every worker.

Layout, under the configured prefix (the note cache's; tests use their own):

- ``{prefix}:lock:{sha256(name)}`` — ``SET NX PX`` locks released by compare-and-delete.
- ``{prefix}:events:{sha256(stream)}`` — a Redis Stream of one generation's events
  (fields ``n`` name, ``d`` JSON data), so a worker that did not win the generation lock
  can replay them from the start and relay them to its own client. It expires a while
  after its last event.

Names are hashed: callers build them from ids, and a key name must never carry anything
that could be patient text. Errors are NOT caught here:
:class:`delphos.coordination.resilient.ResilientCoordinator` decides what a Redis failure
means for a request.
"""

from __future__ import annotations

import hashlib
from typing import Any

from redis.typing import EncodableT, FieldT

from delphos.coordination.base import StreamEvent, new_token
from delphos.redis_guard import connect, safe_redis_location

__all__ = ["RedisCoordinator"]

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


def _text(value: bytes | str | None) -> str | None:
    # The client answers bytes (see delphos.redis_guard.connect); ids are ASCII, data UTF-8.
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value


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


def _field(fields: dict[Any, Any], name: str) -> bytes | str | None:
    """A stream entry's field, whichever way the client keyed it (bytes or text)."""
    value: bytes | str | None = fields.get(name.encode())
    return value if value is not None else fields.get(name)


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


class RedisCoordinator:
    kind = "redis"
    shared = True

    def __init__(self, url: str, prefix: str, timeout: float) -> None:
        self._prefix = prefix
        self.timeout = timeout
        self.location = safe_redis_location(url)
        self._redis = connect(url, timeout)
        self._unlock_script = self._redis.register_script(_UNLOCK_LUA)
        self._extend_script = self._redis.register_script(_EXTEND_LUA)

    def _key(self, kind: str, name: str) -> str:
        return f"{self._prefix}:{kind}:{hashlib.sha256(name.encode()).hexdigest()}"

    def lock_key(self, name: str) -> str:
        return self._key("lock", name)

    def events_key(self, stream: str) -> str:
        return self._key("events", stream)

    async def try_lock(self, name: str, ttl_seconds: float) -> str | None:
        token = new_token()
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

    async def publish_event(
        self, stream: str, name: str, data_json: bytes, ttl_seconds: float
    ) -> None:
        key = self.events_key(stream)
        fields: dict[FieldT, EncodableT] = {"n": name, "d": data_json}
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
            name = _text(_field(fields, "n"))
            raw = _field(fields, "d")
            if name is None or raw is None:
                continue
            events.append(StreamEvent(id=entry_id, name=name, data=_bytes(raw)))
        return events

    async def aclose(self) -> None:
        await self._redis.aclose()
