"""What writing notes costs the event loop: ``save_notes`` against the bare driver.

Every finished note is written before its `soap` event goes out, on the same event loop
that reads every other open stream, so what a write costs *that thread* is time every
other stream waits (bench/streams.py). Measured here as the loop thread's CPU
(``time.thread_time``: not the driver's own thread, not the database server) per note,
for real notes (ACI-Bench dialogues as source texts, their reference notes, the evidence
the checker gives them) written in batches as the recorder writes them under load.

The reference, measured in the same run and alternated with it: the same rows inserted
by the bare driver (aiosqlite or asyncpg ``executemany`` of one plain INSERT, the evidence
encoded as JSON), which is what any write through this driver costs at least. Reported:
the loop's milliseconds per note both ways and their ratio, median of ``--pairs``
alternating pairs; the target is at most :data:`TARGET` times the bare driver in batches
of 10 (written note by note, statement by statement, it was 4-6 times). SQLite in a
temporary directory always; Postgres when ``DELPHOS_BENCH_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``) answers, in a scratch database
dropped afterwards.

Run: ``.venv/bin/python bench/persistence.py [--notes 500] [--batch 10] [--pairs 5]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.aci import encounters
from delphos.db.database import Database
from delphos.db.migrate import upgrade
from delphos.db.repository import ensure_tenant, save_notes
from delphos.evidence.verify import verify
from delphos.records import NoteRecord, SoapNote, Usage, text_hash

POSTGRES_ENV = "DELPHOS_BENCH_POSTGRES_URL"
POSTGRES_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGET = 3.0
# Consultations the notes spread over (a visit regenerated several times has several).
CONSULTATIONS = 150
_COLUMNS = (
    "consultation_id, subjective, objective, assessment, plan, soap_hash, text_hash, "
    "source_text, word_count, engine, model, is_degraded, latency_ms, created_at, "
    "input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens, "
    "evidence"
)


def make_records(tenant_id: str, count: int) -> list[NoteRecord]:
    cases = encounters("valid") + encounters("train")
    # The evidence of a few real notes, reused: the checker is not what is measured.
    evidence = [verify(case.dialogue, case.sections).model_dump(mode="json") for case in cases[:20]]
    start = datetime.now(UTC)
    records = []
    for i in range(count):
        case = cases[i % len(cases)]
        s = case.sections
        note = SoapNote(
            subjective=s["subjective"],
            objective=s["objective"],
            assessment=s["assessment"],
            plan=s["plan"],
        )
        records.append(
            NoteRecord(
                tenant_id=tenant_id,
                consultation_id=f"visit-{i % CONSULTATIONS}",
                note=note,
                soap_hash=note.soap_hash,
                text_hash=text_hash(case.dialogue),
                word_count=len(case.dialogue.split()),
                engine="openai",
                model="bench",
                is_degraded=False,
                latency_ms=8000,
                created_at=start + timedelta(milliseconds=i),
                usage=Usage(3000, 900),
                evidence=evidence[i % len(evidence)],
                source_text=case.dialogue,
            )
        )
    return records


def fresh(records: list[NoteRecord]) -> list[NoteRecord]:
    """The same notes as new versions (a new time each): a second run writes, not skips."""
    shift = timedelta(seconds=time.monotonic())
    return [replace(r, created_at=r.created_at + shift) for r in records]


def rows(records: list[NoteRecord], consultation_pk: int) -> list[tuple[Any, ...]]:
    out = []
    for r in records:
        n, u = r.note, r.usage
        assert u is not None
        out.append(
            (
                consultation_pk,
                n.subjective,
                n.objective,
                n.assessment,
                n.plan,
                r.soap_hash,
                r.text_hash,
                r.source_text,
                r.word_count,
                r.engine,
                r.model,
                r.is_degraded,
                r.latency_ms,
                r.created_at,
                u.input_tokens,
                u.output_tokens,
                u.cache_creation_input_tokens,
                u.cache_read_input_tokens,
                json.dumps(r.evidence),
            )
        )
    return out


async def loop_ms_per_note(
    write: Callable[[list[NoteRecord]], Awaitable[None]], records: list[NoteRecord], batch: int
) -> float:
    started = time.thread_time()
    for i in range(0, len(records), batch):
        await write(records[i : i + batch])
    return (time.thread_time() - started) * 1000 / len(records)


async def measure(
    url: str, bare: Callable[[], Awaitable[Any]], backend: str, args: argparse.Namespace
) -> tuple[float, float]:
    await upgrade(url)
    db = Database(url)
    try:
        tenant = await ensure_tenant(db, "bench-clinic")
        records = make_records(tenant.id, args.notes)
        await save_notes(db, records[:1])  # warm: connection, statement caches
        conn = await bare()
        try:
            pk = await _consultation_pk(conn, backend, tenant.id)
            sql = _bare_insert(backend)

            async def driver(batch: list[NoteRecord]) -> None:
                values = rows(batch, pk)
                if backend == "sqlite":
                    await conn.executemany(sql, values)
                    await conn.commit()
                else:
                    async with conn.transaction():
                        await conn.executemany(sql, values)

            async def delphos(batch: list[NoteRecord]) -> None:
                await save_notes(db, batch)

            ours, theirs = [], []
            for _ in range(args.pairs):
                ours.append(await loop_ms_per_note(delphos, fresh(records), args.batch))
                theirs.append(await loop_ms_per_note(driver, fresh(records), args.batch))
            return statistics.median(ours), statistics.median(theirs)
        finally:
            await conn.close()
    finally:
        await db.aclose()


async def _consultation_pk(conn: Any, backend: str, tenant_id: str) -> int:
    query = "SELECT id FROM consultations WHERE tenant_id = {0} LIMIT 1"
    if backend == "sqlite":
        async with conn.execute(query.format("?"), (tenant_id,)) as cursor:
            row = await cursor.fetchone()
        return int(row[0])
    return int(await conn.fetchval(query.format("$1"), tenant_id))


def _bare_insert(backend: str) -> str:
    count = _COLUMNS.count(",") + 1
    marks = ", ".join("?" if backend == "sqlite" else f"${i + 1}" for i in range(count))
    return f"INSERT INTO note_versions ({_COLUMNS}) VALUES ({marks})"


def report(name: str, ours: float, theirs: float) -> bool:
    met = ours / theirs <= TARGET
    verdict = "OK" if met else "MISS"
    print(f"  {name:<9} {ours:8.3f} {theirs:12.3f} {ours / theirs:8.2f}x  {verdict}")
    return met


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notes", type=int, default=500)
    parser.add_argument("--batch", type=int, default=10, help="notes per transaction")
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    print(
        f"Writing {args.notes} notes in batches of {args.batch}: the event loop's CPU per note "
        f"(median of {args.pairs} alternating pairs)\n"
        f"  {'backend':<9} {'save_notes':>8} {'bare driver':>12} {'ratio':>8}  (ms per note; "
        f"target <= {TARGET:.0f}x)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "delphos.db"
        ours, theirs = await measure(
            f"sqlite+aiosqlite:///{path}", lambda: aiosqlite.connect(path), "sqlite", args
        )
        met = report("sqlite", ours, theirs)

    admin = os.environ.get(POSTGRES_ENV, POSTGRES_DEFAULT)
    name = f"delphos_bench_{uuid.uuid4().hex[:8]}"
    try:
        conn = await asyncpg.connect(admin, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"  postgres  not measured: {admin} did not answer ({type(exc).__name__})")
        return 0 if met else 1
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        url = admin.rsplit("/", 1)[0] + "/" + name
        ours, theirs = await measure(
            url.replace("postgresql://", "postgresql+asyncpg://", 1),
            lambda: asyncpg.connect(url),
            "postgresql",
            args,
        )
        met = report("postgres", ours, theirs) and met
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
