"""Cache-hit throughput and latency of the SOAP stream endpoint, against a bare reference.

Run: ``.venv/bin/python bench/cache_hit.py`` (needs Postgres and Redis on 127.0.0.1, as
for the tests: DELPHOS_TEST_PG_* / DELPHOS_TEST_REDIS_* override the addresses).

Two servers are started the same way (uvicorn, one worker, no access log, same host):

- **delphos**: the real app on a fresh, migrated Postgres database and the real Redis
  (own key prefix). One note is generated, then every request repeats the same text, so
  each one is a cache hit: API-key check, body read and validated, text hashed, one Redis
  round trip, two SSE events written.
- **bare**: a Starlette endpoint answering the same POST with the same bytes (the cache-hit
  response, fetched once from delphos) read from Redis with one GET.

Both get the same load from the same generator in the same run — ``wrk`` with a Lua POST
script if installed, else a multi-process keep-alive Python client — alternating rounds so
background load on a shared machine hits both alike. Reported: requests/s, p50 and p99
latency, and delphos's throughput as a share of bare's (target >= 75 %, median of the
alternating pairs) with its p99 no worse than bare's; the machine's load average is
printed with the figures (a shared machine skews them: re-run on a quiet one).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The servers' ports come from the tests' helper: claimed for this process, so a test run
# or another bench on the same machine cannot take one between choosing and binding it.
sys.path.insert(0, str(ROOT))
from tests.support.ports import free_port  # noqa: E402

ACI_VALID = ROOT.parent / "shared" / "eval" / "aci-bench" / "valid.json"
STREAM = "/v1/consultation/progressive-soap/stream"
BARE = "/bare"
API_KEY = "bench-key-0123456789abcdef"
TARGET = 0.75

PG = (
    f"postgresql://{os.environ.get('DELPHOS_TEST_PG_USER', 'postgres')}@"
    f"{os.environ.get('DELPHOS_TEST_PG_HOST', '127.0.0.1')}:"
    f"{os.environ.get('DELPHOS_TEST_PG_PORT', '5432')}/"
    f"{os.environ.get('DELPHOS_TEST_PG_DB', 'test')}"
)
REDIS = (
    f"redis://{os.environ.get('DELPHOS_TEST_REDIS_HOST', '127.0.0.1')}:"
    f"{os.environ.get('DELPHOS_TEST_REDIS_PORT', '6379')}/0"
)
BARE_KEY_ENV = "DELPHOS_BENCH_BARE_KEY"


# --- the reference endpoint (imported by its own uvicorn process) ---------------------------


def bare_app() -> Any:
    """Starlette app: POST /bare answers the bytes stored at $DELPHOS_BENCH_BARE_KEY."""
    from redis.asyncio import Redis
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    # Configured like delphos's client: no per-socket-operation timeout (each would cost
    # an extra task per command).
    redis = Redis.from_url(REDIS, socket_timeout=None)
    key = os.environ[BARE_KEY_ENV]

    async def bare(request: Request) -> Response:
        await request.body()
        data = await redis.get(key)
        return Response(
            data,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    return Starlette(routes=[Route(BARE, bare, methods=["POST"])])


# --- servers --------------------------------------------------------------------------------


def wait_listening(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    """Block until a server we started accepts connections on ``port`` (60 s at most)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.1)


@contextmanager
def uvicorn_server(
    factory: str, env: dict[str, str], cpus: set[int] | None = None
) -> Iterator[str]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        factory,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    if cpus:
        os.sched_setaffinity(proc.pid, cpus)
    try:
        wait_listening(port, proc, factory)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new migrated Postgres database, dropped afterwards."""
    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    from delphos.db.migrate import upgrade_sync

    name = f"delphos_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"

    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(PG, timeout=10)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = make_url(PG).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_sync(url)
        yield url
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def redis_prefix() -> Iterator[str]:
    from redis import Redis

    prefix = f"delphos-bench-{uuid.uuid4().hex}"
    try:
        yield prefix
    finally:
        client = Redis.from_url(REDIS)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)
        client.close()


# --- load -----------------------------------------------------------------------------------


@dataclass
class Round:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = io.open(os.getenv("BENCH_BODY_FILE")):read("*a")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-api-key"] = os.getenv("BENCH_API_KEY")

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    "BENCH {\\"requests\\": %d, \\"duration_us\\": %d, \\"p50_us\\": %d, \\"p99_us\\": %d, "
    .. "\\"errors\\": %d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), errors))
end
"""


def run_wrk(
    url: str,
    path: str,
    body_file: Path,
    seconds: float,
    connections: int,
    threads: int,
    cpus: set[int] | None = None,
) -> Round:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        pin = ["taskset", "-c", ",".join(map(str, sorted(cpus)))] if cpus else []
        out = subprocess.run(
            [
                *pin,
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                f"{url}{path}",
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "BENCH_BODY_FILE": str(body_file), "BENCH_API_KEY": API_KEY},
        ).stdout
    finally:
        os.unlink(script.name)
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    data = json.loads(line[len("BENCH ") :])
    return Round(
        requests_per_s=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=int(data["errors"]),
    )


def _client_worker(
    url: str, path: str, body: bytes, seconds: float, connections: int, out: Any
) -> None:
    """One process: ``connections`` keep-alive connections served round-robin."""
    host, port = url.removeprefix("http://").split(":")
    conns = [http.client.HTTPConnection(host, int(port), timeout=10) for _ in range(connections)]
    head = {"Content-Type": "application/json", "x-api-key": API_KEY}
    latencies: list[float] = []
    errors = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        for conn in conns:
            start = time.perf_counter()
            conn.request("POST", path, body=body, headers=head)
            resp = conn.getresponse()
            resp.read()
            latencies.append(time.perf_counter() - start)
            errors += resp.status != 200
    for conn in conns:
        conn.close()
    out.put((latencies, errors))


def run_python_client(
    url: str, path: str, body: bytes, seconds: float, processes: int, connections: int
) -> Round:
    queue: Any = multiprocessing.get_context("fork").Queue()
    workers = [
        multiprocessing.get_context("fork").Process(
            target=_client_worker, args=(url, path, body, seconds, connections, queue)
        )
        for _ in range(processes)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    results = [queue.get() for _ in workers]
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.join()
    latencies = sorted(value for lat, _ in results for value in lat)
    return Round(
        requests_per_s=len(latencies) / elapsed,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=latencies[int(len(latencies) * 0.99) - 1] * 1000,
        errors=sum(errors for _, errors in results),
    )


# --- the run --------------------------------------------------------------------------------


def consultation_text() -> str:
    """One whole real ACI-bench dialogue: a realistic request body for a late update."""
    data = json.loads(ACI_VALID.read_text(encoding="utf-8"))["data"]
    return str(data[0]["src"])


def post(url: str, payload: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    try:
        conn.request(
            "POST",
            STREAM,
            body=payload,
            headers={"Content-Type": "application/json", "x-api-key": API_KEY},
        )
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"priming failed with HTTP {resp.status}")
        return data
    finally:
        conn.close()


def cache_misses(url: str) -> int:
    """Cache misses so far, from the worker's /metrics (open: no metrics token is set)."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    for line in text.splitlines():
        if line.startswith('delphos_cache_lookups_total{result="miss"}'):
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=4, help="per round")
    parser.add_argument("--rounds", type=int, default=8, help="rounds per endpoint")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument(
        "--client", choices=["auto", "wrk", "python"], default="auto", help="load generator"
    )
    parser.add_argument(
        "--redis-timeout",
        type=float,
        default=None,
        help="DELPHOS_REDIS_TIMEOUT for delphos (default: the service's own); on an "
        "overloaded machine a lookup past it is a miss, and the run measures generations",
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="servers on CPU 0, load generator on CPU 1 (steadier on a busy 2-core box)",
    )
    args = parser.parse_args()
    server_cpus: set[int] | None = None
    client_cpus: set[int] | None = None
    if args.pin and len(os.sched_getaffinity(0)) >= 2:
        first, second = sorted(os.sched_getaffinity(0))[:2]
        server_cpus, client_cpus = {first}, {second}
    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))

    payload = json.dumps(
        {"consultation_id": "bench-1", "accumulated_text": consultation_text()}
    ).encode()
    with (
        tempfile.TemporaryDirectory() as tmp,
        fresh_database() as database_url,
        redis_prefix() as prefix,
    ):
        body_file = Path(tmp) / "body.json"
        body_file.write_bytes(payload)
        bare_key = f"{prefix}:bare-response"
        env = {
            "DELPHOS_DATABASE_URL": database_url,
            "DELPHOS_REDIS_URL": REDIS,
            "DELPHOS_REDIS_PREFIX": prefix,
            "DELPHOS_API_KEYS": API_KEY,
            "DELPHOS_DATA_DIR": str(Path(tmp) / "data"),
            "DELPHOS_LOG_LEVEL": "warning",
            BARE_KEY_ENV: bare_key,
        }
        if args.redis_timeout is not None:
            env["DELPHOS_REDIS_TIMEOUT"] = str(args.redis_timeout)
        with (
            uvicorn_server("delphos.app:create_app", env, server_cpus) as delphos_url,
            uvicorn_server("bench.cache_hit:bare_app", env, server_cpus) as bare_url,
        ):
            post(delphos_url, payload)  # generate and cache the note
            hit = post(delphos_url, payload)
            if not hit.startswith(b"event: status\ndata: ") or b"cache_hit" not in hit[:60]:
                raise RuntimeError("the second request was not a cache hit")
            from redis import Redis

            client = Redis.from_url(REDIS)
            client.set(bare_key, hit)
            client.close()

            def measure(url: str, path: str) -> Round:
                if use_wrk:
                    return run_wrk(
                        url, path, body_file, args.seconds, args.connections, 1, client_cpus
                    )
                return run_python_client(
                    url, path, payload, args.seconds, 2, max(1, args.connections // 2)
                )

            # Warm-up, then pairs of rounds in alternating order (ABBA…) so drifting
            # background load on a shared machine hits both endpoints alike.
            measure(delphos_url, STREAM)
            measure(bare_url, BARE)
            loads = [Path("/proc/loadavg").read_text().split()[0]]
            rounds: dict[str, list[Round]] = {"delphos": [], "bare": []}
            for pair in range(args.rounds):
                order = ["bare", "delphos"] if pair % 2 == 0 else ["delphos", "bare"]
                for name in order:
                    url, path = (bare_url, BARE) if name == "bare" else (delphos_url, STREAM)
                    rounds[name].append(measure(url, path))
            loads.append(Path("/proc/loadavg").read_text().split()[0])
            misses = cache_misses(delphos_url) - 1  # the priming request was one

    def median(name: str, field: str) -> float:
        return float(statistics.median(getattr(r, field) for r in rounds[name]))

    print(
        f"\ncache-hit benchmark: {len(payload):,}-byte request, {len(hit):,}-byte answer, "
        f"{'wrk' if use_wrk else 'python client'}, {args.connections} connections, "
        f"{args.rounds} rounds x {args.seconds:g} s per endpoint (medians; best in brackets)\n"
    )
    print(f"{'endpoint':<44} {'req/s':>16} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    labels = {
        "bare": f"bare Starlette, one Redis GET ({BARE})",
        "delphos": f"delphos cache hit ({STREAM.rsplit('/', 2)[-2]}/stream)",
    }
    for name in ("bare", "delphos"):
        errors = sum(r.errors for r in rounds[name])
        best = max(r.requests_per_s for r in rounds[name])
        rate = f"{median(name, 'requests_per_s'):.0f} [{best:.0f}]"
        print(
            f"{labels[name]:<44} {rate:>16} {median(name, 'p50_ms'):>8.2f} "
            f"{median(name, 'p99_ms'):>8.2f} {errors:>7}"
        )
    pairs = [
        d.requests_per_s / b.requests_per_s
        for d, b in zip(rounds["delphos"], rounds["bare"], strict=True)
    ]
    ratio = statistics.median(pairs)
    best_ratio = max(r.requests_per_s for r in rounds["delphos"]) / max(
        r.requests_per_s for r in rounds["bare"]
    )
    verdict = "meets" if ratio >= TARGET else "MISSES"
    print(
        f"\ndelphos / bare throughput: {ratio:.1%} median of {len(pairs)} pairs "
        f"({', '.join(f'{p:.0%}' for p in pairs)}); best vs best {best_ratio:.0%}; "
        f"{verdict} the {TARGET:.0%} target"
    )
    p99 = median("delphos", "p99_ms") / median("bare", "p99_ms")
    print(
        f"delphos / bare p99: {p99:.2f} ({'no worse' if p99 <= 1.0 else 'WORSE'}); "
        f"load average during the run {' -> '.join(loads)} (2 cores; others' work skews this)"
    )
    if misses:
        print(
            f"WARNING: {misses} delphos requests were cache MISSES (a Redis lookup past its "
            "deadline on an overloaded machine: each one regenerated the note), so this run "
            "does not measure the hit path alone; re-run on a quieter machine"
        )
    errors = sum(r.errors for rs in rounds.values() for r in rs)
    return 0 if errors == 0 and ratio >= TARGET and p99 <= 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
