"""Where a streams batch's memory and pauses go: the worker of ``bench/streams.py --census``.

Run by ``bench/streams.py`` in place of ``python -m uvicorn`` (``census.py OUT <uvicorn
arguments>``), it serves the same app with three probes, and writes what they saw to
``OUT.*``:

- ``OUT.timeline.tsv``: every 0.25 s, the notes in each phase of the pipeline (waiting
  for the LLM's first text, streaming, in the evidence check, being made durable) and
  the worker's PSS: what the memory peak was made of, and which phase a backlog is in.
- ``OUT.gc.tsv``: every collection of the cyclic garbage collector (when, which
  generation, how long the event loop stood still): the pauses behind a latency tail.
- ``OUT.objects.txt``: once the notes in flight first reach ``--census-at``, the objects
  the collector tracks that the batch added, by type, per note in flight (what the
  young collections walk); with ``--tracemalloc``, also the memory allocated since the
  warm-up per note in flight, by the line that allocated it and its callers in
  ``delphos``.

A diagnostic, not a measurement: the probes read the generations' private state (kept
to what a phase needs), take the interpreter's lock for a census (tens of milliseconds
at a thousand notes) and, with ``--tracemalloc``, slow every allocation several times
over. The batch's latency figures are not comparable with a plain run's.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
import traceback
import tracemalloc
import weakref
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

# This file runs as a script, from the checkout under measurement's PYTHONPATH.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.streams import pss_mb

TICK_SECONDS = 0.25
TRACEMALLOC_FRAMES = 8


def _kind(obj: object) -> str:
    kind = type(obj)
    name = f"{kind.__module__}.{kind.__qualname__}"
    if kind.__name__ in ("coroutine", "async_generator", "generator", "function"):
        # Which one: a closure made per stream shows here, its cells just as ``cell``.
        name += f" {getattr(obj, '__qualname__', '?')}"
    elif kind.__name__ == "method":
        name += f" {getattr(getattr(obj, '__func__', None), '__qualname__', '?')}"
    return name


def _tracked() -> Counter[str]:
    return Counter(_kind(obj) for obj in gc.get_objects())


def _site(trace: tracemalloc.Traceback) -> str:
    """The allocating line (its package's file) and, when that is not ours, the nearest
    callers that are."""
    # A traceback runs from the oldest frame to the allocation.
    recent = list(reversed(trace))
    frames = [f"{Path(f.filename).parent.name}/{Path(f.filename).name}:{f.lineno}" for f in recent]
    ours = [
        name
        for name, f in zip(frames, recent, strict=True)
        if f"{os.sep}delphos{os.sep}" in f.filename
    ]
    if not ours or ours[0] == frames[0]:
        return " < ".join(frames[:3])
    return f"{frames[0]} < ... < " + " < ".join(ours[:2])


class Census:
    def __init__(self, out: str, at: int, trace: bool) -> None:
        self.out = out
        self.at = at
        self.trace = trace
        self.notes: weakref.WeakSet[Any] = weakref.WeakSet()
        self.checking = 0  # notes in the evidence check now
        self.pauses: list[tuple[float, int, float]] = []
        self._gc_started = 0.0
        self._written = 0  # pauses already in the file
        self._t0 = time.monotonic()

    def install(self) -> None:
        from delphos.soap import generation

        census = self
        init = generation.Generation.__init__

        def counted_init(gen: Any, *args: Any, **kwargs: Any) -> None:
            init(gen, *args, **kwargs)
            census.notes.add(gen)

        generation.Generation.__init__ = counted_init  # type: ignore[method-assign, assignment]
        check = generation.check_evidence  # type: ignore[attr-defined]

        async def counted_check(*args: Any, **kwargs: Any) -> Any:
            census.checking += 1
            try:
                return await check(*args, **kwargs)
            finally:
                census.checking -= 1

        generation.check_evidence = counted_check  # type: ignore[attr-defined]
        gc.callbacks.append(self._on_gc)
        if self.trace:
            tracemalloc.start(TRACEMALLOC_FRAMES)
        threading.Thread(target=self._run, name="census", daemon=True).start()

    def _run(self) -> None:
        try:
            self._watch()
        except Exception:
            # A probe that stopped must say so: the files would just end.
            traceback.print_exc()

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.monotonic()
        else:
            now = time.monotonic()
            self.pauses.append(
                (self._gc_started - self._t0, info["generation"], now - self._gc_started)
            )

    def _phases(self) -> tuple[int, int, int, int]:
        waiting = streaming = finishing = 0
        for gen in list(self.notes):
            if gen.done:
                continue
            parser = gen._parser
            if gen._finalizing:
                finishing += 1
            elif parser is not None and parser.started:
                streaming += 1
            else:
                waiting += 1
        checking = min(self.checking, finishing)
        return waiting, streaming, checking, finishing - checking

    def _watch(self) -> None:
        # The baseline: after the warm-up note (the first one the worker sees).
        while not self.notes:
            time.sleep(0.05)
        time.sleep(1.0)
        base = _tracked()
        if self.trace:
            # From here on only the batch's allocations are traced: a snapshot then holds
            # what it added and still holds, and is quick to group (a baseline of the
            # startup's million objects took longer to compare than the batch lasts).
            tracemalloc.clear_traces()
        self._t0 = time.monotonic()
        self.pauses.clear()
        self._written = 0
        counted = False
        with (
            open(f"{self.out}.timeline.tsv", "w", encoding="utf-8") as timeline,
            open(f"{self.out}.gc.tsv", "w", encoding="utf-8") as pauses,
        ):
            timeline.write(
                "seconds\twaiting_for_llm\tstreaming\tevidence_check\tdurable_write\tpss_mb\n"
            )
            pauses.write("seconds\tgeneration\tpause_ms\n")
            while True:
                time.sleep(TICK_SECONDS)
                waiting, streaming, checking, writing = self._phases()
                timeline.write(
                    f"{time.monotonic() - self._t0:.2f}\t{waiting}\t{streaming}\t{checking}\t"
                    f"{writing}\t{pss_mb(os.getpid()):.1f}\n"
                )
                timeline.flush()
                self._write_pauses(pauses)
                in_flight = waiting + streaming + checking + writing
                if not counted and in_flight >= self.at:
                    counted = True
                    self._write_objects(in_flight, base)

    def _write_pauses(self, out: TextIO) -> None:
        """The pauses since the last call (the collector's callback only appends)."""
        pauses = self.pauses[self._written :]
        self._written += len(pauses)
        out.writelines(f"{t:.3f}\t{g}\t{1000 * d:.2f}\n" for t, g, d in pauses)
        out.flush()

    def _write_objects(self, in_flight: int, base: Counter[str]) -> None:
        now = _tracked()
        added = {kind: (now[kind] - base.get(kind, 0)) / in_flight for kind in now}
        lines = [
            f"{in_flight} notes in flight; tracked objects added per note: "
            f"{sum(added.values()):.0f}",
            "",
        ]
        lines += [
            f"{per:8.1f}  {kind}"
            for kind, per in sorted(added.items(), key=lambda item: -item[1])
            if per >= 0.5
        ]
        if self.trace:
            # Not the probes' own allocations (a census is taken while this runs).
            ignore = [tracemalloc.Filter(False, path) for path in (tracemalloc.__file__, __file__)]
            stats = tracemalloc.take_snapshot().filter_traces(ignore).statistics("traceback")
            by_site: Counter[str] = Counter()
            for stat in stats:
                by_site[_site(stat.traceback)] += stat.size
            total = sum(by_site.values())
            per_note = total / in_flight / 1024
            lines += [
                "",
                f"memory allocated since the warm-up, per note in flight: {per_note:.1f} KiB",
                "",
            ]
            lines += [
                f"{size / in_flight:8.0f} B  {site}"
                for site, size in by_site.most_common(60)
                if size / in_flight >= 64
            ]
        Path(f"{self.out}.objects.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    out, at, trace, *uvicorn_args = sys.argv[1:]
    Census(out, int(at), trace == "1").install()
    from uvicorn.main import main as uvicorn_main

    sys.argv = ["uvicorn", *uvicorn_args]
    uvicorn_main()


if __name__ == "__main__":
    main()
