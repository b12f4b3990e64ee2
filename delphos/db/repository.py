"""Everything the application reads and writes, tenant-scoped.

A consultation is addressed by ``(tenant_id, external_id)``: another tenant's
consultation is simply not found. Functions take a ``Database`` and open their own
short transaction; none of them logs.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select, update
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from delphos.db.database import Database
from delphos.db.models import (
    Base,
    Consultation,
    NoteVersion,
    SessionAudio,
    Tenant,
    TranscriptTurn,
    utcnow,
)
from delphos.engines.base import Usage
from delphos.soap.note import SoapNote

MAX_EXTERNAL_ID = 255
TURN_FLAGS: frozenset[str] = frozenset({"medication", "symptom", "diagnosis"})


@dataclass(frozen=True)
class TenantRef:
    id: str
    name: str


@dataclass(frozen=True)
class NoteRecord:
    """One generated note, as handed to persistence (and to the recorder's spool)."""

    tenant_id: str
    consultation_id: str  # the client's id (external_id)
    note: SoapNote
    soap_hash: str
    text_hash: str
    source_text: str
    word_count: int
    engine: str
    model: str
    is_degraded: bool
    latency_ms: int
    created_at: datetime
    # The tenant's name: with it the write also creates the tenant row if it is missing
    # (a note generated while the database was down at startup).
    tenant_name: str = ""
    # Tokens the provider reported; None when no LLM was called.
    usage: Usage | None = None
    # The evidence object served with the note (delphos.evidence), as JSON.
    evidence: dict[str, Any] | None = None


@dataclass(frozen=True)
class StoredNote:
    """One persisted note version (without its source text)."""

    id: int  # monotonic; the history API's pagination cursor
    tenant_id: str
    consultation_id: str  # external id
    note: SoapNote
    soap_hash: str
    text_hash: str
    word_count: int
    engine: str
    model: str
    is_degraded: bool
    latency_ms: int
    created_at: datetime
    usage: Usage | None = None
    evidence: dict[str, Any] | None = None


@dataclass(frozen=True)
class ConsultationInfo:
    tenant_id: str
    consultation_id: str  # external id
    created_at: datetime
    updated_at: datetime
    version_count: int
    latest: StoredNote | None


@dataclass(frozen=True)
class TurnInfo:
    seq: int
    original_text: str
    edited_text: str | None
    flags: tuple[str, ...]
    started_at: datetime
    ended_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class AudioInfo:
    id: int
    path: str
    sample_rate: int
    duration_ms: int
    nbytes: int
    created_at: datetime


# --- helpers ------------------------------------------------------------------------------


def check_external_id(external_id: str) -> None:
    """Reject ids the schema cannot hold before any write (the message holds no value)."""
    if not 1 <= len(external_id) <= MAX_EXTERNAL_ID:
        raise ValueError(f"consultation id must be 1-{MAX_EXTERNAL_ID} characters")


def _insert(db: Database, model: type[Base]) -> PgInsert | SqliteInsert:
    # INSERT … ON CONFLICT is spelled the same on both backends but built per dialect.
    if db.backend == "postgresql":
        return pg_insert(model)
    return sqlite_insert(model)


async def _upsert_consultation(
    db: Database, session: AsyncSession, tenant_id: str, external_id: str, at: datetime
) -> int:
    """Create the consultation or move its ``updated_at`` forward to ``at``; return its id."""
    check_external_id(external_id)
    stmt = _insert(db, Consultation).values(
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


def _consultation_id(tenant_id: str, external_id: str) -> ColumnElement[bool]:
    return (Consultation.tenant_id == tenant_id) & (Consultation.external_id == external_id)


def _stored(row: NoteVersion, tenant_id: str, external_id: str) -> StoredNote:
    return StoredNote(
        id=row.id,
        tenant_id=tenant_id,
        consultation_id=external_id,
        note=SoapNote(
            subjective=row.subjective,
            objective=row.objective,
            assessment=row.assessment,
            plan=row.plan,
        ),
        soap_hash=row.soap_hash,
        text_hash=row.text_hash,
        word_count=row.word_count,
        engine=row.engine,
        model=row.model,
        is_degraded=row.is_degraded,
        latency_ms=row.latency_ms,
        created_at=row.created_at,
        usage=(
            Usage(row.input_tokens, row.output_tokens)
            if row.input_tokens is not None and row.output_tokens is not None
            else None
        ),
        evidence=row.evidence,
    )


def _versions(
    tenant_id: str, external_id: str, *, with_source: bool = False
) -> Select[NoteVersion]:
    stmt = (
        select(NoteVersion)
        .join(Consultation, Consultation.id == NoteVersion.consultation_id)
        .where(_consultation_id(tenant_id, external_id))
    )
    if not with_source:
        # Source texts can be long; the history API never shows them.
        stmt = stmt.options(defer(NoteVersion.source_text))
    return stmt


# --- tenants ------------------------------------------------------------------------------


def tenant_id_for(name: str) -> str:
    """Tenant ids derive from the unique name, so the app knows a tenant's id (for cache
    keys and spooled notes) even before the database answers."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"delphos:tenant:{name}").hex


async def ensure_tenant(db: Database, name: str) -> TenantRef:
    """The tenant called ``name``, created if needed. Safe under concurrent calls."""
    if not name or len(name) > 255:
        raise ValueError("tenant name must be 1-255 characters")
    async with db.session() as session:
        await session.execute(
            _insert(db, Tenant)
            .values(id=tenant_id_for(name), name=name, created_at=utcnow())
            # No target: a concurrent insert of the same tenant collides on the (derived)
            # id as well as on the name, and either means it exists.
            .on_conflict_do_nothing()
        )
        tenant_id = (
            await session.execute(select(Tenant.id).where(Tenant.name == name))
        ).scalar_one()
    return TenantRef(id=tenant_id, name=name)


# --- notes --------------------------------------------------------------------------------


async def save_note(db: Database, record: NoteRecord) -> None:
    """Store one note version and touch its consultation.

    Writing the same record twice (same consultation, hashes and ``created_at``) stores it
    once, so a retry after an ambiguous failure (timeout after commit) is harmless.
    """
    async with db.session() as session:
        if record.tenant_name:
            await session.execute(
                _insert(db, Tenant)
                .values(id=record.tenant_id, name=record.tenant_name, created_at=utcnow())
                .on_conflict_do_nothing()
            )
        consultation_pk = await _upsert_consultation(
            db, session, record.tenant_id, record.consultation_id, record.created_at
        )
        note = record.note
        await session.execute(
            _insert(db, NoteVersion)
            .values(
                consultation_id=consultation_pk,
                subjective=note.subjective,
                objective=note.objective,
                assessment=note.assessment,
                plan=note.plan,
                soap_hash=record.soap_hash,
                text_hash=record.text_hash,
                source_text=record.source_text,
                word_count=record.word_count,
                engine=record.engine,
                model=record.model,
                is_degraded=record.is_degraded,
                latency_ms=record.latency_ms,
                created_at=record.created_at,
                input_tokens=record.usage.input_tokens if record.usage else None,
                output_tokens=record.usage.output_tokens if record.usage else None,
                evidence=record.evidence,
            )
            .on_conflict_do_nothing(
                index_elements=[
                    NoteVersion.consultation_id,
                    NoteVersion.soap_hash,
                    NoteVersion.text_hash,
                    NoteVersion.created_at,
                ]
            )
        )


async def get_consultation(
    db: Database, tenant_id: str, external_id: str
) -> ConsultationInfo | None:
    async with db.session() as session:
        consultation = (
            await session.execute(
                select(Consultation).where(_consultation_id(tenant_id, external_id))
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
                _versions(tenant_id, external_id).order_by(NoteVersion.id.desc()).limit(1)
            )
        ).scalar_one_or_none()
    return ConsultationInfo(
        tenant_id=tenant_id,
        consultation_id=external_id,
        created_at=consultation.created_at,
        updated_at=consultation.updated_at,
        version_count=int(count),
        latest=None if latest_row is None else _stored(latest_row, tenant_id, external_id),
    )


@dataclass(frozen=True)
class ConsultationPage:
    items: list[ConsultationInfo]
    # The last item's row id when an older page exists (the list API's cursor).
    next_before_id: int | None


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
            latest=(_stored(latest[c.id], tenant_id, c.external_id) if c.id in latest else None),
        )
        for c in page
    ]
    return ConsultationPage(items, page[-1].id if len(rows) > limit else None)


async def list_notes(
    db: Database, tenant_id: str, external_id: str, *, limit: int, before_id: int | None
) -> list[StoredNote]:
    """Versions newest first; pass the last id of a page as ``before_id`` for the next."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    stmt = _versions(tenant_id, external_id)
    if before_id is not None:
        stmt = stmt.where(NoteVersion.id < before_id)
    stmt = stmt.order_by(NoteVersion.id.desc()).limit(limit)
    async with db.session() as session:
        rows: Sequence[NoteVersion] = (await session.execute(stmt)).scalars().all()
    return [_stored(row, tenant_id, external_id) for row in rows]


async def get_note(
    db: Database, tenant_id: str, external_id: str, soap_hash: str
) -> StoredNote | None:
    """The newest version whose note hashes to ``soap_hash``."""
    stmt = (
        _versions(tenant_id, external_id)
        .where(NoteVersion.soap_hash == soap_hash)
        .order_by(NoteVersion.id.desc())
        .limit(1)
    )
    async with db.session() as session:
        row: NoteVersion | None = (await session.execute(stmt)).scalar_one_or_none()
    return None if row is None else _stored(row, tenant_id, external_id)


async def find_source(
    db: Database, tenant_id: str, external_id: str, soap_hash: str
) -> tuple[StoredNote, str] | None:
    """The newest version with ``soap_hash`` and the text it was generated from."""
    stmt = (
        _versions(tenant_id, external_id, with_source=True)
        .where(NoteVersion.soap_hash == soap_hash)
        .order_by(NoteVersion.id.desc())
        .limit(1)
    )
    async with db.session() as session:
        row: NoteVersion | None = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        return None
    return _stored(row, tenant_id, external_id), row.source_text


async def store_evidence(db: Database, version_id: int, evidence: dict[str, Any]) -> None:
    """Keep the evidence computed for a version stored before evidence existed, so it is
    checked once, not on every later request that finds it."""
    # Deterministic: a concurrent request writes the same object, so no guard is needed.
    stmt = update(NoteVersion).where(NoteVersion.id == version_id).values(evidence=evidence)
    async with db.session() as session:
        await session.execute(stmt)


# --- live transcript and audio ------------------------------------------------------------


async def append_turn(
    db: Database,
    tenant_id: str,
    external_id: str,
    *,
    seq: int,
    original_text: str,
    edited_text: str | None,
    flags: Sequence[str],
    started_at: datetime,
    ended_at: datetime | None,
) -> None:
    """Store transcript turn ``seq``; writing the same ``seq`` again replaces it (an edit)."""
    unknown = set(flags) - TURN_FLAGS
    if unknown:
        raise ValueError(f"unknown turn flags: {sorted(unknown)}")
    now = utcnow()
    async with db.session() as session:
        consultation_pk = await _upsert_consultation(db, session, tenant_id, external_id, now)
        stmt = _insert(db, TranscriptTurn).values(
            consultation_id=consultation_pk,
            seq=seq,
            original_text=original_text,
            edited_text=edited_text,
            flags=list(flags),
            started_at=started_at,
            ended_at=ended_at,
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


async def list_turns(db: Database, tenant_id: str, external_id: str) -> list[TurnInfo]:
    stmt = (
        select(TranscriptTurn)
        .join(Consultation, Consultation.id == TranscriptTurn.consultation_id)
        .where(_consultation_id(tenant_id, external_id))
        .order_by(TranscriptTurn.seq)
    )
    async with db.session() as session:
        rows = (await session.execute(stmt)).scalars().all()
    return [
        TurnInfo(
            seq=row.seq,
            original_text=row.original_text,
            edited_text=row.edited_text,
            flags=tuple(row.flags),
            started_at=row.started_at,
            ended_at=row.ended_at,
            created_at=row.created_at,
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
        consultation_pk = await _upsert_consultation(db, session, tenant_id, external_id, now)
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
    stmt = (
        select(SessionAudio)
        .join(Consultation, Consultation.id == SessionAudio.consultation_id)
        .where(_consultation_id(tenant_id, external_id))
        .order_by(SessionAudio.id)
    )
    async with db.session() as session:
        rows = (await session.execute(stmt)).scalars().all()
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
