"""What a live session keeps: its transcript's turns and its recordings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute

from delphos.db.database import Database
from delphos.db.models import Consultation, SessionAudio, TranscriptTurn, utcnow
from delphos.db.repository._sql import consultation_is, insert, upsert_consultation
from delphos.records import TURN_FLAGS, Turn

_Row = TypeVar("_Row", TranscriptTurn, SessionAudio)


@dataclass(frozen=True)
class AudioInfo:
    id: int
    path: str
    sample_rate: int
    duration_ms: int
    nbytes: int
    created_at: datetime


async def append_turn(db: Database, tenant_id: str, external_id: str, turn: Turn) -> None:
    """Store ``turn``; writing the same ``seq`` again replaces it (an edit)."""
    unknown = set(turn.flags) - TURN_FLAGS
    if unknown:
        raise ValueError(f"unknown turn flags: {sorted(unknown)}")
    now = utcnow()
    async with db.session() as session:
        consultation_pk = await upsert_consultation(db, session, tenant_id, external_id, now)
        stmt = insert(db, TranscriptTurn).values(
            consultation_id=consultation_pk,
            seq=turn.seq,
            original_text=turn.original_text,
            edited_text=turn.edited_text,
            flags=list(turn.flags),
            started_at=turn.started_at,
            ended_at=turn.ended_at,
            created_at=now,
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[TranscriptTurn.consultation_id, TranscriptTurn.seq],
                set_={
                    "original_text": stmt.excluded.original_text,
                    "edited_text": stmt.excluded.edited_text,
                    "flags": stmt.excluded.flags,
                    "started_at": stmt.excluded.started_at,
                    "ended_at": stmt.excluded.ended_at,
                },
            )
        )


async def list_turns(db: Database, tenant_id: str, external_id: str) -> list[Turn]:
    rows = await _rows_of(db, TranscriptTurn, TranscriptTurn.seq, tenant_id, external_id)
    return [
        Turn(
            seq=row.seq,
            original_text=row.original_text,
            edited_text=row.edited_text,
            flags=tuple(row.flags),
            started_at=row.started_at,
            ended_at=row.ended_at,
        )
        for row in rows
    ]


async def save_audio(
    db: Database,
    tenant_id: str,
    external_id: str,
    *,
    path: str,
    sample_rate: int,
    duration_ms: int,
    nbytes: int,
) -> None:
    now = utcnow()
    async with db.session() as session:
        consultation_pk = await upsert_consultation(db, session, tenant_id, external_id, now)
        session.add(
            SessionAudio(
                consultation_id=consultation_pk,
                path=path,
                sample_rate=sample_rate,
                duration_ms=duration_ms,
                bytes=nbytes,
                created_at=now,
            )
        )


async def list_audio(db: Database, tenant_id: str, external_id: str) -> list[AudioInfo]:
    rows = await _rows_of(db, SessionAudio, SessionAudio.id, tenant_id, external_id)
    return [
        AudioInfo(
            id=row.id,
            path=row.path,
            sample_rate=row.sample_rate,
            duration_ms=row.duration_ms,
            nbytes=row.bytes,
            created_at=row.created_at,
        )
        for row in rows
    ]


async def _rows_of(
    db: Database,
    model: type[_Row],
    order: InstrumentedAttribute[int],
    tenant_id: str,
    external_id: str,
) -> Sequence[_Row]:
    """One consultation's rows of a per-consultation table, in ``order``."""
    stmt = (
        select(model)
        .join(Consultation, Consultation.id == model.consultation_id)
        .where(consultation_is(tenant_id, external_id))
        .order_by(order)
    )
    async with db.session() as session:
        return (await session.execute(stmt)).scalars().all()
