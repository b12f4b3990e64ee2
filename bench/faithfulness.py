"""Benchmark: does the evidence checker catch an error put into a real note, and leave
the real note alone? And how fast is it on a long consultation?

On ACI-bench train+valid (87 real dialogues with the note a scribe wrote), each reference
note is split into S/O/A/P (the dataset's own divisions) and verified as it is (false
flags), then one error at a time is put into one statement — a changed number, a changed
dose, a drug the dialogue never names, a flipped side, a flipped negation — and we count
how often that statement comes back flagged. The local engine's own notes are verified
too (they must get no flag). Injections are drawn with a fixed seed; they are written by
general rules (any number, any drug, any side), never for these notes. The draws follow
one another through all statements: a change in how notes are cut into statements (a
heading no longer read as one) draws different injections for every later statement, and
the rates move by about a point with nothing caught differently; to compare two checkers,
run both on the same statements.

Where an injection goes — only where the dialogue could show it is wrong:
- number: a digit number not followed by a dose unit, changed to a value the statement
  does not already give ("1-2 cm" does not become "2-2 cm"); caught by a `number` issue,
  or a `dose` issue when the number is a dose frequency ("every 6 hours").
- dose: a "<number> <unit>" in a statement naming a drug, halved, doubled or shifted.
- drug: the statement's first drug replaced by a common drug the dialogue never names.
- laterality: a left/right the dialogue states for that body part (the same side within
  four words of the part's word: the word after the side, else the one before). A side
  the dialogue never gives for that part cannot be contradicted by it.
- negation: a "denies/no/without/negative for" ↔ "reports/endorses/has" flip whose
  finding (its first three content words) the dialogue says in one sentence: "suicidal
  ideation" asked as "thoughts of hurting yourself" cannot be checked by its words.

Speed: a 2 KB note against transcripts of 6 to 100 KB of real dialogue (uncached: the
transcript indexed anew each time), reported in wall-clock and CPU ms and as a ratio to a
reference measured in the same run (one regex word pass over the same transcript — the
least any checker must do).

Run: ``.venv/bin/python bench/faithfulness.py [--show N]``.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# Run as a script (`python bench/faithfulness.py`): the repository root holds `bench`.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.injections import INJECTORS, Case, load
from delphos.engines.local_note import build_note
from delphos.evidence.drugs import lexicon
from delphos.evidence.models import Evidence, Statement
from delphos.evidence.transcript import index
from delphos.evidence.verify import SECTIONS, indexed, verify

KINDS = ("number", "dose", "drug", "laterality", "negation")
TARGETS = {"number": 0.98, "dose": 0.98, "drug": 0.98, "laterality": 0.98, "negation": 0.85}
# The issue kinds that count as catching an injection: a changed number inside a dose
# or a dose frequency ("every 6 hours" → "every 8 hours") is, by the issue kinds'
# definition, a `dose` issue.
ACCEPTED = {kind: {kind} for kind in KINDS} | {"number": {"number", "dose"}}
CLEAN_TARGET = 0.10
SPEED_TARGET_MS = 50.0


def flagged(st: Statement) -> bool:
    return st.support == "unsupported" or bool(st.issues)


def statement_at(evidence: Evidence, section: str, offset: int) -> Statement | None:
    for st in evidence.statements:
        if st.section == section and st.start <= offset < st.end:
            return st
    return None


@dataclass
class Tally:
    tried: int = 0
    any_flag: int = 0
    kind_flag: int = 0
    was_clean: int = 0
    clean_then_flagged: int = 0
    misses: list[str] = field(default_factory=list)


def run_injections(
    cases: list[Case], rng: random.Random, show: int, kinds: tuple[str, ...] = KINDS
) -> dict[str, Tally]:
    tallies = {kind: Tally() for kind in kinds}
    for case in cases:
        base = verify(case.dialogue, case.note)
        for st in base.statements:
            for kind, injector in INJECTORS.items():
                made = injector(st.text, case, rng)
                # Every injector still draws (the draws follow one another), so a kind
                # left out changes no other kind's injection sites.
                if made is None or kind not in tallies:
                    continue
                new_text, at = made
                section = case.note[st.section]
                changed = section[: st.start] + new_text + section[st.end :]
                # Statements are checked one by one: the changed section alone gives the same
                # verdict for it, in a quarter of the time.
                evidence = verify(case.dialogue, {st.section: changed})
                hit = statement_at(evidence, st.section, st.start + at)
                tally = tallies[kind]
                tally.tried += 1
                was_clean = not flagged(st)
                tally.was_clean += was_clean
                if hit is not None and flagged(hit):
                    tally.any_flag += 1
                    tally.clean_then_flagged += was_clean
                if hit is not None and any(i.kind in ACCEPTED[kind] for i in hit.issues):
                    tally.kind_flag += 1
                elif len(tally.misses) < show:
                    tally.misses.append(f"{st.text!r} -> {new_text!r}")
    return tallies


def run_clean(cases: list[Case], show: int) -> tuple[int, int, Counter[str], list[str]]:
    statements = flagged_count = 0
    kinds: Counter[str] = Counter()
    examples: list[str] = []
    for case in cases:
        evidence = verify(case.dialogue, case.note)
        for st in evidence.statements:
            statements += 1
            if flagged(st):
                flagged_count += 1
                if len(examples) < show:
                    examples.append(
                        f"[{st.support}] {st.text!r} " + "; ".join(i.message for i in st.issues)
                    )
            if st.support == "unsupported":
                kinds["unsupported"] += 1
            for kind in {i.kind for i in st.issues}:
                kinds[kind] += 1
    return statements, flagged_count, kinds, examples


def run_local(cases: list[Case], show: int) -> tuple[int, int, list[str]]:
    statements = flags = 0
    examples: list[str] = []
    for case in cases:
        note = build_note(case.dialogue).sections()
        evidence = verify(case.dialogue, note)
        for st in evidence.statements:
            statements += 1
            if flagged(st):
                flags += 1
                if len(examples) < show:
                    examples.append(
                        f"[{st.support}] {st.text!r} " + "; ".join(i.message for i in st.issues)
                    )
    return statements, flags, examples


def _median_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall-clock and CPU (this process) milliseconds: on a shared machine the
    wall clock also counts the time other processes held the core."""
    wall, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def run_speed(cases: list[Case], repeat: int) -> list[tuple[int, float, float, float]]:
    """(transcript chars, wall ms, CPU ms, reference wall ms) per size; the check and the
    reference are interleaved, size by size, so both see the same machine."""
    dialogues = "\n".join(c.dialogue for c in cases)
    note_text = "\n".join(c.note["subjective"] for c in cases[:3])
    # A 2 KB note: whole statements of real reference notes, in four sections.
    body = note_text.encode("utf-8")[:2048].decode("utf-8", "ignore")
    quarter = len(body) // 4
    note: dict[str, str] = {
        k: body[i * quarter : (i + 1) * quarter] for i, k in enumerate(SECTIONS)
    }
    words = re.compile(r"\w+")
    rows = []
    for size in (6_250, 12_500, 25_000, 50_000, 100_000):
        transcript = dialogues[:size]

        def check(transcript: str = transcript) -> object:
            # Uncached: index the transcript anew every time, as for a new text.
            indexed.cache_clear()
            return verify(transcript, note)

        def reference(transcript: str = transcript) -> object:
            return words.findall(transcript.lower())

        ms, cpu = _median_ms(check, repeat)
        ref, _ = _median_ms(reference, repeat)
        rows.append((size, ms, cpu, ref))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--show", type=int, default=0, help="print N examples of each kind")
    parser.add_argument("--repeat", type=int, default=15, help="timing repetitions")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument(
        "--kinds",
        default=",".join(KINDS),
        help="comma-separated injection kinds to verify (same sites as a full run)",
    )
    parser.add_argument(
        "--only",
        choices=("clean", "injections", "local", "speed"),
        action="append",
        help="run only these parts (repeatable; default all) to iterate faster",
    )
    args = parser.parse_args()
    chosen = tuple(k for k in args.kinds.split(",") if k)
    if not set(chosen) <= set(KINDS):
        parser.error(f"--kinds: choose from {', '.join(KINDS)}")
    lexicon()
    index("warm up", lexicon())
    cases = load()
    parts = set(args.only or ("clean", "injections", "local", "speed"))
    print(f"ACI-bench train+valid: {len(cases)} dialogues with reference notes\n")

    ok = True
    if "clean" in parts:
        statements, flagged_count, kinds, examples = run_clean(cases, args.show)
        rate = flagged_count / statements
        print(
            f"Unmodified reference notes: {statements} statements, {flagged_count} flagged "
            f"({rate:.1%}; target <= {CLEAN_TARGET:.0%}) {'OK' if rate <= CLEAN_TARGET else 'MISS'}"
        )
        for kind in ("unsupported", *KINDS):
            print(f"  {kind:<12} {kinds[kind]:>5}  ({kinds[kind] / statements:.1%} of statements)")
        for line in examples:
            print("   ·", line)
        ok &= rate <= CLEAN_TARGET

    if "injections" in parts:
        tallies = run_injections(cases, random.Random(args.seed), args.show, chosen)
        print(
            "\nInjected errors (one per statement; flagged = that statement has an issue of the "
            "injected kind; 'any' = any issue or unsupported; 'clean' = of statements not "
            "flagged before the injection)"
        )
        for kind, tally in tallies.items():
            share = tally.kind_flag / tally.tried if tally.tried else 0.0
            anyshare = tally.any_flag / tally.tried if tally.tried else 0.0
            clean = tally.clean_then_flagged / tally.was_clean if tally.was_clean else 0.0
            good = share >= TARGETS[kind]
            ok &= good
            print(
                f"  {kind:<11} n={tally.tried:>5}  flagged {share:6.1%}  any {anyshare:6.1%}  "
                f"clean {clean:6.1%}  (target {TARGETS[kind]:.0%}) {'OK' if good else 'MISS'}"
            )
            for line in tally.misses:
                print("     missed:", line)

    if "local" in parts:
        local_statements, local_flags, local_examples = run_local(cases, args.show)
        print(
            f"\nLocal engine's own notes: {local_statements} statements, {local_flags} flagged "
            f"(target 0) {'OK' if local_flags == 0 else 'MISS'}"
        )
        for line in local_examples:
            print("   ·", line)
        ok &= local_flags == 0

    if "speed" in parts:
        rows = run_speed(cases, args.repeat)
        print(
            "\nSpeed: a 2 KB note vs a transcript of N characters (median of "
            f"{args.repeat}; reference = one regex word pass over the transcript)"
        )
        print(f"  {'chars':>8} {'ms':>8} {'CPU ms':>8} {'CPU ms/10k':>11} {'x reference':>12}")
        for size, ms, cpu, ref in rows:
            print(f"  {size:>8} {ms:8.2f} {cpu:8.2f} {cpu / size * 10_000:11.2f} {ms / ref:12.1f}")
        last, last_cpu = rows[-1][1], rows[-1][2]
        per_char = [cpu / size for size, _, cpu, _ in rows[1:]]
        spread = max(per_char) / min(per_char)
        print(
            f"  100,000 chars: {last:.1f} ms wall, {last_cpu:.1f} ms CPU (target < "
            f"{SPEED_TARGET_MS:.0f} ms) {'OK' if last < SPEED_TARGET_MS else 'MISS'}; CPU ms per "
            f"char varies x{spread:.2f} from 12.5k to 100k (1.0 = perfectly linear)"
        )
        ok &= last < SPEED_TARGET_MS
    print("\nALL TARGETS MET" if ok else "\nSOME TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
