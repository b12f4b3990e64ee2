"""The one set of Alembic migrations builds the same schema on SQLite and Postgres."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from delphos.db import repository
from delphos.db.database import Database
from delphos.db.migrate import PROJECT_ROOT, downgrade, upgrade
from delphos.db.models import Base
from tests.support.fixtures.db import RecordFactory

APP_TABLES = {
    "tenants",
    "api_keys",
    "consultations",
    "note_versions",
    "transcript_turns",
    "session_audio",
}


async def _tables(url: str) -> set[str]:
    database = Database(url)
    try:
        async with database.engine.connect() as conn:
            names: list[str] = await conn.run_sync(lambda c: inspect(c).get_table_names())
    finally:
        await database.aclose()
    return set(names)


async def test_upgrade_downgrade_upgrade_round_trip(
    blank_database_url: str, make_record: RecordFactory
) -> None:
    await upgrade(blank_database_url)
    assert await _tables(blank_database_url) >= APP_TABLES

    await downgrade(blank_database_url, "base")
    assert not (await _tables(blank_database_url) & APP_TABLES)

    await upgrade(blank_database_url)
    database = Database(blank_database_url)
    try:
        tenant = await repository.ensure_tenant(database, "clinic")
        await repository.save_note(database, make_record(tenant.id, "c-1"))
        info = await repository.get_consultation(database, tenant.id, "c-1")
    finally:
        await database.aclose()
    assert info is not None
    assert info.version_count == 1


def _diffs(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    diffs: list[Any] = compare_metadata(context, Base.metadata)
    return diffs


async def test_migrated_schema_matches_the_models(db: Database) -> None:
    # A model changed without a migration (or the reverse) shows up here.
    async with db.engine.connect() as conn:
        diffs = await conn.run_sync(_diffs)
    assert diffs == []


def test_alembic_cli_takes_the_url_from_x_argument(blank_database_url: str, tmp_path: Path) -> None:
    # -x url wins over DELPHOS_DATABASE_URL: the decoy database must not be created.
    decoy = tmp_path / "decoy" / "decoy.db"
    env = {**os.environ, "DELPHOS_DATABASE_URL": f"sqlite:///{decoy}"}
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "-x", f"url={blank_database_url}", "upgrade", "head"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert not decoy.exists()

    current = subprocess.run(
        [sys.executable, "-m", "alembic", "-x", f"url={blank_database_url}", "current"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert current.returncode == 0, current.stderr
    assert "(head)" in current.stdout  # at the newest revision, whichever it is
