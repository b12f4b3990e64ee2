"""Consultations with their version count and latest note (the history API's reads)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import defer

from delphos.db.database import Database
from delphos.db.models import Consultation, NoteVersion
from delphos.db.repository._sql import consultation_is
from delphos.db.repository.notes import note_record, versions
from delphos.records import NoteRecord


@dataclass(frozen=True)
class ConsultationInfo:
    tenant_id: str
    consultation_id: str  # external id
    created_at: datetime
    updated_at: datetime
    version_count: int
    latest: NoteRecord | None


@dataclass(frozen=True)
class ConsultationPage:
    items: list[ConsultationInfo]
    # The last item's row id when an older page exists (the list API's cursor).
    next_before_id: int | None


async def get_consultation(
    db: Database, tenant_id: str, external_id: str
) -> ConsultationInfo | None:
    async with db.session() as session:
        consultation = (
            await session.execute(
                select(Consultation).where(consultation_is(tenant_id, external_id))
            )
        ).scalar_one_or_none()
        if consultation is None:
            return None
        count = (
            await session.execute(
                select(func.count())
                .select_from(NoteVersion)
                .where(NoteVersion.consultation_id == consultation.id)
            )
        ).scalar_one()
        latest_row = (
            await session.execute(
                versions(tenant_id, external_id).order_by(NoteVersion.id.desc()).limit(1)
            )
        ).scalar_one_or_none()
    return ConsultationInfo(
        tenant_id=tenant_id,
        consultation_id=external_id,
        created_at=consultation.created_at,
        updated_at=consultation.updated_at,
        version_count=int(count),
        latest=None if latest_row is None else note_record(latest_row, tenant_id, external_id),
    )


async def list_consultations(
    db: Database, tenant_id: str, *, limit: int, before_id: int | None
) -> ConsultationPage:
    """The tenant's consultations, newest (most recently created) first, each with its
    version count and latest note: three queries per page, whatever its size."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    stmt = select(Consultation).where(Consultation.tenant_id == tenant_id)
    if before_id is not None:
        stmt = stmt.where(Consultation.id < before_id)
    # One extra row tells whether there is an older page without a count query.
    stmt = stmt.order_by(Consultation.id.desc()).limit(limit + 1)
    async with db.session() as session:
        rows: Sequence[Consultation] = (await session.execute(stmt)).scalars().all()
        page = rows[:limit]
        ids = [c.id for c in page]
        counts: dict[int, int] = {}
        latest: dict[int, NoteVersion] = {}
        if ids:
            count_rows = await session.execute(
                select(NoteVersion.consultation_id, func.count())
                .where(NoteVersion.consultation_id.in_(ids))
                .group_by(NoteVersion.consultation_id)
            )
            counts = {int(cid): int(n) for cid, n in count_rows.all()}
            newest = (
                select(func.max(NoteVersion.id))
                .where(NoteVersion.consultation_id.in_(ids))
                .group_by(NoteVersion.consultation_id)
            )
            notes = await session.execute(
                select(NoteVersion)
                .where(NoteVersion.id.in_(newest))
                .options(defer(NoteVersion.source_text))
            )
            latest = {n.consultation_id: n for n in notes.scalars().all()}
    items = [
        ConsultationInfo(
            tenant_id=tenant_id,
            consultation_id=c.external_id,
            created_at=c.created_at,
            updated_at=c.updated_at,
            version_count=counts.get(c.id, 0),
            latest=(
                note_record(latest[c.id], tenant_id, c.external_id) if c.id in latest else None
            ),
        )
        for c in page
    ]
    return ConsultationPage(items, page[-1].id if len(rows) > limit else None)
