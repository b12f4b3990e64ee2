"""The outside test's three figures, re-measured (issue 11).

Run: ``.venv/bin/python bench/hostile.py [--burst 2000]`` (needs the PostgreSQL server
binaries for a private cluster, and Postgres on 127.0.0.1 for the key burst).

1. **adversarial**: 100,000 `.` (and other hostile texts) to the SSE endpoint of a
   ``delphos serve`` process, and hostile notes to ``POST /v1/notes/verify``, while
   ``GET /health`` is polled: the answer's time and the worst /health latency, against
   /health's own latency measured idle in the same run.
2. **hung database, killed server**: a private Postgres is SIGSTOPped, notes are answered,
   the server is SIGKILLed, the database resumed and the server restarted: notes lost.
3. **key burst**: a tenant key (database key, 2 s cache) warmed, left to expire, then
   ``--burst`` concurrent requests: non-2xx/404 answers and database lookups.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path.cwd()))

from bench.cache_hit import fresh_database
from delphos.db import keys
from delphos.db.database import Database
from delphos.db.migrate import upgrade_sync
from tests.support.fixtures.server import API_KEY
from tests.support.pgserver import PrivatePostgres
from tests.support.ports import free_port
from tests.support.serve_process import history, server_process, wait_up

STREAM = "/v1/consultation/progressive-soap/stream"
JSON_URL = "/v1/consultation/progressive-soap"
# Streamed texts; the last two once made the local engine write notes of 1,106 and 535
# statements, whose evidence check held the process every stream's `soap` waits for.
HOSTILE = {
    "100k dots": "." * 100_000,
    "100k one word": "a" * 100_000,
    "50k emoji pairs": "\U0001f600\U0001fa7a" * 50_000,
    "100k repeated patient lines": "".join(
        f"[patient] i have pain number {i} in my knee .\n" for i in range(2500)
    )[:100_000],
    "100k repeated typed lines": "".join(
        f"Patient reports knee pain {i} days, worse with stairs and walking.\n" for i in range(1600)
    )[:100_000],
}
VERIFY = "/v1/notes/verify"
# Notes posted to the evidence check, with their transcripts: one statement that never
# ends, and one of blank lines (each once cost the checker time in its length squared: a
# minute at 100,000); 500 distinct statements (the most a posted note may have) about a
# finding a transcript says in every sentence (each statement once cost a look at every
# mention: 7,000 of them took 4.5 minutes); 10,000 times one statement.
KNEE = "[patient] my left knee hurts ."
EVERY_SENTENCE = "[patient] pain .\n" * 5800
HOSTILE_NOTES = {
    "100k run-on note": (
        KNEE,
        ("the left knee hurts and no pain in the right one and " * 2000)[:100_000],
    ),
    "100k blank-line note": (KNEE, "\n" * 99_990 + "Knee pain."),
    "500 statements, finding in every sentence": (
        EVERY_SENTENCE,
        " ".join(f"No pain {i}." for i in range(500)),
    ),
    "10,000 x one statement (over 500: refused)": (EVERY_SENTENCE, "No pain. " * 10_000),
}


async def poll(client: httpx.AsyncClient, stop: asyncio.Event, into: list[float]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        await client.get("/health")
        into.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.01)


async def adversarial(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=600) as client:
        idle: list[float] = []
        for _ in range(50):
            started = time.perf_counter()
            await client.get("/health")
            idle.append((time.perf_counter() - started) * 1000)
        print(f"  /health idle: p50 {statistics.median(idle):.1f} ms, max {max(idle):.1f} ms")
        requests = [
            (
                name,
                STREAM,
                {"consultation_id": f"adv-{number}", "accumulated_text": text},
            )
            for number, (name, text) in enumerate(HOSTILE.items())
        ] + [
            (
                name,
                VERIFY,
                {"accumulated_text": transcript, "note": {"plan": note}},
            )
            for name, (transcript, note) in HOSTILE_NOTES.items()
        ]
        for name, path, body in requests:
            during: list[float] = []
            stop = asyncio.Event()
            poller = asyncio.create_task(poll(client, stop, during))
            started = time.perf_counter()
            resp = await client.post(path, json=body, headers={"x-api-key": API_KEY})
            took = time.perf_counter() - started
            stop.set()
            await poller
            last = resp.text.strip().split("\n\n")[-1].split("\n")[0][:60]
            print(
                f"  {name}: {resp.status_code} {last!r} in {took:.2f} s; /health during it: "
                f"{len(during)} answers, p50 {statistics.median(during):.1f} ms, "
                f"max {max(during):.1f} ms "
                f"(max/idle p50 {max(during) / statistics.median(idle):.1f}x)"
            )


async def hung_database(tmp: Path, notes: int) -> None:
    with PrivatePostgres() as pg:
        await asyncio.to_thread(upgrade_sync, pg.url)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        data_dir = tmp / "hung"
        answered: dict[str, str] = {}
        with server_process(data_dir, pg.url, port) as proc:
            await wait_up(url)
            async with httpx.AsyncClient(base_url=url, timeout=60) as client:
                pg.freeze()
                started = time.perf_counter()
                for i in range(notes):
                    cid = f"hung-{i}"
                    resp = await client.post(
                        JSON_URL,
                        json={"consultation_id": cid, "accumulated_text": f"Cough {i} days."},
                        headers={"x-api-key": API_KEY},
                    )
                    answered[cid] = resp.json()["soap_hash"]
                took = time.perf_counter() - started
            proc.kill()
            proc.wait()
        pg.thaw()
        with server_process(data_dir, pg.url, port):
            await wait_up(url)
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                for _ in range(600):
                    if (await client.get("/health")).json()["database"]["backlog"] == 0:
                        break
                    await asyncio.sleep(0.1)
            lost = 0
            for cid, soap_hash in answered.items():
                if [v["soap_hash"] for v in await history(url, cid)] != [soap_hash]:
                    lost += 1
    print(f"  {notes} notes answered in {took:.2f} s with Postgres SIGSTOPped; server SIGKILLed")
    print(f"  after restart: {lost} of {notes} lost")


async def key_burst(tmp: Path, db_url: str, burst: int) -> None:
    db = Database(db_url)
    raw, _ = await keys.create_key(db, "burst-clinic")
    await db.aclose()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with server_process(tmp / "burst", db_url, port, DELPHOS_KEY_CACHE_SECONDS="2"):
        await wait_up(url)
        limits = httpx.Limits(max_connections=burst, max_keepalive_connections=burst)
        async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
            body = {"consultation_id": "burst", "accumulated_text": "Cough for 3 days."}
            headers = {"x-api-key": raw}
            assert (await client.post(JSON_URL, json=body, headers=headers)).status_code == 200
            await asyncio.sleep(2.5)  # the key's cache entry expires

            async def one() -> int:
                try:
                    return (await client.post(JSON_URL, json=body, headers=headers)).status_code
                except httpx.HTTPError:
                    return -1

            started = time.perf_counter()
            statuses = await asyncio.gather(*(one() for _ in range(burst)))
            took = time.perf_counter() - started
            metrics = (await client.get("/metrics")).text
    counts = {s: statuses.count(s) for s in sorted(set(statuses))}
    lookups = [
        line for line in metrics.splitlines() if line.startswith("delphos_key_lookups_total")
    ]
    print(f"  {burst} concurrent requests after expiry in {took:.1f} s: statuses {counts}")
    print("  " + "; ".join(lookups))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--burst", type=int, default=2000)
    parser.add_argument("--hung-notes", type=int, default=10)
    parser.add_argument("--only", default="adversarial,hung,burst")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if "adversarial" in args.only:
            print("adversarial texts (sqlite, local engine):", flush=True)
            port = free_port()
            db_url = f"sqlite+aiosqlite:///{tmp / 'adv' / 'delphos.db'}"
            upgrade_sync(db_url)
            with server_process(tmp / "adv", db_url, port):
                asyncio.run(_serve_then(adversarial, f"http://127.0.0.1:{port}"))
        if "hung" in args.only:
            print("hung database, killed server:", flush=True)
            asyncio.run(hung_database(tmp, args.hung_notes))
        if "burst" in args.only:
            print("key burst after cache expiry (Postgres):", flush=True)
            with fresh_database() as db_url:
                asyncio.run(key_burst(tmp, db_url, args.burst))


async def _serve_then(run: object, url: str) -> None:
    await wait_up(url)
    assert callable(run)
    await run(url)


if __name__ == "__main__":
    main()
