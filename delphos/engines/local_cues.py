"""Read the clinical cues of a span of text, word by word, from ``local_lexicon``.

The lexicon is compiled once at import (``local_trie``) into lookup tables keyed by a
phrase's first word, so reading a span costs a dictionary lookup per word (plus a check
of the few phrases that start with it): linear in the text, with no regular-expression
alternation of hundreds of words tried at every character. Words are folded (lower case,
no accents) once per distinct word per note.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from typing import Final

from delphos.engines.local_lexicon import NEGATION_REACH as _REACH
from delphos.engines.local_lexicon import (
    NEGATIONS,
    NUMBER_WORDS,
    SYMPTOM_STEMS,
)

# Re-exported: the engine's modules read sections and flags from here.
from delphos.engines.local_trie import CLIN as CLIN
from delphos.engines.local_trie import COND as COND
from delphos.engines.local_trie import DROP as DROP
from delphos.engines.local_trie import RESULT as RESULT
from delphos.engines.local_trie import SECTION_INDEX, TABLES, Node, Signal, Spec, merge
from delphos.engines.local_trie import SECTIONS as SECTIONS
from delphos.engines.local_trie import TEST as TEST
from delphos.engines.local_trie import TO_AP as TO_AP
from delphos.engines.local_trie import TO_O as TO_O
from delphos.engines.local_trie import Section as Section
from delphos.text import fold


@dataclass(frozen=True, slots=True)
class Cues:
    """What a span signals: the strongest cue per section (S, O, A, P) and mark flags."""

    weights: tuple[int, int, int, int] = (0, 0, 0, 0)
    flags: int = 0

    def weight(self, section: Section) -> int:
        return self.weights[SECTION_INDEX[section]]

    @property
    def strongest(self) -> int:
        return max(self.weights)

    def has(self, flag: int) -> bool:
        return bool(self.flags & flag)

    def __or__(self, other: Cues) -> Cues:
        if other is NO_CUES:
            return self
        if self is NO_CUES:
            return other
        (a0, a1, a2, a3), (b0, b1, b2, b3) = self.weights, other.weights
        return Cues(
            (
                a0 if a0 > b0 else b0,
                a1 if a1 > b1 else b1,
                a2 if a2 > b2 else b2,
                a3 if a3 > b3 else b3,
            ),
            self.flags | other.flags,
        )


NO_CUES: Final = Cues()


def clinical(cues: Cues) -> bool:
    """Whether a span says something clinical: a clinical word, a condition or a strong
    cue for a section."""
    return cues.has(CLIN | COND) or cues.strongest >= 3


# --- reading text --------------------------------------------------------------------------

# A token: numbers keep their decimal mark ("37.8", "1,5"), words their digits. Every word
# character starts one of the three, so the gaps between matches are all non-word text.
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]\w*|_+")


def _tokens(text: str) -> list[tuple[str, str]]:
    """(gap before, token) pairs, in one linear pass.

    The gap is sliced between matches rather than matched as ``(\\W*)`` in front of the
    token: that prefix made a long run of punctuation with no word after it quadratic
    (each start in the run rescanned it to its end; 100,000 dots took minutes)."""
    pairs: list[tuple[str, str]] = []
    end = 0
    for match in _TOKEN.finditer(text):
        pairs.append((text[end : match.start()], match.group()))
        end = match.end()
    return pairs


# A phrase never runs across these: "no. Fever" is not "no fever".
_HARD_GAP: Final = frozenset(".,;!?\n")


@dataclass(frozen=True, slots=True)
class _Word:
    norm: str
    number: float | None  # the value, when the token is written in digits
    negation: bool
    symptom: bool
    roots: tuple[Node, ...]  # trie nodes of the phrases this word can open
    signal: Signal | None  # one-word entries matched by ending


def _analyse(raw: str) -> _Word:
    norm = fold(raw)
    tables = TABLES
    number: float | None = None
    if raw[0].isdigit():
        try:
            number = float(raw.replace(",", "."))
        except ValueError:
            number = None  # "1.2.3": a list number, not a value
    roots: list[Node] = []
    node = tables.first.get(norm)
    if node is not None:
        roots.append(node)
    node = tables.case_first.get(raw)
    if node is not None:
        roots.append(node)
    for length in tables.prefix_lengths:
        if length > len(norm):
            break
        node = tables.prefix.get(norm[:length])
        if node is not None:
            roots.append(node)
    signal: Signal | None = None
    for length in tables.suffix_lengths:
        if length + 2 > len(norm):
            break
        found = tables.suffix.get(norm[-length:])
        if found is not None:
            signal = merge(signal, found)
    if number is not None or norm in NUMBER_WORDS:
        roots.extend(n for kind, n in tables.number_first if _number_fits(kind, raw, number, norm))
    return _Word(
        norm=norm,
        number=number,
        negation=norm in NEGATIONS,
        symptom=norm.startswith(SYMPTOM_STEMS),
        roots=tuple(roots),
        signal=signal,
    )


def _number_fits(kind: str, raw: str, number: float | None, norm: str) -> bool:
    if kind == "any":
        return number is not None or norm in NUMBER_WORDS
    if number is None:
        return False
    if kind == "d":
        return True
    if kind == "bp":
        return raw.isdigit() and 2 <= len(raw) <= 3
    if kind == "t":
        return 34.0 <= number <= 42.5 or 93.0 <= number <= 105.0
    return False


def _fits(spec: Spec, word: _Word, raw: str) -> bool:
    kind, value = spec
    if kind == "=":
        return word.norm == value
    if kind == "^":
        return word.norm.startswith(value)
    if kind == "#":
        return _number_fits(value, raw, word.number, word.norm)
    return True


class CueReader:
    """Reads the cues of spans of one text.

    The text is tokenized once; each distinct word is analysed once. A span read then
    visits only the words that can signal something ("active"), found by binary search.
    """

    __slots__ = ("_active", "_active_starts", "_hard", "_raw", "_starts", "_words")

    def __init__(self, text: str) -> None:
        pairs = _tokens(text)
        raws = [raw for _, raw in pairs]
        # Analyse each distinct word and judge each distinct gap once.
        analysed = {raw: _analyse(raw) for raw in dict.fromkeys(raws)}
        gaps = [gap for gap, _ in pairs]
        breaks = {gap: not _HARD_GAP.isdisjoint(gap) for gap in dict.fromkeys(gaps)}
        starts: list[int] = []
        position = 0
        for gap, raw in pairs:
            position += len(gap)
            starts.append(position)
            position += len(raw)
        words = [analysed[raw] for raw in raws]
        hard = [breaks[gap] for gap in gaps]
        self._starts = starts
        self._words = words
        self._raw = raws
        self._hard = hard
        self._active = [i for i, w in enumerate(words) if w.roots or w.signal or w.negation]
        self._active_starts = [starts[i] for i in self._active]

    def read(self, start: int, end: int) -> Cues:
        """The cues of the words that start inside ``[start, end)``."""
        first = bisect_left(self._active_starts, start)
        last = bisect_left(self._active_starts, end)
        if first == last:
            return NO_CUES
        stop = bisect_left(self._starts, end)
        words = self._words
        signal: Signal | None = None
        for i in self._active[first:last]:
            word = words[i]
            if word.signal is not None:
                signal = merge(signal, word.signal)
            for root in word.roots:
                signal = self._walk(root, i + 1, stop, signal)
            if word.negation and self._symptom_follows(i, stop):
                signal = merge(signal, _NEGATED_SYMPTOM)
        if signal is None:
            return NO_CUES
        return Cues(signal[0], signal[1])

    def count_words(self, start: int, end: int, vocabulary: frozenset[str]) -> int:
        """How many words starting inside ``[start, end)`` are in ``vocabulary`` (folded)."""
        words = self._words
        first = bisect_left(self._starts, start)
        last = bisect_left(self._starts, end)
        return sum(1 for i in range(first, last) if words[i].norm in vocabulary)

    def content(self, start: int, end: int) -> int:
        """How many words starting inside ``[start, end)`` can signal something."""
        return bisect_left(self._active_starts, end) - bisect_left(self._active_starts, start)

    def _walk(self, node: Node, j: int, stop: int, acc: Signal | None) -> Signal | None:
        """Merge the signals of every phrase through ``node`` that the words from ``j``
        (before ``stop``) complete; a phrase never crosses a hard gap."""
        if node.signal is not None:
            acc = merge(acc, node.signal)
        if j >= stop or self._hard[j] or not (node.exact or node.special):
            return acc
        word = self._words[j]
        child = node.exact.get(word.norm)
        if child is not None:
            acc = self._walk(child, j + 1, stop, acc)
        for spec, special in node.special:
            if _fits(spec, word, self._raw[j]):
                acc = self._walk(special, j + 1, stop, acc)
        return acc

    def _symptom_follows(self, i: int, stop: int) -> bool:
        for j in range(i + 1, min(i + 1 + _REACH, stop)):
            if self._hard[j]:
                return False
            if self._words[j].symptom:
                return True
        return False


_NEGATED_SYMPTOM: Final[Signal] = ((2, 0, 0, 0), 0)
