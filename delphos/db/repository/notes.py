"""Note versions: written once per generation, read back newest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from functools import cache
from typing import Any

from sqlalchemy import Select, Table, inspect, select, update
from sqlalchemy.orm import defer

from delphos.db.database import Database
from delphos.db.models import Consultation, NoteVersion, Tenant, utcnow
from delphos.db.repository._sql import (
    bound_insert,
    consultation_is,
    upsert_consultation,
)
from delphos.records import NoteRecord, SoapNote, Usage


def note_record(row: NoteVersion, tenant_id: str, external_id: str) -> NoteRecord:
    """The domain record of a stored row (its source text only when it was loaded)."""
    loaded_source = "source_text" not in inspect(row).unloaded
    return NoteRecord(
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
            Usage(
                row.input_tokens,
                row.output_tokens,
                row.cache_creation_input_tokens,
                row.cache_read_input_tokens,
            )
            if row.input_tokens is not None and row.output_tokens is not None
            else None
        ),
        evidence=row.evidence,
        source_text=row.source_text if loaded_source else None,
    )


def _usage_columns(usage: Usage | None) -> dict[str, int | None]:
    """A note's token counts as NoteVersion's columns, named as in Usage (all NULL when
    the engine reported none)."""
    return {f.name: getattr(usage, f.name) if usage else None for f in fields(Usage)}


def versions(tenant_id: str, external_id: str, *, with_source: bool = False) -> Select[NoteVersion]:
    stmt = (
        select(NoteVersion)
        .join(Consultation, Consultation.id == NoteVersion.consultation_id)
        .where(consultation_is(tenant_id, external_id))
    )
    if not with_source:
        # Source texts can be long; the history lists never show them.
        stmt = stmt.options(defer(NoteVersion.source_text))
    return stmt


@cache
def _insert_version(backend: str) -> Any:
    """A note version's INSERT, built once per dialect (see _sql.py); a version already
    stored (same consultation, hashes and time) is left as it is."""
    table = NoteVersion.__table__
    assert isinstance(table, Table)
    return bound_insert(backend, table, omit=("id",)).on_conflict_do_nothing(
        index_elements=[
            table.c.consultation_id,
            table.c.soap_hash,
            table.c.text_hash,
            table.c.created_at,
        ]
    )


@cache
def _insert_tenant(backend: str) -> Any:
    table = Tenant.__table__
    assert isinstance(table, Table)
    return bound_insert(backend, table).on_conflict_do_nothing()


async def save_note(db: Database, record: NoteRecord) -> None:
    """Store one note version and touch its consultation.

    Writing the same record twice (same consultation, hashes and ``created_at``) stores it
    once, so a retry after an ambiguous failure (timeout after commit) is harmless.
    """
    await save_notes(db, [record])


async def save_notes(db: Database, records: Sequence[NoteRecord]) -> None:
    """Store several note versions in ONE transaction: all or none (each as
    :func:`save_note` stores it, idempotently). One commit is one fsync: a database that
    writes notes one transaction each falls behind a burst of them (SQLite at hundreds of
    notes a second)."""
    for record in records:
        if record.source_text is None:
            raise ValueError("a note is stored with the text it was made from")
    async with db.session() as session:
        for record in records:
            if record.tenant_name:
                await session.execute(
                    _insert_tenant(db.backend),
                    {"id": record.tenant_id, "name": record.tenant_name, "created_at": utcnow()},
                )
            consultation_pk = await upsert_consultation(
                db, session, record.tenant_id, record.consultation_id, record.created_at
            )
            await session.execute(
                _insert_version(db.backend),
                {
                    "consultation_id": consultation_pk,
                    **record.note.sections(),
                    "soap_hash": record.soap_hash,
                    "text_hash": record.text_hash,
                    "source_text": record.source_text,
                    "word_count": record.word_count,
                    "engine": record.engine,
                    "model": record.model,
                    "is_degraded": record.is_degraded,
                    "latency_ms": record.latency_ms,
                    "created_at": record.created_at,
                    **_usage_columns(record.usage),
                    "evidence": record.evidence,
                },
            )


async def list_notes(
    db: Database, tenant_id: str, external_id: str, *, limit: int, before_id: int | None
) -> list[NoteRecord]:
    """Versions newest first, without their source text; pass the last id of a page as
    ``before_id`` for the next."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    stmt = versions(tenant_id, external_id)
    if before_id is not None:
        stmt = stmt.where(NoteVersion.id < before_id)
    stmt = stmt.order_by(NoteVersion.id.desc()).limit(limit)
    async with db.session() as session:
        rows: Sequence[NoteVersion] = (await session.execute(stmt)).scalars().all()
    return [note_record(row, tenant_id, external_id) for row in rows]


async def find_source(
    db: Database, tenant_id: str, external_id: str, soap_hash: str
) -> tuple[NoteRecord, str] | None:
    """The newest version with ``soap_hash`` and the text it was generated from."""
    stmt = (
        versions(tenant_id, external_id, with_source=True)
        .where(NoteVersion.soap_hash == soap_hash)
        .order_by(NoteVersion.id.desc())
        .limit(1)
    )
    async with db.session() as session:
        row: NoteVersion | None = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        return None
    return note_record(row, tenant_id, external_id), row.source_text


async def store_evidence(db: Database, version_id: int, evidence: dict[str, Any]) -> None:
    """Keep the evidence computed for a version stored before evidence existed, so it is
    checked once, not on every later request that finds it."""
    # Deterministic: a concurrent request writes the same object, so no guard is needed.
    stmt = update(NoteVersion).where(NoteVersion.id == version_id).values(evidence=evidence)
    async with db.session() as session:
        await session.execute(stmt)
