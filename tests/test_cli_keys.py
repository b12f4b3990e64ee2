"""`delphos migrate` and `delphos keys …`, run as the installed console script against the
database a real server uses (SQLite file and the shared Postgres)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import inspect, text

from delphos.db.database import Database
from tests.support.fixtures.server import Backend
from tests.support.notes_api import body, dialogue, headers, soap_of, stream, words_prefix

DELPHOS = Path(sys.executable).parent / "delphos"
KEY = re.compile(r"^dlp_[A-Za-z0-9_-]{43}$", re.M)


async def delphos(
    database_url: str, tmp_path: Path, *args: str, ok: bool = True
) -> tuple[int, str, str]:
    """Run the console script; returns (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        str(DELPHOS),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,
        env={
            **os.environ,
            "DELPHOS_DATABASE_URL": database_url,
            "DELPHOS_DATA_DIR": str(tmp_path / "cli-data"),
            "DELPHOS_LOG_LEVEL": "warning",
        },
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    code = proc.returncode
    assert code is not None
    if ok:
        assert code == 0, err.decode()
    return code, out.decode(), err.decode()


async def test_migrate_brings_an_empty_database_to_the_schema(
    blank_database_url: str, tmp_path: Path
) -> None:
    _, first, _ = await delphos(blank_database_url, tmp_path, "migrate")
    _, again, _ = await delphos(blank_database_url, tmp_path, "migrate")  # idempotent
    _, listing, _ = await delphos(blank_database_url, tmp_path, "keys", "list")

    db = Database(blank_database_url)
    try:
        async with db.engine.connect() as conn:
            tables = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    finally:
        await db.aclose()

    assert "up to date" in first
    assert "up to date" in again
    assert {"tenants", "api_keys", "consultations", "note_versions"} <= tables
    assert version is not None
    assert listing.splitlines()[0].split()[:3] == ["id", "tenant", "prefix"]
    assert len(listing.splitlines()) == 1, "no keys yet"


async def test_a_created_key_is_shown_once_listed_without_it_works_and_revokes(
    make_server: Callable[..., Any], backend: Backend, tmp_path: Path
) -> None:
    url = backend.database_url
    _, created, _ = await delphos(url, tmp_path, "keys", "create", "--tenant", "clinic-x")
    (raw,) = KEY.findall(created)
    key_id = re.search(r"Created key ([0-9a-f]{32})", created)
    assert key_id is not None
    _, listing, _ = await delphos(url, tmp_path, "keys", "list")

    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT * FROM api_keys"))).mappings().all()
    finally:
        await db.aclose()
    assert len(rows) == 1
    assert rows[0]["key_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert all(raw not in str(value) for value in rows[0].values()), "never stored in plaintext"
    if backend.name == "embedded":
        stored = b"".join(p.read_bytes() for p in Path(url.split("///", 1)[1]).parent.glob("*.db*"))
        assert raw.encode() not in stored

    assert key_id.group(1) in listing
    assert "clinic-x" in listing
    assert raw[:12] in listing, "the prefix tells keys apart"
    assert raw not in listing
    assert "active" in listing

    text_ = words_prefix(dialogue(17), 80)
    async with (
        make_server(key_cache_seconds=0, **backend.overrides) as srv,
        httpx.AsyncClient(timeout=30) as client,
    ):
        note = soap_of(await stream(client, srv, body("k-visit", text_), key=raw))
        # The key belongs to clinic-x: the bootstrap tenant cannot see that consultation.
        own = await client.get(f"{srv.url}/v1/consultations/k-visit", headers=headers(raw))
        bootstrap = await client.get(f"{srv.url}/v1/consultations/k-visit", headers=srv.headers)

        _, revoked, _ = await delphos(url, tmp_path, "keys", "revoke", key_id.group(1))
        after = await client.post(
            f"{srv.url}/v1/consultation/progressive-soap/stream",
            json=body("k-visit", text_),
            headers=headers(raw),
        )
        history_after = await client.get(
            f"{srv.url}/v1/consultations/k-visit", headers=headers(raw)
        )
    _, listing_after, _ = await delphos(url, tmp_path, "keys", "list", "--tenant", "clinic-x")
    code, _, complaint = await delphos(url, tmp_path, "keys", "revoke", key_id.group(1), ok=False)

    assert note["cached"] is False
    assert own.status_code == 200
    assert own.json()["latest"]["soap_hash"] == note["soap_hash"]
    assert bootstrap.status_code == 404
    assert "Revoked" in revoked
    assert after.status_code == 401
    assert after.json()["code"] == "UNAUTHORIZED"
    assert history_after.status_code == 401
    assert "revoked" in listing_after
    assert code == 1, "revoking twice is reported"
    assert key_id.group(1) in complaint
