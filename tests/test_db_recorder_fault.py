"""A real outage: a private Postgres is stopped and started under the note recorder.

The shared server on 5432 is never touched: tests/support/pgserver.py runs a throw-away cluster
on a spare port.
"""

from __future__ import annotations

from pathlib import Path

from delphos.db import repository
from delphos.db.database import Database
from delphos.db.migrate import upgrade
from delphos.db.recorder import NoteRecorder
from tests.support.fixtures.db import RecordFactory, spool_lines, wait_drained
from tests.support.pgserver import PrivatePostgres

FAST = {"write_timeout": 2.0, "min_backoff": 0.05, "max_backoff": 0.5}


async def test_notes_recorded_during_an_outage_reach_the_database_after_it(
    private_pg: PrivatePostgres, make_record: RecordFactory, tmp_path: Path
) -> None:
    await upgrade(private_pg.url)
    db = Database(private_pg.url, connect_timeout=1.0)
    spool = tmp_path / "notes.jsonl"
    recorder = NoteRecorder(db, spool, **FAST)
    try:
        await recorder.start()
        tenant = await repository.ensure_tenant(db, "clinic")
        records = [make_record(tenant.id, "visit-1", i) for i in range(4)]

        await recorder.record(records[0])
        assert recorder.backlog_size == 0

        private_pg.stop()
        assert await db.ping() is False
        for rec in records[1:]:
            await recorder.record(rec)
        assert recorder.backlog_size == 3
        assert len(spool_lines(spool)) == 3

        private_pg.start()
        await wait_drained(recorder)

        notes = await repository.list_notes(db, tenant.id, "visit-1", limit=10, before_id=None)
        assert [n.soap_hash for n in reversed(notes)] == [r.soap_hash for r in records]
        assert spool_lines(spool) == []
    finally:
        await recorder.aclose()
        await db.aclose()


async def test_a_spool_left_by_a_stopped_process_is_replayed_on_start(
    private_pg: PrivatePostgres, make_record: RecordFactory, tmp_path: Path
) -> None:
    await upgrade(private_pg.url)
    spool = tmp_path / "notes.jsonl"
    db = Database(private_pg.url, connect_timeout=1.0)
    try:
        tenant = await repository.ensure_tenant(db, "clinic")
        records = [make_record(tenant.id, "visit-2", i) for i in range(2)]

        private_pg.stop()
        before = NoteRecorder(db, spool, **FAST)
        await before.start()
        for rec in records:
            await before.record(rec)
        await before.aclose()  # shutting down while the database is still down
        assert len(spool_lines(spool)) == 2

        private_pg.start()
        after = NoteRecorder(db, spool, **FAST)
        await after.start()
        await wait_drained(after)
        await after.aclose()

        info = await repository.get_consultation(db, tenant.id, "visit-2")
        assert info is not None
        assert info.version_count == 2
        assert spool_lines(spool) == []
    finally:
        await db.aclose()
