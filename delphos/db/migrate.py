"""Programmatic Alembic: bring a database to the newest schema at startup or from the CLI.

The migration environment (migrations/env.py) is async and runs its own event loop with
``asyncio.run``; ``upgrade`` therefore runs the Alembic command in a worker thread, which
makes it safe to await from inside a running application loop.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from delphos.db.database import secure_sqlite_file

# The migrations live at the repository root, beside alembic.ini.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config for ``url`` that needs no alembic.ini and touches no logging."""
    if not (MIGRATIONS_DIR / "env.py").is_file():
        raise RuntimeError(f"Alembic migrations not found in {MIGRATIONS_DIR}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not as sqlalchemy.url: ini interpolation would mangle a
    # password containing '%'.
    config.attributes["database_url"] = url
    return config


def upgrade_sync(url: str, revision: str = "head") -> None:
    """``alembic upgrade <revision>``. Do not call from a thread running an event loop."""
    secure_sqlite_file(url)
    command.upgrade(alembic_config(url), revision)


def downgrade_sync(url: str, revision: str) -> None:
    """``alembic downgrade <revision>`` (``"base"`` drops every table)."""
    command.downgrade(alembic_config(url), revision)


async def upgrade(url: str, revision: str = "head") -> None:
    """``alembic upgrade <revision>`` from async code."""
    await asyncio.to_thread(upgrade_sync, url, revision)


async def downgrade(url: str, revision: str) -> None:
    await asyncio.to_thread(downgrade_sync, url, revision)
