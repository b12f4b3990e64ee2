"""Where a note's evidence is computed: a separate process by default, else a thread.

The check is pure Python and CPU-bound (a 2 KB note against 100,000 characters: ~38 ms
on a quiet 2-core machine, bench/faithfulness.py). In a thread it holds the GIL the event
loop needs: at 500 streams the checks of the notes finishing took ~45 % of the worker's
samples, and every network read, parser feed and `partial` of every other stream waited
behind them for the interpreter's switch interval (bench/streams.py: section completions
p99 ~1.0-3.9 s; in a process, 44-152 ms). In a process of its own the loop keeps its core.

The processes are started with "spawn": a fresh interpreter that imports the checker and
loads its drug dictionary itself (``warm_up``, the pool's initializer), in the app's
lifespan (:meth:`EvidenceRunner.start`). It was a fork server that preloaded them, its
children sharing its pages copy-on-write; but CPython 3.11 writes every object it
touches (reference counts, the collector's links), so under load the child copied the
pages it shared, and the fork server still held the originals: one copy too many. With
"spawn" the process owns its memory from the start and there is no fork server
(bench/streams.py, alternating runs, the PSS of the worker's process tree before ->
peak: 2,000 streams +95/+102 MB with the fork server, +58/+70 MB spawned; 500 streams
+70/+70, +57/+52; baseline ~185 MB both; the evidence process itself +9 MB at 500
streams with its fork server +9 more, 0 spawned). The price: a new process takes about
a second, not milliseconds, to start, which only a dead one's replacement pays. A
process that dies (killed, out of memory) breaks its pool: that check runs in a thread
instead and the next one gets a new pool, so a note never loses its evidence to it.
``processes=0`` keeps everything in threads (one process in all: tools, small
machines).

The processes run at a lower priority than the worker (niceness +10): when the event
loop and a check want the same core, the streams' deltas go first. At 500 streams,
alternating with and without it: first-text p99 10.0, 8.5, 8.4, 9.6, 12.8 ms against
8.5, 9.3, 12.0, 12.3, 15.6; section completions 7.8-15.3 against 8.3-28.0 ms. The
price is paid past saturation only: at 2,000 streams the `soap` event (which waits for
the check) came p50 2.9 s after the note's end instead of 1.5 s, its text already shown.

A process outlives nothing it serves: when the worker that started it dies without
closing it (SIGKILL, the out-of-memory killer), it exits within a second or two. It
would otherwise wait forever for work, for it holds its task queue's write end itself:
each worker killed so left ~90 MB behind (seen after bench/hostile.py and the test suite).

The app runs two: one for the notes it writes (each `soap` event waits for its check),
and one for notes posted to ``/v1/notes/verify``, which anyone with a key can make as
long as the body limit allows; such a note costs up to its statements times the
transcript's mentions of their words (500 distinct statements, the most a posted note
may have, about a word said in every sentence: ~4 s; before the cap and the checker's
bounds, 7,000 took minutes). In a pool of its own it delays only other posted notes,
never a clinician's `soap` event; and that pool refuses (503) a check beyond
``max_waiting`` rather than queue without end. Its process starts on the first posted
note (a second or two), so a deployment that never posts notes never pays its memory.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from delphos.errors import ServiceUnavailable
from delphos.evidence.models import Evidence
from delphos.evidence.verify import verify, warm_up

log = logging.getLogger("delphos.evidence")

# Posted notes (/v1/notes/verify) queued or being checked, per process, before the next is
# refused: one posted note is checked in ~20 ms (a 100,000-character hostile one, seconds).
POSTED_WAITING_PER_PROCESS = 8
# Statements of a note that are checked, at most: ACI-Bench's longest notes have 90, the
# local engine's are bounded by 1,500 words (~220 statements). Each costs up to the
# transcript's mentions of its words, bounded (negation.MAX_MENTIONS), so this bounds a
# check (some seconds at worst). A posted note past it is refused (422); a note Delphos
# wrote past it (an LLM a transcript talked into thousands of lines) goes out with
# evidence null, rather than hold every other note's `soap` for a minute.
MAX_STATEMENTS = 500


class EvidenceRunner:
    """Runs :func:`~delphos.evidence.verify.verify` off the event loop; created in the
    app's lifespan and closed on shutdown."""

    def __init__(
        self,
        processes: int,
        *,
        max_waiting: int | None = None,
        max_statements: int | None = None,
    ) -> None:
        self._processes = processes
        # verify()'s bound on a note's statements (TooManyStatements beyond it).
        self._max_statements = max_statements
        self._pool: ProcessPoolExecutor | None = None
        # Checks submitted to the processes and not yet finished, and their bound.
        self._waiting = 0
        self._max_waiting = max_waiting
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor | None:
        if self._processes <= 0:
            return None
        if self._pool is None:
            # A fresh interpreter that loads the drug dictionary itself (see above): never a
            # fork of this threaded process, nor of a fork server whose pages it would copy.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self._processes, mp_context=context, initializer=_start_process
            )
        return self._pool

    async def start(self) -> None:
        """Load the checker now (startup), not on the first note: start the processes,
        or, without them, the drug dictionary here, off the event loop (seconds)."""
        pool = self._executor()
        if pool is None:
            await asyncio.to_thread(warm_up)
        else:
            await asyncio.wrap_future(pool.submit(_ready))

    async def verify(self, accumulated_text: str, note: Mapping[str, str]) -> Evidence:
        """The note's evidence; ServiceUnavailable when `max_waiting` checks are already
        queued or running in the processes."""
        if self._max_waiting is not None and self._waiting >= self._max_waiting:
            raise ServiceUnavailable(
                "Too many notes are being verified; retry shortly", retry_after=1
            )
        sections = dict(note)
        pool = self._executor()
        if pool is not None:
            try:
                job = pool.submit(
                    verify, accumulated_text, sections, max_statements=self._max_statements
                )
                return await self._counted(job)
            except BrokenProcessPool:
                log.error("evidence process died; checking in a thread, new process next time")
                if self._pool is pool:
                    self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
        return await asyncio.to_thread(
            verify, accumulated_text, sections, max_statements=self._max_statements
        )

    async def _counted(self, job: Future[Evidence]) -> Evidence:
        # Counted until the process is done with it, not until its caller stops waiting:
        # a client that leaves mid-check (its job still running) must not make room for
        # another. A queued job its caller left is cancelled, and so counted out at once.
        with self._lock:
            self._waiting += 1
        job.add_done_callback(self._finished)
        return await asyncio.wrap_future(job)

    def _finished(self, _job: Future[Evidence]) -> None:
        # In the pool's management thread, or the loop's when cancelled.
        with self._lock:
            self._waiting -= 1

    def pids(self) -> list[int]:
        """The evidence processes alive now (none before the first check or with threads)."""
        pool = self._pool
        if pool is None:
            return []
        # The executor's own table: ProcessPoolExecutor offers no public view of it.
        processes = getattr(pool, "_processes", None) or {}
        return [pid for pid, proc in processes.items() if proc.is_alive()]

    async def aclose(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            # Waited for (off the loop): a pool left to the interpreter's exit leaks its
            # queues' semaphores, and the resource tracker says so on stderr.
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)


def _ready() -> bool:
    return True


# The evidence processes' niceness, added to the worker's (see _start_process).
_NICENESS = 10
# How often an evidence process looks for its parent.
_PARENT_POLL_SECONDS = 1.0


def _start_process() -> None:
    """The pool's initializer, in each evidence process: exit with the parent, then load
    the checker."""
    parent = os.getppid()

    def watch() -> None:
        # Orphaned, a process is handed to another parent (init or a subreaper).
        while os.getppid() == parent:
            time.sleep(_PARENT_POLL_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="delphos-evidence-parent", daemon=True).start()
    # Below the event loop's priority: when both want a core, the streams' deltas go
    # first and a finished note's check waits a few milliseconds.
    os.nice(_NICENESS)
    warm_up()
