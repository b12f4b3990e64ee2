"""Database: URL normalisation, SQLite set-up, transactions, and a ping that never hangs."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy import select, text

from delphos.db import repository
from delphos.db.database import Database, normalize_url
from delphos.db.models import Tenant, new_uuid, utcnow
from tests.support.ports import free_port


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p%40ss@db:5432/delphos", "postgresql+asyncpg://u:p%40ss@db:5432/delphos"),
        ("postgresql://u@db/delphos", "postgresql+asyncpg://u@db/delphos"),
        ("postgresql+asyncpg://u@db/delphos", "postgresql+asyncpg://u@db/delphos"),
        ("sqlite:///data/delphos.db", "sqlite+aiosqlite:///data/delphos.db"),
        ("sqlite:////abs/delphos.db", "sqlite+aiosqlite:////abs/delphos.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ],
)
def test_urls_are_normalised_to_async_drivers(given: str, expected: str) -> None:
    assert normalize_url(given) == expected


async def test_sqlite_file_gets_its_directory_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "delphos.db"
    db = Database(f"sqlite:///{path}")
    try:
        assert await db.ping()
        async with db.session() as session:
            mode = (await session.execute(text("PRAGMA journal_mode"))).scalar_one()
            fks = (await session.execute(text("PRAGMA foreign_keys"))).scalar_one()
    finally:
        await db.aclose()
    assert path.is_file()
    assert mode == "wal"
    assert fks == 1


async def _add_tenant_then_fail(db: Database) -> None:
    async with db.session() as session:
        session.add(Tenant(id=new_uuid(), name="ghost", created_at=utcnow()))
        await session.flush()
        raise RuntimeError("boom")


async def test_session_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        await _add_tenant_then_fail(db)
    async with db.session() as session:
        found = (await session.execute(select(Tenant).where(Tenant.name == "ghost"))).first()
    assert found is None
    # And the session after it commits normally.
    await repository.ensure_tenant(db, "real")
    async with db.session() as session:
        assert (await session.execute(select(Tenant.name))).scalars().all() == ["real"]


async def test_ping_is_true_on_a_live_database(db: Database) -> None:
    assert await db.ping() is True


async def test_ping_is_false_when_postgres_is_unreachable() -> None:
    db = Database(f"postgresql://postgres@127.0.0.1:{free_port()}/nothing", connect_timeout=1.0)
    try:
        assert await db.ping() is False
        with pytest.raises(ConnectionRefusedError):
            async with db.session() as session:
                await session.execute(text("SELECT 1"))
    finally:
        await db.aclose()


async def test_a_server_that_never_answers_fails_fast_instead_of_hanging() -> None:
    # Accepts TCP connections (the kernel does) but never speaks: the connect timeout,
    # not the test's own timeout, must end the attempt.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        db = Database(f"postgresql://postgres@127.0.0.1:{port}/x", connect_timeout=0.5)
        try:
            assert await db.ping(within=30) is False
            with pytest.raises(TimeoutError):
                async with db.session() as session:
                    await session.execute(text("SELECT 1"))
        finally:
            await db.aclose()
