"""API-key authentication: the bootstrap keys from the environment, then database keys.

Keys are compared as SHA-256 digests with `hmac.compare_digest`. Database answers are
trusted in process for `key_cache_seconds` so a hot path (cache hits) costs no query; a
revoked key therefore stops working within that many seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

from delphos.db import keys as key_store
from delphos.db.database import Database
from delphos.db.repository import TenantRef
from delphos.errors import ServiceUnavailable, Unauthorized

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
            if cached[1] is None:
                raise Unauthorized()
            return cached[1]
        try:
            tenant = await key_store.authenticate(self._db, raw)
        except Exception as exc:
            log.warning("API key lookup failed: %s", type(exc).__name__)
            raise ServiceUnavailable(
                "Cannot verify the API key: the database is unavailable"
            ) from None
        if len(self._cache) >= _MAX_CACHED:
            self._cache.clear()
        ttl = self._ttl if tenant is not None else min(self._ttl, _NEGATIVE_SECONDS)
        self._cache[digest] = (now + ttl, tenant)
        if tenant is None:
            raise Unauthorized()
        return tenant
