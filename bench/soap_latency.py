"""What making the note durable before `soap` costs: last engine delta -> `soap` on the client.

Run: ``.venv/bin/python bench/soap_latency.py [--rounds 100]`` (the ``services`` backend
needs Postgres and Redis on 127.0.0.1, as for the tests).

One uvicorn in this process serves the real app with an engine that streams a real
reference note and stamps each delta; a client in the same process stamps the `soap`
event's arrival (one clock). Each round is a new consultation and text (a generation,
never a cache hit). The reference measured in the same run is a ``GET /health`` round
trip (a database ping). Run it from an older checkout to get the "before" figure: the
script only uses APIs both have.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import httpx
import uvicorn

sys.path.insert(0, str(Path.cwd()))

from bench.cache_hit import REDIS, fresh_database
from delphos.app import create_app
from delphos.db.migrate import upgrade_sync
from delphos.settings import Settings

ACI = Path.cwd().parent / "shared" / "eval" / "aci-bench" / "valid.json"
KEY = "bench-key-0123456789abcdef"
STREAM = "/v1/consultation/progressive-soap/stream"


class StampingEngine:
    """Streams a fixed note's JSON in 24-character deltas, stamping the time of each."""

    name = "bench"
    model = "bench-1"

    def __init__(self, notes: list[str]) -> None:
        self._notes = notes
        self.last_delta = 0.0
        self._next = 0

    async def stream(self, transcript: str) -> AsyncGenerator[str, None]:
        text = self._notes[self._next % len(self._notes)]
        self._next += 1
        for offset in range(0, len(text), 24):
            await asyncio.sleep(0)
            self.last_delta = time.perf_counter()
            yield text[offset : offset + 24]

    async def complete(self, system: str, user: str, max_tokens: int = 1024) -> str:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None


def reference_notes() -> list[str]:
    rows = json.loads(ACI.read_text())["data"]
    notes = []
    for row in rows[:20]:
        note = row.get("tgt") or ""
        if isinstance(note, str) and note:
            third = max(1, len(note) // 4)
            notes.append(
                json.dumps(
                    {
                        "subjective": note[:third],
                        "objective": note[third : 2 * third],
                        "assessment": note[2 * third : 3 * third],
                        "plan": note[3 * third :],
                    }
                )
            )
    return notes


async def measure(settings: Settings, rounds: int) -> dict[str, float]:
    engine = StampingEngine(reference_notes())
    app = create_app(settings, engine=engine)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    gaps: list[float] = []
    health: list[float] = []
    try:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            for i in range(rounds + 5):
                body = {
                    "consultation_id": f"b-{uuid.uuid4().hex[:8]}",
                    "accumulated_text": f"visit {i}",
                }
                async with client.stream(
                    "POST", STREAM, json=body, headers={"x-api-key": KEY}
                ) as resp:
                    async for line in resp.aiter_lines():
                        if line == "event: soap":
                            arrived = time.perf_counter()
                            break
                    else:
                        raise RuntimeError("no soap")
                started = time.perf_counter()
                await client.get("/health")
                if i >= 5:  # warm-up rounds are not counted
                    gaps.append((arrived - engine.last_delta) * 1000)
                    health.append((time.perf_counter() - started) * 1000)
    finally:
        server.should_exit = True
        await task
    gaps.sort()
    return {
        "p50": statistics.median(gaps),
        "p95": gaps[int(len(gaps) * 0.95) - 1],
        "health_p50": statistics.median(health),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--backends", default="embedded,services")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            common: dict[str, Any] = {"data_dir": Path(tmp), "api_keys": [KEY], "engine": "local"}
            if backend == "embedded":
                settings = Settings(**common, database_url=f"sqlite+aiosqlite:///{tmp}/d.db")
                upgrade_sync(settings.resolved_database_url)
                result = asyncio.run(measure(settings, args.rounds))
            else:
                with fresh_database() as db_url:
                    settings = Settings(
                        **common,
                        database_url=db_url,
                        redis_url=REDIS,
                        redis_prefix=f"bench-{uuid.uuid4().hex}",
                    )
                    result = asyncio.run(measure(settings, args.rounds))
        print(
            f"{backend:9} last delta -> soap: p50 {result['p50']:.2f} ms,"
            f" p95 {result['p95']:.2f} ms; GET /health p50 {result['health_p50']:.2f} ms;"
            f" ratio p50/health {result['p50'] / result['health_p50']:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
