"""Where a note's evidence is computed: a separate process by default, else a thread.

The check is pure Python and CPU-bound (about 25 ms for a real note, ~60 ms against
100,000 characters on a 2-core machine). In a thread it holds the GIL the event loop
needs: at 500 streams the checks of the notes finishing took ~45 % of the worker's
samples, and every network read, parser feed and `partial` of every other stream waited
behind them for the interpreter's switch interval (bench/streams.py: section completions
p99 ~1.0-3.9 s; in a process, 44-152 ms). In a process of its own the loop keeps its core.

The processes are forked from a fork server that imported the checker and loaded its
drug dictionary once (``set_forkserver_preload``): a new pool's process starts in
milliseconds, not seconds, and never inherits the event loop's threads (fork from a
threaded process is unsafe). A process that dies (killed, out of memory) breaks its pool:
that check runs in a thread instead and the next one gets a new pool, so a note never
loses its evidence to it. ``processes=0`` keeps everything in threads (one process in
all: tools, small machines).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from delphos.evidence.models import Evidence
from delphos.evidence.verify import verify, warm_up

log = logging.getLogger("delphos.evidence")

# The fork server imports this module before it forks anything: the checker with its
# drug dictionary, loaded once, shared copy-on-write by every process forked from it.
_PRELOAD = "delphos.evidence.preload"


class EvidenceRunner:
    """Runs :func:`~delphos.evidence.verify.verify` off the event loop; created in the
    app's lifespan and closed on shutdown."""

    def __init__(self, processes: int) -> None:
        self._processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor | None:
        if self._processes <= 0:
            return None
        if self._pool is None:
            # Set when a pool is first needed, not on import: it only matters before the
            # process's fork server starts, and importing the checker must not change it.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([_PRELOAD])
            self._pool = ProcessPoolExecutor(self._processes, mp_context=context)
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
        sections = dict(note)
        pool = self._executor()
        if pool is not None:
            try:
                return await asyncio.wrap_future(pool.submit(verify, accumulated_text, sections))
            except BrokenProcessPool:
                log.error("evidence process died; checking in a thread, new process next time")
                if self._pool is pool:
                    self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
        return await asyncio.to_thread(verify, accumulated_text, sections)

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
