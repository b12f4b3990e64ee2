"""What every repository module shares: the dialect's INSERT … ON CONFLICT, and the
consultation a write belongs to (created on first use)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, case
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from delphos.db.database import Database
from delphos.db.models import Base, Consultation
from delphos.records import id_problem


def check_external_id(external_id: str) -> None:
    """Reject ids the schema cannot hold before any write (the message holds no value)."""
    problem = id_problem(external_id)
    if problem is not None:
        raise ValueError(f"consultation id: {problem[0]}")


def insert(db: Database, model: type[Base]) -> PgInsert | SqliteInsert:
    # INSERT … ON CONFLICT is spelled the same on both backends but built per dialect.
    if db.backend == "postgresql":
        return pg_insert(model)
    return sqlite_insert(model)


async def upsert_consultation(
    db: Database, session: AsyncSession, tenant_id: str, external_id: str, at: datetime
) -> int:
    """Create the consultation or move its ``updated_at`` forward to ``at``; return its id."""
    check_external_id(external_id)
    stmt = insert(db, Consultation).values(
        tenant_id=tenant_id, external_id=external_id, created_at=at, updated_at=at
    )
    newer: ColumnElement[datetime] = case(
        (stmt.excluded.updated_at > Consultation.updated_at, stmt.excluded.updated_at),
        else_=Consultation.updated_at,
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=[Consultation.tenant_id, Consultation.external_id],
        # A replayed old note must not move updated_at backwards.
        set_={"updated_at": newer},
    ).returning(Consultation.id)
    result = await session.execute(upsert)
    return int(result.scalar_one())


def consultation_is(tenant_id: str, external_id: str) -> ColumnElement[bool]:
    return (Consultation.tenant_id == tenant_id) & (Consultation.external_id == external_id)
