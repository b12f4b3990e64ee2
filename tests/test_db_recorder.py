"""The note recorder keeps every note: written at once, or spooled and replayed later.

"Database down" here is a real Postgres URL on a port where nothing listens (connection
refused); the database that comes back is the parametrised SQLite / Postgres one.
tests/test_db_recorder_fault.py stops and restarts a real server.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import stat
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest
from sqlalchemy import event, text

from delphos.db import repository
from delphos.db.database import Database
from delphos.db.recorder import NoteRecorder
from delphos.db.spool import record_from_json, record_to_json
from delphos.records import NoteRecord, Usage
from tests.support.fixtures.db import RecordFactory, spool_lines, wait_drained
from tests.support.ports import free_port

FAST = {"write_timeout": 2.0, "min_backoff": 0.05, "max_backoff": 0.2}


@pytest.fixture
async def down_db() -> AsyncIterator[Database]:
    database = Database(f"postgresql://postgres@127.0.0.1:{free_port()}/gone", connect_timeout=1)
    try:
        yield database
    finally:
        await database.aclose()


def assert_no_patient_text(log_text: str, records: Iterable[NoteRecord]) -> None:
    for rec in records:
        for fragment in (
            (rec.source_text or "")[:40],
            rec.note.subjective[:40],
            rec.note.plan[:40],
        ):
            assert fragment not in log_text


async def test_note_is_written_at_once_when_the_database_is_up(
    db: Database, make_record: RecordFactory, tmp_path: Path
) -> None:
    tenant = await repository.ensure_tenant(db, "clinic")
    recorder = NoteRecorder(db, tmp_path / "spool.jsonl", **FAST)
    await recorder.start()
    rec = make_record(tenant.id, "visit-1", 0)
    await recorder.record(rec)
    assert recorder.backlog_size == 0
    assert spool_lines(tmp_path / "spool.jsonl") == []
    await recorder.aclose()
    stored = await repository.find_source(db, tenant.id, "visit-1", rec.soap_hash)
    assert stored is not None


async def test_outage_spools_notes_and_the_next_process_replays_them(
    db: Database,
    down_db: Database,
    make_record: RecordFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    tenant = await repository.ensure_tenant(db, "clinic")
    spool = tmp_path / "spool" / "notes.jsonl"
    records = [make_record(tenant.id, "visit-1", i) for i in range(3)]

    first = NoteRecorder(down_db, spool, **FAST)
    await first.start()
    for rec in records:
        await first.record(rec)
    assert first.backlog_size == 3
    lines = spool_lines(spool)
    assert [record_from_json(line) for line in lines] == records
    assert stat.S_IMODE(spool.stat().st_mode) == 0o600
    await first.aclose()  # the database is still down: the notes stay in the spool
    assert len(spool_lines(spool)) == 3

    second = NoteRecorder(db, spool, **FAST)
    await second.start()
    await wait_drained(second)
    await second.aclose()

    notes = await repository.list_notes(db, tenant.id, "visit-1", limit=10, before_id=None)
    assert [n.soap_hash for n in reversed(notes)] == [r.soap_hash for r in records]
    assert spool_lines(spool) == []
    assert "OSError" in caplog.text or "ConnectionRefusedError" in caplog.text
    assert_no_patient_text(caplog.text, records)


async def test_notes_finishing_together_share_spool_writes_and_all_stay_durable(
    db: Database,
    down_db: Database,
    make_record: RecordFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A database that falls behind must not make finished notes queue one fsync each:
    # every note is still durable when `record` returns, in the spool, once each.
    from delphos.db import recorder as recorder_module
    from delphos.db.spool import append_lines as append

    writes: list[int] = []

    def counting_append(path: Path, lines: list[str]) -> None:
        writes.append(len(lines))
        append(path, lines)

    monkeypatch.setattr(recorder_module, "append_lines", counting_append)
    tenant = await repository.ensure_tenant(db, "clinic")
    spool = tmp_path / "notes.jsonl"
    recorder = NoteRecorder(down_db, spool, **FAST)
    await recorder.start()
    await recorder.record(make_record(tenant.id, "visit-0", 0))  # the outage is now known
    records = [make_record(tenant.id, f"visit-{i}", i) for i in range(1, 40)]
    await asyncio.gather(*(recorder.record(rec) for rec in records))

    lines = spool_lines(spool)
    assert sorted(lines[1:]) == sorted(record_to_json(rec) for rec in records)
    assert recorder.backlog_size == 40
    assert sum(writes) == 40
    assert len(writes) < 40  # notes finishing together shared a write and its fsync
    await recorder.aclose()


async def test_unreadable_spool_lines_are_set_aside_not_lost(
    db: Database, make_record: RecordFactory, tmp_path: Path
) -> None:
    tenant = await repository.ensure_tenant(db, "clinic")
    spool = tmp_path / "notes.jsonl"
    good = make_record(tenant.id, "visit-1", 0)
    spool.write_text('{"v": 1, "tenant_id": "trunc\n' + record_to_json(good) + "\n")
    recorder = NoteRecorder(db, spool, **FAST)
    await recorder.start()
    await wait_drained(recorder)
    await recorder.aclose()

    assert await repository.find_source(db, tenant.id, "visit-1", good.soap_hash) is not None
    assert spool_lines(spool) == []
    assert spool_lines(recorder.rejected_path) == ['{"v": 1, "tenant_id": "trunc']


async def test_a_note_the_database_refuses_does_not_block_the_others(
    db: Database, make_record: RecordFactory, tmp_path: Path
) -> None:
    tenant = await repository.ensure_tenant(db, "clinic")
    recorder = NoteRecorder(db, tmp_path / "notes.jsonl", **FAST)
    await recorder.start()
    orphan = make_record("no-such-tenant", "visit-1", 0)  # violates the tenant foreign key
    await recorder.record(orphan)
    good = make_record(tenant.id, "visit-1", 1)
    await recorder.record(good)
    await recorder.aclose()

    assert recorder.backlog_size == 0
    assert [record_from_json(line) for line in spool_lines(recorder.rejected_path)] == [orphan]
    assert await repository.find_source(db, tenant.id, "visit-1", good.soap_hash) is not None


async def test_recording_completes_when_the_caller_is_cancelled(
    db: Database, make_record: RecordFactory, tmp_path: Path
) -> None:
    tenant = await repository.ensure_tenant(db, "clinic")
    recorder = NoteRecorder(db, tmp_path / "notes.jsonl", **FAST)
    await recorder.start()
    rec = make_record(tenant.id, "visit-1", 0)

    request = asyncio.create_task(recorder.record(rec))
    await asyncio.sleep(0)  # the request is now waiting on the write
    request.cancel()  # e.g. the client disconnected
    with pytest.raises(asyncio.CancelledError):
        await request
    await recorder.aclose()  # waits for detached writes

    assert await repository.find_source(db, tenant.id, "visit-1", rec.soap_hash) is not None


async def test_worker_processes_sharing_a_spool_path_keep_separate_files(
    db: Database, down_db: Database, make_record: RecordFactory, tmp_path: Path
) -> None:
    # Two workers of one server, configured with the same path, during an outage.
    tenant = await repository.ensure_tenant(db, "clinic")
    base = tmp_path / "notes.jsonl"
    first = NoteRecorder(down_db, base, **FAST)
    second = NoteRecorder(down_db, base, **FAST)
    await first.start()
    await second.start()
    assert first.spool_path != second.spool_path
    records = [make_record(tenant.id, "visit-1", i) for i in range(2)]
    await first.record(records[0])
    await second.record(records[1])
    await first.aclose()
    await second.aclose()
    assert [len(spool_lines(r.spool_path)) for r in (first, second)] == [1, 1]

    # After a restart with a single worker, both files are replayed.
    survivor = NoteRecorder(db, base, **FAST)
    await survivor.start()
    await wait_drained(survivor)
    await survivor.aclose()
    info = await repository.get_consultation(db, tenant.id, "visit-1")
    assert info is not None
    assert info.version_count == 2
    assert [spool_lines(r.spool_path) for r in (first, second)] == [[], []]


@pytest.mark.parametrize(
    "usage",
    [
        Usage(1200, 340),
        Usage(1200, 340, cache_creation_input_tokens=90, cache_read_input_tokens=900),
    ],
)
def test_spooled_notes_keep_their_token_usage(make_record: RecordFactory, usage: Usage) -> None:
    record = dataclasses.replace(make_record("t", "c-usage"), usage=usage)
    assert record_from_json(record_to_json(record)) == record


def test_a_spool_written_before_usage_was_recorded_still_replays(
    make_record: RecordFactory,
) -> None:
    record = make_record("t", "c-old")
    line = json.loads(record_to_json(record))
    del line["usage"]  # what an older Delphos spooled
    assert record_from_json(json.dumps(line)) == record


async def _hold_write_lock(
    database_url: str, backend: str, held: asyncio.Event, seconds: float
) -> None:
    """Another client holding the notes' tables for ``seconds`` (a long migration, a
    backup, a stuck transaction): writes wait for it."""
    other = Database(database_url)
    try:
        async with other.engine.begin() as conn:
            if backend == "postgresql":
                await conn.execute(text("LOCK TABLE consultations IN ACCESS EXCLUSIVE MODE"))
            else:
                await conn.execute(text("UPDATE tenants SET name = name"))  # SQLite's write lock
            held.set()
            await asyncio.sleep(seconds)
    finally:
        await other.aclose()


async def test_writes_past_their_deadline_finish_with_no_error_and_nothing_left_running(
    database_url: str,
    make_record: RecordFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Cutting a write off at its deadline (cancelling the driver mid-statement) made the
    # pool log tracebacks at ERROR for notes that were safe in the spool, and on SQLite it
    # left a task on the loop that never ended: the server could not shut down.
    caplog.set_level(logging.DEBUG)
    tasks_before = asyncio.all_tasks()
    db = Database(database_url)
    tenant = await repository.ensure_tenant(db, "clinic")
    recorder = NoteRecorder(db, tmp_path / "notes.jsonl", **{**FAST, "write_timeout": 0.3})
    await recorder.start()
    held = asyncio.Event()
    lock = asyncio.create_task(_hold_write_lock(database_url, db.backend, held, 1.5))
    records = [make_record(tenant.id, f"visit-late-{i}", i) for i in range(3)]
    try:
        await held.wait()
        await asyncio.gather(*map(recorder.record, records))
        assert recorder.backlog_size == 3  # past the deadline: safe in the spool meanwhile
        await lock
        await wait_drained(recorder)
        for rec in records:
            notes = await repository.list_notes(
                db, tenant.id, rec.consultation_id, limit=10, before_id=None
            )
            assert [n.soap_hash for n in notes] == [rec.soap_hash]  # once, written twice
    finally:
        await lock
        await recorder.aclose()
        await db.aclose()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert_no_patient_text(caplog.text, records)
    # Nothing of the writes may be left on the loop: a task that never ends keeps the
    # server's loop from closing at shutdown.
    await asyncio.sleep(0.2)
    stuck = [
        getattr(task.get_coro(), "__qualname__", repr(task))
        for task in asyncio.all_tasks()
        if task not in tasks_before and task is not asyncio.current_task()
    ]
    assert stuck == []


async def test_a_burst_of_notes_is_written_in_a_transaction_or_two_not_one_each(
    database_url: str, make_record: RecordFactory, tmp_path: Path
) -> None:
    # One commit per note made SQLite fall behind when hundreds of notes finished within
    # seconds: notes waited out their deadline, were spooled, and were written twice.
    db = Database(database_url)
    commits = 0

    def count(_: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(db.engine.sync_engine, "commit", count)
    tenant = await repository.ensure_tenant(db, "clinic")
    recorder = NoteRecorder(db, tmp_path / "notes.jsonl", **FAST)
    await recorder.start()
    held = asyncio.Event()
    lock = asyncio.create_task(_hold_write_lock(database_url, db.backend, held, 0.5))
    records = [make_record(tenant.id, f"visit-burst-{i}", i % 5) for i in range(12)]
    try:
        await held.wait()
        commits = 0
        await asyncio.gather(*map(recorder.record, records))
        await lock
        assert recorder.backlog_size == 0, "written within the deadline, none spooled"
        assert spool_lines(tmp_path / "notes.jsonl") == []
        # The first note's transaction waits for the lock; the others gather into one.
        assert commits <= 2
        for rec in records:
            notes = await repository.list_notes(
                db, tenant.id, rec.consultation_id, limit=10, before_id=None
            )
            assert [n.soap_hash for n in notes] == [rec.soap_hash]
    finally:
        await lock
        await recorder.aclose()
        await db.aclose()


async def test_a_refused_note_in_a_shared_transaction_does_not_take_the_others_with_it(
    database_url: str, make_record: RecordFactory, tmp_path: Path
) -> None:
    db = Database(database_url)
    tenant = await repository.ensure_tenant(db, "clinic")
    recorder = NoteRecorder(db, tmp_path / "notes.jsonl", **FAST)
    await recorder.start()
    held = asyncio.Event()
    lock = asyncio.create_task(_hold_write_lock(database_url, db.backend, held, 0.5))
    orphan = make_record("no-such-tenant", "visit-mixed", 0)  # violates the foreign key
    good = [make_record(tenant.id, f"visit-mixed-{i}", i) for i in range(1, 4)]
    try:
        await held.wait()
        # The first note takes the transaction that waits for the lock; these gather.
        first = asyncio.create_task(recorder.record(make_record(tenant.id, "visit-first", 4)))
        await asyncio.sleep(0.05)
        await asyncio.gather(*map(recorder.record, [good[0], orphan, *good[1:]]))
        await first
    finally:
        await lock
        await recorder.aclose()
    try:
        assert [record_from_json(line) for line in spool_lines(recorder.rejected_path)] == [orphan]
        for rec in good:
            stored = await repository.find_source(db, tenant.id, rec.consultation_id, rec.soap_hash)
            assert stored is not None
    finally:
        await db.aclose()
