"""API-key authentication: the bootstrap keys from the environment, then database keys.

Keys are compared as SHA-256 digests with `hmac.compare_digest`. Database answers are
trusted in process for `key_cache_seconds` so a hot path (cache hits) costs no query; a
revoked key therefore stops working within that many seconds (plus one lookup).

Single flight: when an entry is missing or has expired, ONE lookup per key runs and every
request for that key waits on it. Without this, a burst arriving as a busy key's entry
expired sent each request to the database at once (2,000 of them exhausted the pool and
~600 got 503 from a healthy database).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time

from delphos.db import keys as key_store
from delphos.db.database import Database
from delphos.errors import DATABASE_RETRY_SECONDS, ServiceUnavailable, Unauthorized
from delphos.metrics import KEY_LOOKUPS
from delphos.records import TenantRef

log = logging.getLogger("delphos.auth")

_NEGATIVE_SECONDS = 5.0
_MAX_CACHED = 10_000


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class Authenticator:
    def __init__(
        self,
        *,
        db: Database,
        bootstrap_keys: list[str],
        bootstrap_tenant: TenantRef,
        cache_seconds: float,
    ) -> None:
        self._db = db
        self._bootstrap = [_digest(k) for k in bootstrap_keys]
        self._bootstrap_tenant = bootstrap_tenant
        self._ttl = cache_seconds
        self._cache: dict[str, tuple[float, TenantRef | None]] = {}
        # The lookup in flight for each key digest, shared by every request that needs it.
        self._lookups: dict[str, asyncio.Task[TenantRef | None]] = {}
        self.lookups = 0  # database lookups made (for /metrics and tests)

    async def authenticate(self, raw: str | None) -> TenantRef:
        if not raw:
            raise Unauthorized()
        digest = _digest(raw)
        matched = False
        for known in self._bootstrap:  # no early exit: same work whichever key matches
            matched |= hmac.compare_digest(digest, known)
        if matched:
            return self._bootstrap_tenant
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            KEY_LOOKUPS.labels("cached").inc()
            if cached[1] is None:
                raise Unauthorized()
            return cached[1]
        lookup = self._lookups.get(digest)
        KEY_LOOKUPS.labels("database" if lookup is None else "joined").inc()
        if lookup is None:
            lookup = asyncio.get_running_loop().create_task(self._lookup(raw))
            self._lookups[digest] = lookup

            def settle(task: asyncio.Task[TenantRef | None]) -> None:
                # The next request (after a success or a failure) reads the cache entry
                # or starts a fresh lookup; failures are not cached. Retrieving the
                # outcome keeps asyncio quiet when every waiter has left.
                self._lookups.pop(digest, None)
                if not task.cancelled():
                    task.exception()

            lookup.add_done_callback(settle)
        # Shielded: one waiter leaving (a client gone) must not cancel it for the others.
        tenant = await asyncio.shield(lookup)
        if tenant is None:
            raise Unauthorized()
        return tenant

    async def _lookup(self, raw: str) -> TenantRef | None:
        self.lookups += 1
        digest = _digest(raw)
        try:
            tenant = await key_store.authenticate(self._db, raw)
        except Exception as exc:
            log.warning("API key lookup failed: %s", type(exc).__name__)
            raise ServiceUnavailable(
                "Cannot verify the API key: the database is unavailable",
                retry_after=DATABASE_RETRY_SECONDS,
            ) from None
        if len(self._cache) >= _MAX_CACHED:
            self._cache.clear()
        ttl = self._ttl if tenant is not None else min(self._ttl, _NEGATIVE_SECONDS)
        self._cache[digest] = (time.monotonic() + ttl, tenant)
        return tenant
