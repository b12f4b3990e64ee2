"""How long the cache's word-delta decision takes on a 100,000-character consultation.

Run: ``.venv/bin/python bench/cache_delta.py``. Text is real ACI-bench dialogue. Figures
are reported in ms and as a ratio to a reference measured in the same run on the same
text (``text.split()``), so they compare across machines.

``delta`` times word_delta on already-split words; ``decision`` is what a cache lookup
pays on the delta path: NFC + split of both texts, then word_delta.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from delphos.cache.delta import normalise_words, word_delta

ACI_TRAIN = Path(__file__).resolve().parents[2] / "shared" / "eval" / "aci-bench" / "train.json"
TARGET_CHARS = 100_000
LIMIT = 5
REPEATS = 30
# The cache decision on a 100,000-character text (issue #12).
DECISION_TARGET_MS = 5.0


def consultation_text(dialogues: list[str]) -> str:
    parts: list[str] = []
    size = 0
    for dialogue in dialogues:
        parts.append(dialogue)
        size += len(dialogue) + 1
        if size >= TARGET_CHARS:
            break
    return "\n".join(parts)[:TARGET_CHARS]


def upper_at(text: str, fractions: list[float]) -> str:
    """Upper-case the first lower-case word at each fraction of the text (one edit each)."""
    words = text.split(" ")
    for fraction in fractions:
        i = int(len(words) * fraction)
        while not (words[i].isalpha() and words[i].islower()):
            i += 1
        words[i] = words[i].upper()
    return " ".join(words)


def decide(cached: str, new: str) -> int:
    return word_delta(normalise_words(cached), normalise_words(new), LIMIT)


def median_ms(action: Callable[[], object]) -> float:
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> int:
    data = json.loads(ACI_TRAIN.read_text(encoding="utf-8"))["data"]
    dialogues = [str(row["src"]) for row in data]
    cached = consultation_text(dialogues)
    continuation = " ".join(dialogues[-1].split()[:4])
    cases = {
        "appended 4 words": cached + " " + continuation,
        "respaced only": cached.replace("\n", "\n\n"),
        "2 words edited mid-text": upper_at(cached, [0.5, 0.51]),
        "4 edits spread 5%..95%": upper_at(cached, [0.05, 0.35, 0.65, 0.95]),
        "totally different text": consultation_text(dialogues[::-1]),
    }
    cached_words = normalise_words(cached)
    reference = median_ms(cached.split)
    print(f"cached text: {len(cached):,} chars, {len(cached_words):,} words; limit={LIMIT}")
    print(f"reference text.split(): {reference:.2f} ms (median of {REPEATS})")
    print(f"{'case':<26}{'delta':>7}{'delta ms':>10}{'x ref':>7}{'decision ms':>13}{'x ref':>7}")
    slowest = 0.0
    for name, new in cases.items():
        new_words = normalise_words(new)
        result = word_delta(cached_words, new_words, LIMIT)
        delta_ms = median_ms(partial(word_delta, cached_words, new_words, LIMIT))
        decision_ms = median_ms(partial(decide, cached, new))
        shown = str(result) if result < LIMIT else f">={LIMIT}"
        print(
            f"{name:<26}{shown:>7}{delta_ms:>10.3f}{delta_ms / reference:>7.2f}"
            f"{decision_ms:>13.2f}{decision_ms / reference:>7.2f}"
        )
        slowest = max(slowest, decision_ms)
    met = slowest < DECISION_TARGET_MS
    print(
        f"slowest decision {slowest:.2f} ms (target < {DECISION_TARGET_MS:g} ms) "
        f"{'OK' if met else 'MISSED'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
