"""Persistence: SQLAlchemy async models, Alembic migrations, repository, keys, recorder.

SQLite (aiosqlite) is the embedded default; Postgres (asyncpg) for shared deployments.
The application talks to ``repository``, ``keys`` and ``recorder`` only; the records they
take and return are in ``delphos.records``.
"""

from delphos.db.database import Database, normalize_url
from delphos.db.recorder import NoteRecorder

__all__ = ["Database", "NoteRecorder", "normalize_url"]
