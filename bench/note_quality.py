"""How good the local engine's notes are, measured the way ACI-Bench scores notes.

Official ACI-Bench full-note scoring (``evaluation/evaluate_fullnote.py``): rouge-score
0.1.2, ROUGE-1, ROUGE-2 and ROUGE-Lsum (which splits only on newlines), no stemmer, the
default tokenizer, F-measure per note and the plain mean over notes; a generated note is
its four sections joined with newlines. Two baselines from the paper are scored in the same
run to show the scorer matches its settings: copying the whole transcript, and the first 2
plus the last 10 doctor turns (with the paper notebook's empty first turn when the
conversation opens with the patient).

It also runs the evidence checker (``delphos.evidence.verify``) over every note and
counts what it flags, by kind. And it counts what makes a note read like a transcript,
per sentence, for the whole note and per section: fillers, stutters, spaced
contractions ("do n't"), questions, second person; and the length in words against
the reference (the reference's sections are the dataset's divisions: subjective,
objective exam + results, assessment and plan).

Run: ``.venv/bin/python bench/note_quality.py [--split train|valid ...]``
(ACI-Bench data from ../shared/eval/aci-bench; see ../shared/eval/README.md).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rouge_score import rouge_scorer

# Run as a script (`python bench/note_quality.py`): the repository root holds `bench`.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.aci import ACI_DIR, encounters
from delphos.engines.local import LocalEngine
from delphos.evidence.verify import verify
from delphos.records import SoapNote

_SECTIONS = ("subjective", "objective", "assessment", "plan")

# Readability markers, on the lower-cased sentence.
# "you know" is a filler unless a verb governs it ("let you know", "do you know").
_FILLER = re.compile(
    r"\b(?:um+|uh+|uhm|hmm+|mm-?hmm|kinda|sorta|"
    r"(?<!\blet )(?<!\bdo )(?<!\bdid )(?<!\bif )(?<!\bto )(?:you know|i mean))\b"
)
_STUTTER = re.compile(r"\b(\w+)-\s+\1|\b(\w+)\b(?:\s*,)?\s+\2\b(?!-)|\b\w+-\s+(?=\w)")
_SPACED = re.compile(r"\w \'(?:s|re|ve|ll|m|d|t)\b|\w n\'t\b|\bgon na\b|\bwan na\b|\bgot ta\b")
_SECOND = re.compile(r"\b(?:you|your|yours|yourself)\b")
_SENT = re.compile(r"(?<=[.!?])\s+|\n")
_WORD = re.compile(r"[a-z0-9]+")


def doctor_turns_baseline(src: str) -> str:
    lines = [line for line in src.split("\n") if line.strip()]
    doctor = [line[len("[doctor]") :].strip() for line in lines if line.startswith("[doctor]")]
    if lines and lines[0].startswith("[patient]"):
        doctor = ["", *doctor]  # the paper notebook's quirk, kept to reproduce its figures
    picked = doctor if len(doctor) <= 12 else doctor[:2] + doctor[-10:]
    return "\n".join(picked)


def joined(note: SoapNote) -> str:
    return "\n".join(s for s in note.sections().values())


@dataclass
class Readability:
    sentences: int = 0
    filler: int = 0
    stutter: int = 0
    spaced: int = 0
    question: int = 0
    second: int = 0
    words: int = 0
    ref_words: int = 0

    def add(self, text: str, reference: str) -> None:
        for sentence in _SENT.split(text):
            low = sentence.strip().lower()
            if not low:
                continue
            self.sentences += 1
            self.filler += bool(_FILLER.search(low))
            self.stutter += bool(_STUTTER.search(low))
            self.spaced += bool(_SPACED.search(low))
            self.question += low.endswith("?")
            self.second += bool(_SECOND.search(low))
        self.words += len(_WORD.findall(text.lower()))
        self.ref_words += len(_WORD.findall(reference.lower()))

    def row(self, label: str) -> str:
        n = max(self.sentences, 1)
        ratio = f"{self.words / self.ref_words:.2f}" if self.ref_words else "-"
        return (
            f"  {label:<11} {self.sentences:>6} {100 * self.filler / n:>7.1f} "
            f"{100 * self.stutter / n:>8.1f} {100 * self.spaced / n:>7.1f} "
            f"{100 * self.question / n:>6.1f} {100 * self.second / n:>6.1f} {ratio:>9}"
        )


def score(
    scorer: rouge_scorer.RougeScorer, predictions: Sequence[str], references: Sequence[str]
) -> dict[str, float]:
    totals = {"rouge1": 0.0, "rouge2": 0.0, "rougeLsum": 0.0}
    for prediction, reference in zip(predictions, references, strict=True):
        result = scorer.score(reference, prediction)
        for key in totals:
            totals[key] += result[key].fmeasure
    return {k: 100 * v / len(predictions) for k, v in totals.items()}


def run_split(split: str, build: Callable[[str], SoapNote]) -> None:
    data = encounters(split)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=False)
    references = [e.reference for e in data]
    sources = [e.dialogue for e in data]

    notes = [build(src) for src in sources]
    # Best of 3 per note (the machine may be shared), against a reference measured the same
    # way in the same run: rouge-score's tokenizer reading the same transcript once.
    millis = [_best_ms(build, src) for src in sources]
    reference = [_best_ms(scorer._tokenizer.tokenize, src) for src in sources]
    systems = {
        "copy the whole transcript": sources,
        "first 2 + last 10 doctor turns": [doctor_turns_baseline(s) for s in sources],
        "delphos local engine": [joined(n) for n in notes],
    }
    print(f"\n== {split}: {len(data)} encounters ==")
    print(f"  {'system':<32} {'R-1':>6} {'R-2':>6} {'R-Lsum':>7} {'words/ref':>9}")
    ref_words = sum(len(_WORD.findall(r.lower())) for r in references)
    for name, predictions in systems.items():
        figures = score(scorer, predictions, references)
        words = sum(len(_WORD.findall(p.lower())) for p in predictions)
        print(
            f"  {name:<32} {figures['rouge1']:>6.2f} {figures['rouge2']:>6.2f} "
            f"{figures['rougeLsum']:>7.2f} {words / ref_words:>9.2f}"
        )

    readability = {label: Readability() for label in ("note", *_SECTIONS)}
    for encounter, note in zip(data, notes, strict=True):
        readability["note"].add(joined(note), encounter.reference)
        for key in _SECTIONS:
            # The reference has one assessment-and-plan division: its plan is empty.
            readability[key].add(getattr(note, key), encounter.sections[key])
    # A and P are measured against the single A&P division together.
    ap_words = readability["assessment"].words + readability["plan"].words
    print("\n  readability (% of sentences); length = words / reference words")
    print(
        f"  {'section':<11} {'sents':>6} {'filler':>7} {'stutter':>8} {'spaced':>7} "
        f"{'quest':>6} {'you':>6} {'len/ref':>9}"
    )
    for label, counts in readability.items():
        print(counts.row(label))
    print(f"  {'A+P':<11} {'':>6} {'':>7} {'':>8} {'':>7} {'':>6} {'':>6} "
          f"{ap_words / max(readability['assessment'].ref_words, 1):>9.2f}")  # fmt: skip
    print_evidence(sources, notes)
    longest = max(range(len(sources)), key=lambda i: len(sources[i]))
    print(
        f"\n  time per note: mean {statistics.mean(millis):.1f} ms, max {max(millis):.1f} ms; "
        f"longest visit ({len(sources[longest])} chars) {millis[longest]:.1f} ms; "
        f"{sum(millis) / sum(reference):.1f}x the time to tokenize the transcripts for ROUGE"
    )


def print_evidence(sources: Sequence[str], notes: Sequence[SoapNote]) -> None:
    """What the evidence checker (delphos/evidence) flags on the engine's notes, by kind.

    The engine's promise is that each flag is the checker's mistake, not the note's."""
    kinds: Counter[str] = Counter()
    statements = unsupported = 0
    for source, note in zip(sources, notes, strict=True):
        sections: dict[str, str] = {key: text for key, text in note.sections().items()}
        summary = verify(source, sections).summary
        statements += summary.statements
        unsupported += summary.support.unsupported
        kinds.update({k: v for k, v in summary.issues.model_dump().items() if v})
    flags = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())) or "none"
    print(
        f"\n  evidence checker on {statements} statements: {unsupported} unsupported; "
        f"flags: {flags}"
    )


def _best_ms(work: Callable[[str], object], text: str) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        work(text)
        best = min(best, time.perf_counter() - started)
    return 1000 * best


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--split", action="append", choices=["train", "valid"])
    args = parser.parse_args(argv)
    if not (ACI_DIR / "train.json").exists():
        print(f"ACI-Bench data not found at {ACI_DIR}", file=sys.stderr)
        return 1
    engine = LocalEngine()
    engine.build_note("warm up: headache for 3 days.")
    for split in args.split or ["train", "valid"]:
        run_split(split, engine.build_note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
