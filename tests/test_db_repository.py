"""Note history, tenant isolation, transcript turns and audio — on SQLite and Postgres."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from delphos.db import repository
from delphos.db.database import Database
from delphos.records import TenantRef, Turn, Usage
from tests.support.fixtures.db import RecordFactory, aci_example

T0 = datetime(2025, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)


async def test_ensure_tenant_is_idempotent_under_concurrency(db: Database) -> None:
    refs = await asyncio.gather(*(repository.ensure_tenant(db, "north-clinic") for _ in range(8)))
    assert len({ref.id for ref in refs}) == 1
    other = await repository.ensure_tenant(db, "south-clinic")
    assert other.id != refs[0].id


async def test_saved_note_reads_back_exactly(db: Database, make_record: RecordFactory) -> None:
    tenant = await repository.ensure_tenant(db, "clinic")
    rec = make_record(tenant.id, "visit-1", 0, created_at=T0)
    await repository.save_note(db, rec)

    info = await repository.get_consultation(db, tenant.id, "visit-1")
    assert info is not None
    assert info.version_count == 1
    assert info.created_at == T0
    assert info.updated_at == T0
    latest = info.latest
    assert latest is not None
    assert latest.note == rec.note
    assert latest.soap_hash == rec.note.soap_hash
    assert latest.text_hash == rec.text_hash
    assert latest.word_count == rec.word_count
    assert (latest.engine, latest.model) == ("local", "test-model")
    assert latest.is_degraded is False
    assert latest.latency_ms == rec.latency_ms
    assert latest.created_at == T0
    assert latest.created_at.tzinfo is not None


@pytest.mark.parametrize(
    "usage",
    [
        Usage(1800, 340, cache_creation_input_tokens=120, cache_read_input_tokens=1500),
        Usage(900, 80),
    ],
    ids=["prompt-cache", "no-cache-counts"],
)
async def test_a_notes_token_usage_reads_back_with_its_cache_counts(
    db: Database, make_record: RecordFactory, usage: Usage
) -> None:
    tenant = await repository.ensure_tenant(db, "clinic")
    rec = dataclasses.replace(make_record(tenant.id, "visit-1", 0, created_at=T0), usage=usage)
    await repository.save_note(db, rec)

    info = await repository.get_consultation(db, tenant.id, "visit-1")
    assert info is not None
    assert info.latest is not None
    assert info.latest.usage == usage


async def test_history_is_newest_first_and_pages_by_cursor(
    db: Database, make_record: RecordFactory
) -> None:
    tenant = await repository.ensure_tenant(db, "clinic")
    records = [
        make_record(tenant.id, "visit-1", i, created_at=T0 + timedelta(minutes=i)) for i in range(5)
    ]
    for rec in records:
        await repository.save_note(db, rec)

    pages: list[list[str]] = []
    cursor: int | None = None
    while True:
        page = await repository.list_notes(db, tenant.id, "visit-1", limit=2, before_id=cursor)
        if not page:
            break
        pages.append([n.soap_hash for n in page])
        cursor = page[-1].id
    newest_first = [r.soap_hash for r in reversed(records)]
    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:5]]

    info = await repository.get_consultation(db, tenant.id, "visit-1")
    assert info is not None
    assert info.version_count == 5
    assert info.created_at == T0
    assert info.updated_at == T0 + timedelta(minutes=4)
    assert info.latest is not None
    assert info.latest.soap_hash == records[-1].soap_hash


async def test_writing_the_same_record_twice_stores_one_version(
    db: Database, make_record: RecordFactory
) -> None:
    tenant = await repository.ensure_tenant(db, "clinic")
    rec = make_record(tenant.id, "visit-1", 0, created_at=T0)
    await repository.save_note(db, rec)
    await repository.save_note(db, rec)
    notes = await repository.list_notes(db, tenant.id, "visit-1", limit=10, before_id=None)
    assert len(notes) == 1


async def test_replaying_an_older_note_does_not_move_updated_at_back(
    db: Database, make_record: RecordFactory
) -> None:
    tenant = await repository.ensure_tenant(db, "clinic")
    await repository.save_note(db, make_record(tenant.id, "v", 1, created_at=T0 + timedelta(1)))
    await repository.save_note(db, make_record(tenant.id, "v", 0, created_at=T0))
    info = await repository.get_consultation(db, tenant.id, "v")
    assert info is not None
    assert info.updated_at == T0 + timedelta(1)
    assert info.version_count == 2


async def test_one_batch_stores_every_note_as_one_by_one_writes_would(
    db: Database, make_record: RecordFactory
) -> None:
    # What the recorder writes under load: several consultations at once, one of them
    # twice with an older note replayed after a newer one, a note already stored, and a
    # tenant created by the write itself (its note made while the database was down).
    clinic = await repository.ensure_tenant(db, "clinic")
    stored = make_record(clinic.id, "a", 9, created_at=T0 - timedelta(1))
    await repository.save_note(db, stored)
    newcomer = dataclasses.replace(
        make_record("tenant-made-by-the-write", "c", 5, created_at=T0),
        tenant_name="branch-clinic",
    )
    batch = [
        make_record(clinic.id, "a", 1, created_at=T0 + timedelta(minutes=2)),
        make_record(clinic.id, "b", 2, created_at=T0),
        make_record(clinic.id, "a", 0, created_at=T0),
        stored,
        newcomer,
    ]
    await repository.save_notes(db, batch)

    a = await repository.get_consultation(db, clinic.id, "a")
    assert a is not None
    assert a.version_count == 3  # the stored one once, not twice
    assert a.created_at == T0 - timedelta(1)
    assert a.updated_at == T0 + timedelta(minutes=2)  # the replay did not move it back
    # Stored in the batch's order, as written one by one: the history lists it so.
    listed = await repository.list_notes(db, clinic.id, "a", limit=10, before_id=None)
    assert [n.soap_hash for n in listed] == [r.soap_hash for r in (batch[2], batch[0], stored)]
    b = await repository.get_consultation(db, clinic.id, "b")
    assert b is not None
    assert (b.version_count, b.created_at, b.updated_at) == (1, T0, T0)
    c = await repository.get_consultation(db, "tenant-made-by-the-write", "c")
    assert c is not None
    assert c.latest is not None
    assert c.latest.note == newcomer.note


async def test_a_batch_with_a_bad_consultation_id_writes_nothing(
    db: Database, make_record: RecordFactory
) -> None:
    tenant = await repository.ensure_tenant(db, "clinic")
    good = make_record(tenant.id, "fine", 0, created_at=T0)
    bad = make_record(tenant.id, "x" * 10_000, 1, created_at=T0)
    with pytest.raises(ValueError, match="consultation id"):
        await repository.save_notes(db, [good, bad])
    assert await repository.get_consultation(db, tenant.id, "fine") is None


async def test_find_source_returns_the_newest_version_with_that_hash_and_its_text(
    db: Database, make_record: RecordFactory
) -> None:
    tenant = await repository.ensure_tenant(db, "clinic")
    first = make_record(tenant.id, "visit-1", 0, created_at=T0)
    other = make_record(tenant.id, "visit-1", 1, created_at=T0 + timedelta(minutes=1))
    # The same note again, generated later from a longer text.
    longer_text = f"{first.source_text}\n[patient] thank you ."
    again = make_record(
        tenant.id, "visit-1", 0, created_at=T0 + timedelta(minutes=2), source_text=longer_text
    )
    for rec in (first, other, again):
        await repository.save_note(db, rec)

    source = await repository.find_source(db, tenant.id, "visit-1", first.soap_hash)
    assert source is not None
    found, text = source
    assert found.created_at == again.created_at
    assert found.note == first.note
    assert text == found.source_text == longer_text

    assert await repository.find_source(db, tenant.id, "visit-1", "0" * 64) is None


async def test_other_tenants_see_nothing(db: Database, make_record: RecordFactory) -> None:
    owner = await repository.ensure_tenant(db, "owner")
    stranger = await repository.ensure_tenant(db, "stranger")
    rec = make_record(owner.id, "shared-id", 0, created_at=T0)
    await repository.save_note(db, rec)
    await repository.append_turn(
        db,
        owner.id,
        "shared-id",
        Turn(
            seq=0, original_text="hello", edited_text=None, flags=(), started_at=T0, ended_at=None
        ),
    )

    assert await repository.get_consultation(db, stranger.id, "shared-id") is None
    assert await repository.list_notes(db, stranger.id, "shared-id", limit=10, before_id=None) == []
    assert await repository.find_source(db, stranger.id, "shared-id", rec.soap_hash) is None
    assert await repository.list_turns(db, stranger.id, "shared-id") == []

    # The same client id under another tenant is a separate consultation.
    await repository.save_note(db, make_record(stranger.id, "shared-id", 1, created_at=T0))
    mine = await repository.get_consultation(db, owner.id, "shared-id")
    theirs = await repository.get_consultation(db, stranger.id, "shared-id")
    assert mine is not None
    assert theirs is not None
    assert mine.version_count == theirs.version_count == 1
    assert mine.latest is not None
    assert theirs.latest is not None
    assert mine.latest.soap_hash != theirs.latest.soap_hash


async def test_unknown_consultation_is_none(db: Database) -> None:
    tenant = await repository.ensure_tenant(db, "clinic")
    assert await repository.get_consultation(db, tenant.id, "nope") is None
    assert await repository.list_notes(db, tenant.id, "nope", limit=5, before_id=None) == []


@pytest.mark.parametrize("external_id", ["", "x" * 256])
async def test_consultation_id_length_is_enforced_before_writing(
    db: Database, make_record: RecordFactory, external_id: str
) -> None:
    tenant = await repository.ensure_tenant(db, "clinic")
    with pytest.raises(ValueError, match="consultation id"):
        await repository.save_note(db, make_record(tenant.id, external_id, 0))
    # The longest allowed id is stored as is.
    longest = "y" * 255
    await repository.save_note(db, make_record(tenant.id, longest, 0))
    assert await repository.get_consultation(db, tenant.id, longest) is not None


async def _turn(
    db: Database,
    tenant: TenantRef,
    seq: int,
    text: str,
    *,
    edited_text: str | None = None,
    flags: Sequence[str] = (),
) -> None:
    await repository.append_turn(
        db,
        tenant.id,
        "live-1",
        Turn(
            seq=seq,
            original_text=text,
            edited_text=edited_text,
            flags=tuple(flags),
            started_at=T0 + timedelta(seconds=seq * 5),
            ended_at=T0 + timedelta(seconds=seq * 5 + 4),
        ),
    )


async def test_transcript_turns_in_order_with_edits_and_flags(db: Database) -> None:
    tenant = await repository.ensure_tenant(db, "clinic")
    lines = aci_example(2)[0].splitlines()[:3]
    await _turn(db, tenant, 2, lines[2])
    await _turn(db, tenant, 0, lines[0], flags=["symptom"])
    await _turn(db, tenant, 1, lines[1], flags=["medication", "diagnosis"])
    # Writing seq 1 again records the clinician's edit.
    await _turn(db, tenant, 1, lines[1], edited_text="edited", flags=["medication"])

    turns = await repository.list_turns(db, tenant.id, "live-1")
    assert [t.seq for t in turns] == [0, 1, 2]
    assert [t.original_text for t in turns] == lines
    assert turns[0].flags == ("symptom",)
    assert turns[1].edited_text == "edited"
    assert turns[1].flags == ("medication",)
    assert turns[2].edited_text is None
    assert turns[2].started_at == T0 + timedelta(seconds=10)
    assert turns[2].ended_at == T0 + timedelta(seconds=14)

    # A live session alone makes the consultation exist, with no note yet.
    info = await repository.get_consultation(db, tenant.id, "live-1")
    assert info is not None
    assert info.version_count == 0
    assert info.latest is None


async def test_unknown_turn_flag_is_rejected(db: Database) -> None:
    tenant = await repository.ensure_tenant(db, "clinic")
    with pytest.raises(ValueError, match="flags"):
        await _turn(db, tenant, 0, "text", flags=["allergy"])


async def test_session_audio_is_listed(db: Database) -> None:
    tenant = await repository.ensure_tenant(db, "clinic")
    for i in range(2):
        await repository.save_audio(
            db,
            tenant.id,
            "live-1",
            path=f"audio/live-1/{i}.wav",
            sample_rate=16_000,
            duration_ms=61_500 + i,
            nbytes=1_968_044 + i,
        )
    audio = await repository.list_audio(db, tenant.id, "live-1")
    assert [(a.path, a.sample_rate, a.duration_ms, a.nbytes) for a in audio] == [
        ("audio/live-1/0.wav", 16_000, 61_500, 1_968_044),
        ("audio/live-1/1.wav", 16_000, 61_501, 1_968_045),
    ]
    other = await repository.ensure_tenant(db, "other")
    assert await repository.list_audio(db, other.id, "live-1") == []
