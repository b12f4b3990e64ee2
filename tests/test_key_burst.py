"""A burst on a tenant key whose cache entry just expired costs one database lookup.

Before single flight, every request of the burst looked the key up itself: at 2,000
concurrent requests the pool ran dry and ~600 got 503 from a healthy database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from delphos.db import keys
from delphos.db.database import Database
from delphos.records import TenantRef
from tests.support.fixtures.server import Backend

BURST = 300
CACHE_SECONDS = 2.0


async def test_a_burst_after_the_key_cache_expired_makes_one_lookup_and_no_errors(
    make_server: Callable[..., Any], backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups = 0
    real = keys.authenticate

    async def counting(db: Database, raw: str) -> TenantRef | None:
        nonlocal lookups
        lookups += 1
        await asyncio.sleep(0.05)  # a database under load: the burst arrives meanwhile
        return await real(db, raw)

    monkeypatch.setattr(keys, "authenticate", counting)
    loop = asyncio.get_running_loop()
    async with make_server(key_cache_seconds=CACHE_SECONDS, **backend.overrides) as srv:
        raw, info = await keys.create_key(srv.app_state.db, "burst-clinic")
        limits = httpx.Limits(max_connections=BURST, max_keepalive_connections=BURST)
        async with httpx.AsyncClient(base_url=srv.url, timeout=60, limits=limits) as client:

            async def one() -> int:
                resp = await client.get(
                    "/v1/consultations/none/soap-notes", headers={"x-api-key": raw}
                )
                return resp.status_code

            assert await one() == 404  # known key, unknown consultation
            await asyncio.sleep(CACHE_SECONDS + 0.2)  # the entry expires
            lookups = 0
            started = loop.time()
            statuses = await asyncio.gather(*(one() for _ in range(BURST)))
            # One lookup per expiry: a burst outlasting the cache entry looks up again.
            allowed = 1 + int((loop.time() - started) / CACHE_SECONDS)
            burst_lookups = lookups

            # Revocation still takes effect within key_cache_seconds.
            assert await keys.revoke_key(srv.app_state.db, info.id)
            await asyncio.sleep(CACHE_SECONDS + 0.2)
            after_revoke = await one()

    assert sorted(set(statuses)) == [404], {s: statuses.count(s) for s in set(statuses)}
    assert burst_lookups <= allowed, f"{burst_lookups} lookups for one key (at most {allowed})"
    assert after_revoke == 401
