"""Note versions: written once per generation, read back newest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, Table, bindparam, inspect, select, update
from sqlalchemy.orm import defer

from delphos.db.database import Database
from delphos.db.models import Consultation, NoteVersion, Tenant, utcnow
from delphos.db.repository._sql import (
    bound_insert,
    check_external_id,
    consultation_is,
    upsert_consultations,
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
    stored (same consultation, hashes and time) is left as it is. Its consultation is
    named by the client's ids (``consultation_tenant``, ``consultation_external``) and
    looked up by the INSERT itself, so that a batch of versions is one statement executed
    with many rows, not a round trip per note for the consultation's id."""
    table = NoteVersion.__table__
    consultations = Consultation.__table__
    assert isinstance(table, Table)
    assert isinstance(consultations, Table)
    consultation_id = (
        select(consultations.c.id)
        .where(
            (consultations.c.tenant_id == bindparam("consultation_tenant"))
            & (consultations.c.external_id == bindparam("consultation_external"))
        )
        .scalar_subquery()
    )
    return (
        bound_insert(backend, table, omit=("id", "consultation_id"))
        .values(consultation_id=consultation_id)
        .on_conflict_do_nothing(
            index_elements=[
                table.c.consultation_id,
                table.c.soap_hash,
                table.c.text_hash,
                table.c.created_at,
            ]
        )
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
    notes a second).

    The batch is three statements whatever its size, each executed with all its rows
    (the tenants, the consultations, the versions): written note by note, every statement
    was a round trip to the driver (for SQLite, four hand-offs to its thread each), 2-2.5
    ms of the event loop per note in batches of ten; now 0.7-1 ms (bench/persistence.py)."""
    if not records:
        return
    tenants: dict[str, str] = {}
    # (tenant, consultation) → (created_at, updated_at): the first note's time creates
    # it, the latest one moves it forward, as the notes written one by one would.
    consultations: dict[tuple[str, str], tuple[datetime, datetime]] = {}
    for record in records:
        if record.source_text is None:
            raise ValueError("a note is stored with the text it was made from")
        check_external_id(record.consultation_id)
        if record.tenant_name:
            tenants.setdefault(record.tenant_id, record.tenant_name)
        key = (record.tenant_id, record.consultation_id)
        known = consultations.get(key)
        at = record.created_at
        consultations[key] = (at, at) if known is None else (known[0], max(known[1], at))
    async with db.session() as session:
        if tenants:
            now = utcnow()
            await session.execute(
                _insert_tenant(db.backend),
                [{"id": tid, "name": name, "created_at": now} for tid, name in tenants.items()],
            )
        await session.execute(
            upsert_consultations(db.backend),
            [
                {"tenant_id": t, "external_id": e, "created_at": first, "updated_at": last}
                for (t, e), (first, last) in consultations.items()
            ],
        )
        await session.execute(
            _insert_version(db.backend),
            [
                {
                    "consultation_tenant": record.tenant_id,
                    "consultation_external": record.consultation_id,
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
                }
                for record in records
            ],
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
