"""Persistence: SQLAlchemy async models, Alembic migrations, repository, keys, recorder.

SQLite (aiosqlite) is the embedded default; Postgres (asyncpg) for shared deployments.
The application talks to ``repository``, ``keys`` and ``recorder`` only.
"""

from delphos.db.database import Database, normalize_url
from delphos.db.recorder import NoteRecorder
from delphos.db.repository import (
    AudioInfo,
    ConsultationInfo,
    NoteRecord,
    StoredNote,
    TenantRef,
    TurnInfo,
)

__all__ = [
    "AudioInfo",
    "ConsultationInfo",
    "Database",
    "NoteRecord",
    "NoteRecorder",
    "StoredNote",
    "TenantRef",
    "TurnInfo",
    "normalize_url",
]
