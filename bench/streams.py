"""What a streaming client waits for, under load: N concurrent SOAP streams on one worker.

Run: ``.venv/bin/python bench/streams.py [--streams 100,500,1000,2000]``
(``--engine local`` instead measures N streams of the local engine: errors, CPU, RSS).

Three processes on this host, one clock (``CLOCK_MONOTONIC`` is system-wide on Linux):

- **fake LLM** (this file, ``fake`` sub-command): an OpenAI-compatible chat-completions
  server speaking the real wire format (chunked ``data: {chat.completion.chunk}`` SSE
  ending with usage and ``[DONE]``). Each request streams a real ACI-Bench reference note
  (``../shared/eval``, divisions mapped to S, O, A&P) as the model's JSON SOAP output, at
  ~50 tokens/s: one delta of 1-12 characters every 20 ms. Every open response's deltas
  are written from ONE timer loop (a heap of due times, what falls due within a
  millisecond written together) straight to the sockets, so the fake holds thousands of
  streams on a fraction of a core. It stamps the delta that carries the note's first
  character, each delta that closes a section's string and the one that closes the object,
  as it hands it to the socket.
- **delphos**: the real app under uvicorn, one worker, engine ``openai`` pointed at the
  fake through the official SDK, SQLite in a temporary directory, in-process cache.
- **clients** (this process, on uvloop): N streams of distinct texts (no coalescing, no
  cache hits), started over ``--ramp`` seconds, each stamping the arrival of the first
  `partial` with text, of the first event (`partial` or `soap`) in which each section
  is complete and of the `soap` event, in the connection's ``data_received`` (not when a
  reader task's turn comes: the clients' own queue is no delay of the server's).

Reported per N: the delay fake-delta -> client event, p50/p99, for the first text and for
section completions (to whichever event first shows the section complete); and from the
object's closing brace to the `soap` event, which waits for the evidence check and the
durable write.
Plus errors, the worker's CPU (cores, and microseconds per delta the fake sent: all threads
and the evidence processes under it / the event loop's thread; steadier than the delays on
a shared machine), the share of its ready time the event loop waited for a CPU (the
scheduler's run queue: the machine's part of the delays) and memory (the PSS of the
worker and the processes under it, so pages they share count once; before the batch ->
peak), how many LLM streams were open at once (the SDKs' default pool holds 1,000
connections, so beyond that streams queue for one) and the CPU the fake and the clients
used (they share the machine with the worker).
And a reference measured in the same run, after each batch: the **floor**, the same N
streams from the same fake read by a bare asyncio Protocol with httptools in a process of
its own (``--no-floor`` skips it). Its event loop's CPU per delta is what the kernel's
loopback TCP, uvloop and HTTP parsing cost before any of delphos runs; the worker's loop
figure is reported as a multiple of it, which compares across machines better than
microseconds do.
``--workers N`` serves with N uvicorn workers instead of one (the targets are for one):
the loop figures then add up every worker's event loop.
``--samples PREFIX`` writes every delay to PREFIX-N.tsv (when the fake sent the delta, in
``CLOCK_MONOTONIC`` ns, the delay in ms, which stamp, which stream): whether a tail is a
few moments that delayed every stream, or one kind of event. ``--py-spy PREFIX`` records
the worker's profile per batch (``PYSPY_EXTRA`` adds py-spy options, e.g. ``--native
--threads``); ``--app-root DIR`` runs another checkout's worker (a reference measured in
the same run). ``--census PREFIX`` runs the worker of ``bench/census.py``, which writes
what the batch's memory and pauses were made of to PREFIX-N.*: the notes in each phase of
the pipeline and the worker's PSS every 0.25 s, every garbage collection's pause, and the
objects (``--tracemalloc``: and the bytes, by allocation site) each note in flight adds
(a diagnostic: its latency figures are not a plain run's).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import heapq
import json
import math
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import httptools

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval" / "aci-bench"
STREAM = "/v1/consultation/progressive-soap/stream"
API_KEY = "bench-key-0123456789abcdef"
MARKER = re.compile(r"bench-stream-(\d+)")
SECTIONS = ("s", "o", "a", "p")
KEYS = {"s": "subjective", "o": "objective", "a": "assessment", "p": "plan"}
TARGET_MS = 10.0
TARGET_RSS_MB = 100.0
T = TypeVar("T")


def now_ns() -> int:
    return time.monotonic_ns()


# --- the notes ------------------------------------------------------------------------------


def _division(name: str) -> list[str]:
    data = json.loads((EVAL / f"valid_{name}.json").read_text(encoding="utf-8"))["data"]
    return [str(item["tgt"]).strip() for item in data]


def reference_notes() -> list[dict[str, str]]:
    """Each valid encounter's reference note as the four SOAP sections: subjective, the
    exam and results as objective, and the assessment-and-plan division split at its first
    paragraph break (assessment first, the plan after)."""
    subjective = _division("subjective")
    exam = _division("objective_exam")
    results = _division("objective_results")
    plan = _division("assessment_and_plan")
    notes = []
    for s, e, r, ap in zip(subjective, exam, results, plan, strict=True):
        head, _, rest = ap.partition("\n\n")
        notes.append(
            {
                "subjective": s,
                "objective": "\n\n".join(part for part in (e, r) if part),
                "assessment": head,
                "plan": rest,
            }
        )
    return notes


def dialogues() -> list[str]:
    data = json.loads((EVAL / "valid.json").read_text(encoding="utf-8"))["data"]
    return [str(item["src"]) for item in data]


@dataclass(frozen=True)
class Output:
    """A note as the model's JSON output, with the offsets the fake stamps."""

    text: str
    first: int  # offset of the note's first character
    closes: dict[str, int]  # section -> offset of its value's closing quote, "close" -> "}"


def model_output(note: dict[str, str]) -> Output:
    parts = ["{"]
    size = 1
    closes: dict[str, int] = {}
    first = -1
    for index, short in enumerate(SECTIONS):
        key = KEYS[short]
        piece = ("" if index == 0 else ", ") + json.dumps(key) + ": "
        value = json.dumps(note[key], ensure_ascii=False)
        parts += [piece, value]
        start = size + len(piece)
        if first < 0 and len(value) > 2:
            first = start + 1
        closes[short] = start + len(value) - 1
        size = start + len(value)
    closes["close"] = size
    parts.append("}")
    return Output("".join(parts), first, closes)


# --- the fake LLM (its own process) ---------------------------------------------------------


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


_CHUNK_HEAD = (
    b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":0,'
    b'"model":"bench","system_fingerprint":"fp_bench","choices":[{"index":0,"delta":'
)


def _sse_delta(delta: str) -> bytes:
    body = b'{"content":' + json.dumps(delta).encode() + b'},"logprobs":null,"finish_reason":null}]'
    return _chunk(_CHUNK_HEAD + body + b',"usage":null}\n\n')


@dataclass
class _FakeStream:
    """One response the fake is writing: where it is in its output, and its stamps."""

    stream: int
    transport: asyncio.WriteTransport
    out: Output
    prompt_chars: int
    rng: random.Random
    started: float
    stamps: dict[str, int]
    pending: list[tuple[str, int]]
    sent: int = 0
    index: int = 0


class FakeLLM:
    """Writes every open response's deltas from ONE timer loop (a heap of due times),
    straight to the sockets: one coroutine and one sleep per delta per stream cost the
    fake a core at 500 streams, and a fake that falls behind stretches the notes and
    caps the streams held open. A delta is stamped as it is handed to the socket."""

    def __init__(self, outputs: list[Output], rate: float, log: Any) -> None:
        self.outputs = outputs
        self.rate = rate
        self.log = log
        self.due: list[tuple[float, int, _FakeStream]] = []
        self.wake = asyncio.Event()
        self.serial = 0

    async def accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read one request (the real SDK's), start its response and hand it to the loop."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = json.loads(await reader.readexactly(length))
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()
            return
        prompt = "".join(str(m.get("content", "")) for m in body.get("messages", []))
        found = MARKER.search(prompt)
        stream = int(found.group(1)) if found else 0
        out = self.outputs[stream % len(self.outputs)]
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
            + _chunk(_CHUNK_HEAD + b'{"role":"assistant","content":""},"finish_reason":null}]}\n\n')
        )
        pending = sorted(
            [("first", out.first), *((k, v) for k, v in out.closes.items())],
            key=lambda item: item[1],
        )
        state = _FakeStream(
            stream=stream,
            transport=writer.transport,
            out=out,
            prompt_chars=len(prompt),
            rng=random.Random(stream),
            started=time.monotonic(),
            stamps={"start": now_ns()},
            pending=pending,
        )
        self._schedule(state.started, state)

    def _schedule(self, when: float, state: _FakeStream) -> None:
        self.serial += 1
        heapq.heappush(self.due, (when, self.serial, state))
        self.wake.set()

    async def run(self) -> None:
        due = self.due
        while True:
            if not due:
                self.wake.clear()
                await self.wake.wait()
                continue
            now = time.monotonic()
            if due[0][0] > now:
                self.wake.clear()
                # Woken early by a new stream (due now); otherwise at the next due delta.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(due[0][0] - now):
                        await self.wake.wait()
                continue
            # What falls due within the next millisecond goes now: a wake-up per delta
            # (25,000 a second at 500 streams) would cost the fake more than the writing.
            while due and due[0][0] <= now + 0.001:
                _, _, state = heapq.heappop(due)
                if self._step(state):
                    # Absolute schedule: a late tick is not added to every later delta.
                    self._schedule(state.started + state.index / self.rate, state)

    def _step(self, state: _FakeStream) -> bool:
        """Write the stream's next delta (or its end); whether it has more to write."""
        transport = state.transport
        if transport.is_closing():
            return False  # the client (delphos) went away
        text = state.out.text
        if state.sent < len(text):
            size = min(state.rng.randint(1, 12), len(text) - state.sent)
            transport.write(_sse_delta(text[state.sent : state.sent + size]))
            stamp = now_ns()
            state.sent += size
            pending = state.pending
            while pending and pending[0][1] < state.sent:
                state.stamps[pending.pop(0)[0]] = stamp
            state.index += 1
            return True
        prompt_tokens, completion_tokens = state.prompt_chars // 4, len(text) // 4
        usage = b'{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}' % (
            prompt_tokens,
            completion_tokens,
            prompt_tokens + completion_tokens,
        )
        transport.write(
            _chunk(_CHUNK_HEAD + b'{},"logprobs":null,"finish_reason":"stop"}],"usage":null}\n\n')
            + _chunk(
                b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":0,'
                b'"model":"bench","choices":[],"usage":' + usage + b"}\n\n"
            )
            + _chunk(b"data: [DONE]\n\n")
            + b"0\r\n\r\n"
        )
        state.stamps["end"] = now_ns()
        transport.close()  # after what is buffered is written
        record = {"stream": state.stream, **state.stamps, "deltas": state.index}
        self.log.write(json.dumps(record) + "\n")
        self.log.flush()
        return False


def run_fake(port_file: Path, log_file: Path, rate: float) -> None:
    outputs = [model_output(note) for note in reference_notes()]

    async def main() -> None:
        with log_file.open("a", encoding="utf-8") as log:
            fake = FakeLLM(outputs, rate, log)
            writer_loop = asyncio.ensure_future(fake.run())
            server = await asyncio.start_server(fake.accept, "127.0.0.1", 0, backlog=4096)
            port = server.sockets[0].getsockname()[1]
            port_file.write_text(str(port))  # noqa: ASYNC240 - once, at start-up
            async with server:
                await server.serve_forever()
            writer_loop.cancel()

    asyncio.run(main())


# --- the floor: what any Python reader of these streams pays --------------------------------


class _BareReader(asyncio.Protocol):
    """One LLM stream read as cheaply as Python can: the HTTP response parsed by httptools
    (as the worker's connections are, delphos/engines/lean_http.py), its body kept, nothing
    else. What is left of a delta's cost in the worker's event loop is the kernel's (the
    loopback TCP of both ends' reads and acknowledgements), uvloop's and httptools'."""

    def __init__(self, request: bytes, done: asyncio.Future[None]) -> None:
        self.request = request
        self.done = done
        self.parser = httptools.HttpResponseParser(self)
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        cast(asyncio.Transport, transport).write(self.request)

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.body.clear()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


def run_floor(url: str, count: int, ramp: float) -> None:
    """The `floor` sub-command: ``count`` streams of the fake read by :class:`_BareReader`,
    started over ``ramp`` seconds as the clients start theirs; prints the event loop's
    CPU seconds."""
    host, _, port = url.split("//", 1)[1].split("/", 1)[0].rpartition(":")

    async def one(stream: int, started: float) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, started + ramp * stream / count - time.monotonic()))
        body = json.dumps(
            {"model": "bench", "stream": True, "messages": [
                {"role": "user", "content": f"bench-stream-{stream}"}
            ]}
        ).encode()  # fmt: skip
        request = (
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: bench\r\n"
            b"content-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body) + body
        )
        done: asyncio.Future[None] = loop.create_future()
        transport, _ = await loop.create_connection(
            lambda: _BareReader(request, done), host, int(port)
        )
        try:
            await done
        finally:
            transport.close()

    async def main() -> float:
        cpu = time.thread_time()
        started = time.monotonic()
        await asyncio.gather(*(one(i, started) for i in range(count)))
        return time.thread_time() - cpu

    print(json.dumps({"loop_cpu": run_loop(main())}))


def floor_us_per_delta(url: str, log: Path, count: int, ramp: float) -> float:
    """The floor's event-loop CPU per delta the fake sent, in a process of its own."""
    log.write_text("")
    out = subprocess.run(
        [sys.executable, __file__, "floor", url, str(count), str(ramp)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    loop_cpu = json.loads(out.stdout.strip().splitlines()[-1])["loop_cpu"]
    deltas = sum(json.loads(line).get("deltas", 0) for line in log.read_text().splitlines())
    return 1e6 * loop_cpu / deltas if deltas else float("nan")


# --- processes ------------------------------------------------------------------------------


@contextmanager
def fake_llm(tmp: Path, rate: float) -> Iterator[tuple[str, Path, int]]:
    port_file = tmp / "fake.port"
    log_file = tmp / "fake.jsonl"
    port_file.unlink(missing_ok=True)
    log_file.write_text("")
    proc = subprocess.Popen(
        [sys.executable, __file__, "fake", str(port_file), str(log_file), str(rate)], cwd=ROOT
    )
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the fake LLM server did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port_file.read_text()}/v1", log_file, proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def delphos_server(
    tmp: Path,
    engine: str,
    fake_url: str | None,
    app_root: Path = ROOT,
    census: tuple[str, int, bool] | None = None,
    workers: int = 1,
) -> Iterator[tuple[int, int]]:
    """(port, pid) of a uvicorn worker serving the real app (the checkout at ``app_root``:
    another one to compare against in the same run); with ``census`` (files' prefix,
    notes in flight to count objects at, tracemalloc on), the worker of bench/census.py."""
    sys.path.insert(0, str(ROOT))
    from bench.cache_hit import wait_listening
    from delphos.db.migrate import upgrade_sync
    from tests.support.ports import free_port

    data = tmp / f"data-{time.monotonic_ns()}"
    data.mkdir()
    db_url = f"sqlite+aiosqlite:///{data / 'delphos.db'}"
    upgrade_sync(db_url)
    port = free_port()
    env = {
        **os.environ,
        "DELPHOS_ENGINE": engine,
        "DELPHOS_API_KEYS": API_KEY,
        "DELPHOS_DATA_DIR": str(data),
        "DELPHOS_DATABASE_URL": db_url,
        # SQLite's single writer falls behind at hundreds of notes a second and notes go
        # to the spool (durable all the same): its warnings would bury the table.
        "DELPHOS_LOG_LEVEL": "error",
        "DELPHOS_GENERATION_TIMEOUT": "600",
        "PYTHONPATH": str(app_root),
    }
    env.pop("DELPHOS_REDIS_URL", None)
    if fake_url:
        env["DELPHOS_OPENAI_BASE_URL"] = fake_url
        env["DELPHOS_OPENAI_MODEL"] = "bench"
    uvicorn = [
        "--factory", "delphos.app:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--no-access-log", "--log-level", "warning", "--backlog", "4096",
    ]  # fmt: skip
    if census is None:
        command = [sys.executable, "-m", "uvicorn", *uvicorn]
    else:
        out, at, trace = census
        probe = str(ROOT / "bench" / "census.py")
        command = [sys.executable, probe, out, str(at), "1" if trace else "0", *uvicorn]
    proc = subprocess.Popen(command, cwd=app_root, env=env)
    try:
        wait_listening(port, proc, "delphos")
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _tree(pid: int) -> list[int]:
    """The worker and every process under it: the evidence checker's processes and
    multiprocessing's resource tracker (delphos/evidence/runner.py) are part of what the
    worker costs."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
    return found


def event_loops(pid: int, workers: int) -> list[int]:
    """The processes whose main thread is an event loop serving requests: uvicorn's own
    with one worker; with several, its worker processes (its supervisor serves nothing).
    Waits up to 30 s for them to start."""
    if workers == 1:
        return [pid]
    deadline = time.monotonic() + 30
    while True:
        found = []
        with contextlib.suppress(OSError):
            for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
                # The supervisor's other child is multiprocessing's resource tracker; the
                # evidence processes are the workers' children.
                if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                    found.append(int(child))
        if len(found) >= workers:
            return found
        if time.monotonic() > deadline:
            # Measuring fewer loops than serve would misreport every loop figure.
            raise RuntimeError(f"{len(found)} of uvicorn's {workers} workers started")
        time.sleep(0.1)


def pin(worker: int, others: list[int]) -> None:
    """The worker's threads on CPU 0; its evidence processes, the fake, and these clients
    on CPU 1: what the worker does with a core of its own (on a 2-core machine the fake
    and the clients otherwise take turns with it on both)."""
    for task in Path(f"/proc/{worker}/task").iterdir():
        with contextlib.suppress(OSError):
            os.sched_setaffinity(int(task.name), {0})
    for p in [*_tree(worker)[1:], *others, os.getpid()]:
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{p}/task").iterdir():
                os.sched_setaffinity(int(task.name), {1})


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """CPU time of the worker's process tree, or of one of the worker's threads (the
    event loop's is the pid's)."""
    if thread is not None:
        return _cpu(f"/proc/{pid}/task/{thread}/stat")
    return sum(_cpu(f"/proc/{p}/stat") for p in _tree(pid))


def _cpu(stat: str) -> float:
    try:
        fields = Path(stat).read_text().rsplit(")", 1)[1].split()
    except OSError:  # a process that ended between the listing and the read
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_queue(pid: int) -> tuple[int, int]:
    """Nanoseconds the worker's event-loop thread has run on a CPU, and waited in the run
    queue for one (``/proc/PID/schedstat``; zeros where the kernel keeps no such figures)."""
    try:
        ran, waited, _slices = Path(f"/proc/{pid}/schedstat").read_text().split()
    except (OSError, ValueError):
        return 0, 0
    return int(ran), int(waited)


def pss_mb(pid: int) -> float:
    """One process's proportional set size (0 once it is gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    return 0.0


def rss_mb(pid: int) -> float:
    """Memory of the worker's process tree: the sum of each process's proportional set
    size (PSS), so pages the evidence processes share copy-on-write count once."""
    return sum(pss_mb(p) for p in _tree(pid))


# --- clients --------------------------------------------------------------------------------


@dataclass
class Seen:
    status: int = 0
    first: int | None = None  # first partial with text
    sections: dict[str, int] = field(default_factory=dict)  # first event showing it complete
    soap: int | None = None  # the `soap` event
    final: str | None = None  # "soap" | "error" | None (cut)


class _Client(asyncio.Protocol):
    """One stream read by an asyncio Protocol: a read is stamped in ``data_received``, as
    the loop hands it over, not when a reader task gets its turn. The clients' own event
    loop is busy with 500-2,000 streams, and a task's turn waited behind the others':
    measured that way the delay included the clients' queue, which no server adds."""

    def __init__(self, request: bytes, seen: Seen, done: asyncio.Future[None]) -> None:
        self._request = request
        self._seen = seen
        self._done = done
        self._head = b""
        self._chunked: bool | None = None  # None until the head is read
        self._raw = b""  # body bytes not yet de-chunked
        self._events = b""  # SSE text not yet split into events

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.WriteTransport subclasses.
        cast(asyncio.WriteTransport, transport).write(self._request)

    def data_received(self, data: bytes) -> None:
        arrived = now_ns()
        seen = self._seen
        if self._chunked is None:
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                return
            head, data = self._head[:end], self._head[end + 4 :]
            seen.status = int(head.split(b" ", 2)[1])
            if seen.status != 200:
                self._finish()  # an error, counted as one (its connection may stay open)
                return
            self._chunked = b"transfer-encoding: chunked" in head.lower()
        ended = False
        if self._chunked:
            raw = self._raw + data
            while True:
                line = raw.find(b"\r\n")
                if line < 0:
                    break
                size = int(raw[:line], 16)
                if size == 0:
                    ended = True  # the events before it are read first
                    break
                if len(raw) < line + 2 + size + 2:
                    break
                self._events += raw[line + 2 : line + 2 + size]
                raw = raw[line + 2 + size + 2 :]
            self._raw = raw
        else:
            self._events += data
        while b"\n\n" in self._events and seen.final is None:
            block, self._events = self._events.split(b"\n\n", 1)
            name, payload = b"", b""
            for text in block.split(b"\n"):
                if text.startswith(b"event:"):
                    name = text[6:].strip()
                elif text.startswith(b"data:"):
                    payload = text[5:].strip()
            if name in (b"partial", b"soap"):
                # Decoded only as far as needed: every stream's reads are stamped one
                # after another, and a read decoded whole (~5 KB of JSON) would hold up
                # the next stream's stamp.
                if seen.first is None:
                    event = json.loads(payload)
                    if any(event[KEYS[k]] for k in SECTIONS):
                        seen.first = arrived
                start = payload.rfind(b'"completeness":')
                end = payload.find(b"}", start)
                completeness = json.loads(payload[start + 15 : end + 1])
                for short, done in completeness.items():
                    if done and short not in seen.sections:
                        seen.sections[short] = arrived
                if name == b"soap":
                    seen.soap = arrived
            if name in (b"soap", b"error"):
                seen.final = name.decode()
        if seen.final is not None or ended:
            self._finish()

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish()

    def _finish(self) -> None:
        if not self._done.done():
            self._done.set_result(None)


async def one_stream(port: int, stream: int, text: str, seen: Seen) -> None:
    body = json.dumps(
        {"consultation_id": f"bench-{stream}", "accumulated_text": f"bench-stream-{stream}\n{text}"}
    ).encode()
    request = (
        f"POST {STREAM} HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n"
        f"x-api-key: {API_KEY}\r\ncontent-length: {len(body)}\r\n\r\n".encode()
        + body
    )
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    try:
        transport, _ = await loop.create_connection(
            lambda: _Client(request, seen, done), "127.0.0.1", port
        )
    except OSError:
        return
    try:
        await done  # a read it could not parse closes the connection: an error
    finally:
        transport.close()


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run the clients on uvloop when it is there (uvicorn's loop, installed with it): the
    clients share the machine with the worker, and the lighter they are the less of the
    worker's CPU they take."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


async def run_clients(port: int, count: int, ramp: float, texts: list[str]) -> list[Seen]:
    seen = [Seen() for _ in range(count)]
    started = time.monotonic()

    async def later(stream: int) -> None:
        await asyncio.sleep(max(0.0, started + ramp * stream / count - time.monotonic()))
        await one_stream(port, stream, texts[stream % len(texts)], seen[stream])

    await asyncio.gather(*(later(i) for i in range(count)))
    return seen


# --- the run --------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


@dataclass
class Batch:
    streams: int
    errors: int
    first_ms: list[float]
    section_ms: list[float]
    soap_ms: list[float]  # the object's closing brace -> the `soap` event
    cpu_cores: float
    cpu_us_per_delta: float  # the worker's CPU over the batch per delta the fake sent
    loop_us_per_delta: float  # of which the event loop's thread (the rest: evidence, SQLite)
    # Of the time the event loop's thread was ready to run, the share it waited for a CPU
    # (the scheduler's run queue): what the processes sharing the machine cost it.
    loop_waited: float
    upstream: int  # most LLM streams the fake served at once
    rss_before: float
    rss_peak: float
    seconds: float
    load: str
    helpers_cores: float  # the fake LLM's and the clients' CPU (they share what is left)
    # The same streams read by a bare reader, in the same run (floor_us_per_delta): the part
    # of loop_us_per_delta no Python server avoids on this machine. NaN when not measured.
    floor_us_per_delta: float = float("nan")


def _helpers_cpu(fake_pid: int | None) -> float:
    """CPU seconds of this process (the clients) and of the fake LLM."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    own = usage.ru_utime + usage.ru_stime
    return own + (cpu_seconds(fake_pid) if fake_pid is not None else 0.0)


def batch(
    port: int,
    pid: int,
    count: int,
    ramp: float,
    log: Path | None,
    base: int,
    spy: str | None,
    fake_pid: int | None = None,
    samples_to: str | None = None,
    loops: list[int] | None = None,
) -> Batch:
    texts = dialogues()
    profiler = None
    if spy:
        # The worker's profile over the batch (py-spy, pip-installable): where time goes.
        profiler = subprocess.Popen(
            [
                "py-spy",
                "record",
                "-p",
                str(pid),
                "-r",
                "200",
                *(["--subprocesses"] if loops and loops != [pid] else []),
                *os.environ.get("PYSPY_EXTRA", "").split(),
                "-f",
                "raw",
                "-o",
                f"{spy}-{count}.txt",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    loops = loops or [pid]
    rss_before = rss_mb(pid)
    peak = rss_before
    cpu_before = cpu_seconds(pid)
    helpers_before = _helpers_cpu(fake_pid)
    loop_before = sum(cpu_seconds(p, p) for p in loops)
    ran_before, waited_before = map(sum, zip(*map(run_queue, loops), strict=True))
    started = time.monotonic()

    # The memory is sampled from a thread of its own: reading a process's smaps_rollup
    # walks its page tables (~5-8 ms for a few hundred MB, per process of the tree), and
    # on the clients' event loop that froze every stream's arrival stamps 4 times a
    # second, a delay the server never added (the read releases the GIL).
    finished = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not finished.wait(0.25):
            peak = max(peak, rss_mb(pid))

    sampler = threading.Thread(target=sample, name="memory-sampler")
    sampler.start()
    try:
        seen = run_loop(run_clients(port, count, ramp, texts))
    finally:
        finished.set()
        sampler.join()
    seconds = time.monotonic() - started
    if profiler is not None:
        profiler.send_signal(2)  # SIGINT: py-spy writes its profile and exits
        profiler.wait(60)
    cpu_used = cpu_seconds(pid) - cpu_before
    helpers_used = _helpers_cpu(fake_pid) - helpers_before
    loop_used = sum(cpu_seconds(p, p) for p in loops) - loop_before
    ran_after, waited_after = map(sum, zip(*map(run_queue, loops), strict=True))
    ran, waited = ran_after - ran_before, waited_after - waited_before
    cpu = cpu_used / seconds
    peak = max(peak, rss_mb(pid))
    errors = sum(1 for s in seen if s.status != 200 or s.final != "soap")
    first_ms: list[float] = []
    section_ms: list[float] = []
    soap_ms: list[float] = []
    samples: list[tuple[int, float, str, int]] = []
    upstream = 0
    deltas = 0
    if log is not None:
        stamps = {}
        for line in log.read_text().splitlines():
            record = json.loads(line)
            stamps[record["stream"]] = record
            deltas += record.get("deltas", 0)
        edges = sorted(
            [(r["start"], 1) for r in stamps.values()] + [(r["end"], -1) for r in stamps.values()]
        )
        running = 0
        for _, step in edges:
            running += step
            upstream = max(upstream, running)
        for index, s in enumerate(seen):
            sent = stamps.get(base + index)
            if sent is None or s.final != "soap":
                continue
            got: dict[str, int | None] = {**s.sections, "first": s.first}
            for kind, into in (("first", first_ms), *((k, section_ms) for k in SECTIONS)):
                if got.get(kind) is not None and kind in sent:
                    into.append((got[kind] - sent[kind]) / 1e6)
                    samples.append((sent[kind], into[-1], kind, base + index))
            if s.soap is not None and "close" in sent:
                soap_ms.append((s.soap - sent["close"]) / 1e6)
                samples.append((sent["close"], soap_ms[-1], "soap", base + index))
    if samples_to is not None:
        with open(f"{samples_to}-{count}.tsv", "w", encoding="utf-8") as out:
            out.writelines(f"{t}\t{ms:.3f}\t{kind}\t{n}\n" for t, ms, kind, n in sorted(samples))
    return Batch(
        streams=count,
        errors=errors,
        first_ms=first_ms,
        section_ms=section_ms,
        soap_ms=soap_ms,
        cpu_cores=cpu,
        cpu_us_per_delta=1e6 * cpu_used / deltas if deltas else float("nan"),
        loop_us_per_delta=1e6 * loop_used / deltas if deltas else float("nan"),
        loop_waited=waited / (ran + waited) if ran + waited else float("nan"),
        upstream=upstream,
        rss_before=rss_before,
        rss_peak=peak,
        seconds=seconds,
        load=Path("/proc/loadavg").read_text().split()[0],
        helpers_cores=helpers_used / seconds,
    )


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "fake":
        run_fake(Path(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4]))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "floor":
        run_floor(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", default="100,500,1000,2000")
    parser.add_argument("--engine", choices=["openai", "local"], default="openai")
    parser.add_argument("--rate", type=float, default=50.0, help="deltas per second per stream")
    parser.add_argument("--ramp", type=float, default=5.0, help="seconds to start all streams")
    parser.add_argument(
        "--app-root",
        type=Path,
        default=ROOT,
        help="the checkout whose delphos the worker runs (default: this one)",
    )
    parser.add_argument("--samples", help="write every delay to PREFIX-N.tsv")
    parser.add_argument(
        "--py-spy", dest="spy", help="record the worker with py-spy to PREFIX-N.txt"
    )
    parser.add_argument(
        "--census",
        help="run the worker of bench/census.py (phases, memory, GC pauses) to PREFIX-N.*",
    )
    parser.add_argument(
        "--census-at",
        type=int,
        default=300,
        help="with --census: count objects when this many notes are in flight",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="with --census: also count memory by allocation site (slows the worker)",
    )
    parser.add_argument(
        "--no-floor",
        dest="floor",
        action="store_false",
        help="skip the reference: the same streams read by a bare reader after each batch",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn workers (the targets are for one; loop figures sum every worker's)",
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="the worker on CPU 0, everything else on CPU 1 (needs 2 cores)",
    )
    args = parser.parse_args()
    if args.workers < 1 or (args.workers > 1 and (args.pin or args.census)):
        parser.error("--workers must be at least 1, and 1 with --pin or --census")
    counts = [int(n) for n in args.streams.split(",")]
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    results: list[Batch] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        base = 0
        for count in counts:
            census = (
                (f"{args.census}-{count}", args.census_at, args.tracemalloc)
                if args.census
                else None
            )
            if args.engine == "local":
                with delphos_server(tmp, "local", None, args.app_root, census, args.workers) as (
                    port,
                    pid,
                ):
                    loops = event_loops(pid, args.workers)
                    run_loop(run_clients(port, 2 * args.workers, 0.0, ["warm-up text"]))
                    if args.pin:
                        pin(pid, [])
                    results.append(
                        batch(port, pid, count, args.ramp, None, 0, args.spy, loops=loops)
                    )
            else:
                with (
                    fake_llm(tmp, args.rate) as (url, log, fake_pid),
                    delphos_server(tmp, "openai", url, args.app_root, census, args.workers) as (
                        port,
                        pid,
                    ),
                ):
                    loops = event_loops(pid, args.workers)
                    # Warm-up (imports, first connections), not counted: one stream, two
                    # per worker with several (the kernel picks which worker accepts).
                    warm = 1 if args.workers == 1 else 2 * args.workers
                    run_loop(run_clients(port, warm, 0.0, ["warm-up"]))
                    if args.pin:
                        pin(pid, [fake_pid])
                    log.write_text("")
                    results.append(
                        batch(
                            port,
                            pid,
                            count,
                            args.ramp,
                            log,
                            base,
                            args.spy,
                            fake_pid,
                            args.samples,
                            loops,
                        )
                    )
                    if args.floor:
                        results[-1].floor_us_per_delta = floor_us_per_delta(
                            url, log, count, args.ramp
                        )
            r = results[-1]
            print(f"  N={count}: {r.errors} errors, {r.seconds:.1f} s, load {r.load}", flush=True)
            if census is not None:
                print(f"  census: {census[0]}.timeline.tsv, .gc.tsv, .objects.txt", flush=True)

    print(
        f"\nstreams benchmark: engine {args.engine}, "
        + ("one uvicorn worker" if args.workers == 1 else f"{args.workers} uvicorn workers")
        + (f", {args.rate:g} deltas/s per stream of 1-12 chars" if args.engine == "openai" else "")
        + f", streams started over {args.ramp:g} s"
        + (", worker on CPU 0 and the rest on CPU 1" if args.pin else "")
        + "\n"
    )
    print(
        f"{'N':>5} {'errors':>6} {'first text ms':>15} {'section done ms':>16} "
        f"{'} -> soap ms':>15} {'CPU':>5} {'us/delta':>12} {'floor':>12} {'loop waited':>11} "
        f"{'PSS MB before->peak':>22} "
        f"{'load':>5} {'upstream':>8} {'fake+client CPU':>15}"
    )
    print(
        f"{'':>5} {'':>6} {'p50 / p99':>15} {'p50 / p99':>16} {'p50 / p99':>15} {'':>5} "
        f"{'all / loop':>12} {'us (loop x)':>12}"
    )
    ok = True
    for r in results:
        growth = r.rss_peak - r.rss_before
        floor = (
            f"{r.floor_us_per_delta:.0f} ({r.loop_us_per_delta / r.floor_us_per_delta:.1f}x)"
            if not math.isnan(r.floor_us_per_delta)
            else "-"
        )

        def cell(values: list[float]) -> str:
            return f"{pct(values, 50):.1f} / {pct(values, 99):.1f}" if values else "-"

        print(
            f"{r.streams:>5} {r.errors:>6} {cell(r.first_ms):>15} {cell(r.section_ms):>16} "
            f"{cell(r.soap_ms):>15} {r.cpu_cores:>5.2f} "
            f"{f'{r.cpu_us_per_delta:.0f} / {r.loop_us_per_delta:.0f}':>12} "
            f"{floor:>12} "
            f"{f'{100 * r.loop_waited:.1f} %':>11} "
            f"{f'{r.rss_before:.0f} -> {r.rss_peak:.0f} (+{growth:.0f})':>22} {r.load:>5} "
            f"{r.upstream or '-':>8} {r.helpers_cores:>15.2f}"
        )
        ok = ok and r.errors == 0
        if r.streams == 2000 and growth >= TARGET_RSS_MB:
            ok = False
        if r.streams == 500 and any(
            values and pct(values, 99) > TARGET_MS for values in (r.first_ms, r.section_ms)
        ):
            ok = False
    print(
        "\n} -> soap: from the delta that closed the note's object to the `soap` event (after "
        "the evidence check and the durable write)"
    )
    print(
        "CPU: the cores of the worker and its evidence processes over the batch; us/delta: "
        "their CPU per delta the fake sent, all / the event loop's thread alone (less noisy "
        "than delays on a shared machine); floor: the same streams from the same fake read by "
        "a bare asyncio Protocol with httptools in a process of its own, in the same run: the "
        "loop's CPU per delta that the kernel (loopback TCP), uvloop and HTTP parsing take "
        "before any of delphos runs, and the loop's figure as a multiple of it; "
        "loop waited: of the time the event loop was ready "
        "to run, the share it waited for a CPU (taken by the fake, the clients, the evidence "
        "processes); PSS: the memory of the worker and the processes under it, shared pages "
        "counted once; upstream: most LLM streams served at once "
        "(the SDK's connection pool caps it at 1,000 per worker)"
    )
    print(
        f"targets: at 500 streams p99 <= {TARGET_MS:g} ms for first text and each section; "
        f"at 2,000: 0 errors and memory growth < {TARGET_RSS_MB:g} MB"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
