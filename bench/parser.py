"""Benchmark: the incremental SOAP parser vs re-parsing the growing buffer with jiter.

Naive streaming UIs re-parse the whole buffer after every delta with a partial JSON parser,
which is quadratic in the note's length. Our parser only looks at each delta. Both are timed
in the same run on the same deltas, so the ratio is meaningful on any machine.

Run: ``.venv/bin/python bench/parser.py`` or ``.venv/bin/python -m bench.parser``.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from pathlib import Path

import jiter

from delphos.records import SECTION_KEYS, SectionKey
from delphos.soap.parser import SoapStreamParser

ACI_BENCH = Path(__file__).resolve().parents[2] / "shared" / "eval" / "aci-bench"
SIZES_KB = (4, 16, 64)
# Targets the parser is tuned for (ratio vs jiter re-parsing, same run).
TARGETS = {16: 20.0, 64: 100.0}


def reference_text() -> str:
    """Real ACI-bench reference notes (valid then train), one after the other."""
    notes: list[str] = []
    for split in ("valid", "train"):
        data = json.loads((ACI_BENCH / f"{split}.json").read_text(encoding="utf-8"))["data"]
        notes.extend(item["tgt"] for item in data)
    return "\n\n".join(notes)


def build_note(text: str, size_bytes: int) -> dict[SectionKey, str]:
    """A note whose JSON is about size_bytes long, cut into four sections at paragraphs."""
    body = text[:size_bytes]
    while len(json.dumps(body, ensure_ascii=False).encode()) > size_bytes - 80:
        body = body[: len(body) - 64]
    cuts = [0]
    for quarter in (1, 2, 3):
        at = body.find("\n\n", len(body) * quarter // 4)
        cuts.append(at if at > cuts[-1] else len(body) * quarter // 4)
    cuts.append(len(body))
    return {key: body[cuts[k] : cuts[k + 1]].strip() for k, key in enumerate(SECTION_KEYS)}


def split_deltas(output: str, seed: int) -> list[str]:
    """Cut the output like an LLM stream: deltas of 1-12 characters."""
    rnd = random.Random(seed)
    deltas: list[str] = []
    i = 0
    while i < len(output):
        step = rnd.randint(1, 12)
        deltas.append(output[i : i + step])
        i += step
    return deltas


def run_ours(deltas: list[str]) -> dict[str, str]:
    parser = SoapStreamParser()
    feed = parser.feed
    for delta in deltas:
        feed(delta)
    return parser.note().sections()


def run_jiter(deltas: list[str]) -> dict[SectionKey, str]:
    buf = ""
    value: dict[SectionKey, str] = {}
    for delta in deltas:
        buf += delta
        value = jiter.from_json(buf.encode(), partial_mode="trailing-strings")
    return value


def best_of(repeat: int, fn: Callable[[list[str]], object], deltas: list[str]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(deltas)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--repeat", type=int, default=7, help="best-of-N repetitions per timing")
    ap.add_argument("--seed", type=int, default=20240611, help="seed for the delta cuts")
    args = ap.parse_args()

    text = reference_text()
    print(f"best of {args.repeat}; deltas of 1-12 chars (seed {args.seed})")
    print(
        f"{'size':>7} {'json B':>7} {'deltas':>7} {'ours ms':>9} {'jiter ms':>10} "
        f"{'ratio':>8} {'ours us/KB':>11} {'target':>8}"
    )
    missed = False
    for kb in SIZES_KB:
        note = build_note(text, kb * 1024)
        output = json.dumps(note, ensure_ascii=False)
        deltas = split_deltas(output, args.seed)
        # Both must actually produce the note, or the timing means nothing.
        if run_ours(deltas) != note or run_jiter(deltas) != note:
            raise SystemExit(f"{kb} KB: a parser did not reproduce the note")
        ours = best_of(args.repeat, run_ours, deltas)
        ref = best_of(args.repeat, run_jiter, deltas)
        ratio = ref / ours
        target = TARGETS.get(kb)
        verdict = "-" if target is None else ("ok" if ratio >= target else "MISSED")
        missed = missed or verdict == "MISSED"
        size_kb = len(output.encode()) / 1024
        print(
            f"{kb:>5}KB {len(output.encode()):>7} {len(deltas):>7} {ours * 1e3:>9.3f} "
            f"{ref * 1e3:>10.2f} {ratio:>7.0f}x {ours * 1e6 / size_kb:>11.1f} "
            f"{verdict if target is None else f'{target:.0f}x {verdict}':>8}"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
