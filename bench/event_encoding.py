"""Benchmark: the cost of one `partial` event, from the engine's delta to the SSE bytes.

A generation appends a partial per (throttled) engine delta; every listener of the run
reads it from the event log and writes it out. Timed here: `EventLog.append_partial`, the
listeners' reads (the typed `PartialEvent`) and the SSE bytes of each, against the dict
events the pipeline carried before (a snapshot dict per listener, `json.dumps` per
listener), in the same run on the same texts, so the ratio is meaningful on any machine.

Run: ``python -m bench.event_encoding`` (``--listeners 2`` for a run with two clients).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import AsyncGenerator, Callable
from functools import partial
from pathlib import Path
from typing import Any

from delphos.records import SECTION_KEYS, SHORT
from delphos.soap.events import GENERATING, NoteEvent
from delphos.soap.replay import EventLog, _unpack
from delphos.sse import event_bytes, one_line

ACI_BENCH = Path(__file__).resolve().parents[2] / "shared" / "eval" / "aci-bench"
PARTIALS = 200  # partials per note, cut evenly through it
SIZES = (2_000, 8_000)  # characters of note
# The typed events must cost no more than the dicts did.
TARGET_RATIO = 1.0

Texts = tuple[str, str, str, str]
Done = tuple[bool, bool, bool, bool]


def reference_note(size: int) -> Texts:
    """Four sections of a real ACI-Bench reference note, about ``size`` characters."""
    notes = [item["tgt"] for item in json.loads((ACI_BENCH / "valid.json").read_text())["data"]]
    body = "\n\n".join(notes)[:size]
    q = len(body) // 4
    return body[:q], body[q : 2 * q], body[2 * q : 3 * q], body[3 * q :]


def cuts(note: Texts) -> list[tuple[Texts, Done]]:
    """The partials a stream of this note shows: every section grows in S, O, A, P order."""
    total = sum(map(len, note))
    out: list[tuple[Texts, Done]] = []
    for i in range(1, PARTIALS + 1):
        left = total * i // PARTIALS
        texts: list[str] = []
        done: list[bool] = []
        for section in note:
            texts.append(section[: max(0, left)])
            done.append(left >= len(section) and i < PARTIALS)
            left -= len(section)
        out.append(((texts[0], texts[1], texts[2], texts[3]), (done[0], done[1], done[2], done[3])))
    return out


def _next(replay: AsyncGenerator[NoteEvent, None]) -> NoteEvent:
    """The replay's next event, read synchronously: it is there, nothing awaits."""
    try:
        replay.__anext__().send(None)
    except StopIteration as stop:
        event: NoteEvent = stop.value
        return event
    raise RuntimeError("the replay waited for an event that was appended")


def typed(partials: list[tuple[Texts, Done]], listeners: int) -> int:
    """Today's pipeline: the log keeps the partial, each listener reads the typed event and
    writes its SSE bytes (the JSON is written once, however many listeners)."""
    log = EventLog(GENERATING)
    replays = [log.replay() for _ in range(listeners)]
    for replay in replays:
        _next(replay)  # the status event
    written = 0
    for texts, done in partials:
        log.append_partial(texts, done)
        for replay in replays:
            event = _next(replay)
            written += len(event_bytes(event.name, event.data_json))
    return written


class _DictLog(EventLog):
    """The log as it was: a listener's read made a dict snapshot of the partial."""

    def _snapshot(self, partial: int, at: int) -> Any:
        short = tuple(SHORT[k] for k in SECTION_KEYS)
        lengths, done = _unpack(partial)
        cut: dict[str, Any] = {
            key: text[:n] for key, text, n in zip(SECTION_KEYS, self._texts, lengths, strict=True)
        }
        return {**cut, "completeness": dict(zip(short, done, strict=True))}


def dicts(partials: list[tuple[Texts, Done]], listeners: int) -> int:
    """The reference: the same log and reads, with the dict events the pipeline carried
    before (a snapshot dict per listener read, `json.dumps` per listener written)."""
    log = _DictLog(GENERATING)
    replays = [log.replay() for _ in range(listeners)]
    for replay in replays:
        _next(replay)
    written = 0
    for texts, done in partials:
        log.append_partial(texts, done)
        for replay in replays:
            data: Any = _next(replay)
            line = one_line(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
            written += len(b"event: partial\ndata: " + line.encode() + b"\n\n")
    return written


def per_partial_us(run: Callable[[], int], count: int, repeat: int = 25) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best / count * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", type=int, default=1)
    args = parser.parse_args()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    ok = True
    for size in SIZES:
        partials = cuts(reference_note(size))
        assert typed(partials, 1) == dicts(partials, 1), "the same bytes either way"
        ours = per_partial_us(partial(typed, partials, args.listeners), len(partials))
        ref = per_partial_us(partial(dicts, partials, args.listeners), len(partials))
        ratio = ours / ref
        ok &= ratio <= TARGET_RATIO
        print(
            f"{size:>6} chars, {args.listeners} listener(s): typed {ours:6.2f} us/partial, "
            f"dicts {ref:6.2f} us/partial, ratio {ratio:.2f} (target <= {TARGET_RATIO})"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
