"""The async engine and session factory for SQLite (embedded default) or Postgres.

One ``Database`` per process. Its URL is normalised so operators can paste the URL
their hosting gives them (``postgres://…``) or a plain ``sqlite:///path``; the async
drivers (asyncpg, aiosqlite) are chosen here and nowhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from delphos.logs import quiet_text_leaking_loggers
from delphos.settings import DB_POOL_SIZE, DB_POOL_TIMEOUT

logger = logging.getLogger(__name__)

# Postgres connection attempts give up after this many seconds: when the database is down
# a request (or the note recorder) must learn it quickly rather than hang.
DEFAULT_CONNECT_TIMEOUT = 3.0
# A Postgres statement that has not answered in this many seconds fails instead of holding
# a request (or a pooled connection) forever when the server stalls.
DEFAULT_COMMAND_TIMEOUT = 30.0
# Connections kept open between bursts; the rest of the pool is opened on demand.
_POOL_KEPT = 5
# SQLite waits this long for another writer's lock before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 5000


def normalize_url(url: str) -> str:
    """Return the SQLAlchemy async URL for ``url``.

    ``postgres://`` and ``postgresql://`` become ``postgresql+asyncpg://``; ``sqlite://``
    becomes ``sqlite+aiosqlite://``. A URL that already names a driver is kept as is.
    """
    parsed = _parse(url)
    return parsed.render_as_string(hide_password=False)


def _parse(url: str) -> URL:
    raw = url.strip()
    if not raw:
        raise ValueError("database URL is empty")
    # SQLAlchemy no longer accepts the "postgres" scheme that many hosts hand out.
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://") :]
    parsed = make_url(raw)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed


def sqlite_file(url: URL) -> Path | None:
    """The file behind a SQLite URL, or None for in-memory / URI databases."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def private_dir(path: Path) -> None:
    """``path`` (and missing parents) as a directory only its owner can enter: Delphos's
    data directory holds the database, the note spool and session audio."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def secure_sqlite_file(url: str) -> None:
    """Create the SQLite database file 0600 (in a 0700 directory) before SQLite opens it,
    and tighten one made earlier. SQLite gives its -wal and -shm files the database file's
    mode, so they follow. Without this the files were 0644: every local user could read
    the notes."""
    path = sqlite_file(_parse(url))
    if path is None:
        return
    private_dir(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600))
    for name in (path.name, path.name + "-wal", path.name + "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path.with_name(name), 0o600)


def backend_name(url: str) -> str:
    """``"sqlite"`` or ``"postgresql"`` for a (possibly un-normalised) URL."""
    return _parse(url).get_backend_name()


class Database:
    """Engine + session factory. Create once at startup; ``aclose()`` at shutdown."""

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        pool_size: int = DB_POOL_SIZE,
        pool_timeout: float = DB_POOL_TIMEOUT,
    ) -> None:
        parsed = _parse(url)
        self.url: str = parsed.render_as_string(hide_password=False)
        self.backend: str = parsed.get_backend_name()
        self.engine: AsyncEngine = self._create_engine(
            parsed, connect_timeout, pool_size, pool_timeout
        )
        self.sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False
        )
        self._connect_timeout = connect_timeout

    @staticmethod
    def _create_engine(
        url: URL, connect_timeout: float, pool_size: int, pool_timeout: float
    ) -> AsyncEngine:
        # hide_parameters everywhere: a failed statement's exception otherwise quotes its
        # parameters (a note, its source text) in its message, and so in any traceback.
        backend = url.get_backend_name()
        if backend == "sqlite":
            secure_sqlite_file(url.render_as_string(hide_password=False))
            # aiosqlite logs every statement with its parameters (patient text) at DEBUG;
            # also when the database is used without the app (the CLI, tests, embedding).
            quiet_text_leaking_loggers()
            engine = create_async_engine(url, hide_parameters=True)
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
            return engine
        if backend == "postgresql":
            return create_async_engine(
                url,
                hide_parameters=True,
                # Connections in the pool die with a database restart; test them before use
                # so the first request after an outage does not fail.
                pool_pre_ping=True,
                # At most pool_size connections, and bounded waits everywhere: opening a
                # connection, and waiting for a free one (then 503, errors.UNAVAILABLE).
                pool_size=min(pool_size, _POOL_KEPT),
                max_overflow=pool_size - min(pool_size, _POOL_KEPT),
                pool_timeout=pool_timeout,
                connect_args={
                    "timeout": connect_timeout,
                    "command_timeout": DEFAULT_COMMAND_TIMEOUT,
                },
            )
        return create_async_engine(url, pool_pre_ping=True, hide_parameters=True)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits when the block ends, or rolls back on error."""
        async with self.sessionmaker() as session:
            try:
                yield session
            except BaseException:
                # The original error (or cancellation) must reach the caller, not a second
                # one from rolling back on a connection that has just died.
                try:
                    await session.rollback()
                except Exception as exc:
                    logger.debug("rollback failed: %s", type(exc).__name__)
                raise
            else:
                await session.commit()

    async def ping(self, within: float | None = None) -> bool:
        """True when a real ``SELECT 1`` succeeds within ``within`` seconds. Never raises."""
        limit = within if within is not None else self._connect_timeout + 1.0
        try:
            async with asyncio.timeout(limit):
                async with self.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except Exception as exc:
            # The class name only: driver messages can carry connection details.
            logger.debug("database ping failed: %s", type(exc).__name__)
            return False
        return True

    async def aclose(self) -> None:
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers proceed while a note is written; SQLite leaves foreign keys off
    # unless asked, per connection.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()
