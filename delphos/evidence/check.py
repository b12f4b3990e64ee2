"""The state one statement is checked with: the indexed transcript, the statement's
tokens, the issues found so far, and the helpers every check shares."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from delphos.evidence.models import Issue, IssueKind
from delphos.evidence.scope import Item, items
from delphos.evidence.text import Tokens
from delphos.evidence.transcript import Transcript

QUOTE_CHARS: Final = 160


def quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


@dataclass(slots=True)
class Check:
    transcript: Transcript
    note: Tokens
    issues: list[Issue] = field(default_factory=list)
    # Note tokens already judged (a dose's number is not also a number).
    consumed: set[int] = field(default_factory=set)
    _weights: dict[int, float] | None = None
    _findings: list[Item] | None = None
    # The content tokens after "with" of each denied finding, by its first token (filled
    # with the findings).
    _narrowing: dict[int, list[int]] = field(default_factory=dict)

    def findings(self) -> list[Item]:
        """The statement's findings (scope.items): computed once per statement, for every
        check that reads them."""
        if self._findings is None:
            self._findings = items(self.note, qualifiers=self._narrowing)
        return self._findings

    def narrowing(self) -> dict[int, list[int]]:
        """The qualifiers of the statement's denied findings ("no pain with palpation"),
        by the finding's first token."""
        self.findings()
        return self._narrowing

    def denied(self) -> set[str]:
        """The stems of the statement's denied findings."""
        return {
            self.note.stems[k] for negated, _, found in self.findings() if negated for k in found
        }

    def sentence_weights(self) -> dict[int, float]:
        """Transcript sentence → the (rarity-weighted) words of this statement it holds;
        computed once per statement, on first use."""
        if self._weights is None:
            t = self.transcript
            sentences = t.sentence_count or 1
            weights: dict[int, float] = {}
            for word in set(self.note.stems):
                found = t.stem_at.get(word) if word else None
                if not found:
                    continue
                weight = math.log(1 + sentences / len(found))
                # Each sentence once, from the word's cached set: one look per sentence,
                # not per mention.
                for sid in t.sentences_of(word):
                    weights[sid] = weights.get(sid, 0.0) + weight
            self._weights = weights
        return self._weights

    def flag(self, kind: IssueKind, text: str, message: str) -> None:
        self.issues.append(Issue(kind=kind, text=text, message=message))

    def near(self, stem_word: str, positions: list[int], reach: int) -> bool:
        """Does the transcript say `stem_word` within `reach` tokens of a position?"""
        found = self.transcript.stem_at.get(stem_word)
        if not found:
            return False
        for pos in positions:
            k = bisect_left(found, pos - reach)
            if k < len(found) and found[k] <= pos + reach:
                return True
        return False

    def said(self, pos: int) -> str:
        """The transcript sentence of token `pos`, quotable."""
        t = self.transcript
        start, end = t.sentence_span(t.sentence_of[pos])
        return quote(t.tokens.text[start:end])

    def word_beside(
        self, k: int, span: int, candidate: Callable[[int], bool], *, before_first: bool = False
    ) -> str:
        """The stem of the first candidate token after note token `k` (within `span`
        tokens), else of the first before it (`before_first`: the other way round), if
        the transcript uses that stem ("" if not). A candidate the transcript never says
        ends its side's search: the word a number counts or a side qualifies is the
        nearest one, not a farther one that matches."""
        tokens, known = self.note, self.transcript.stem_at
        after = range(k + 1, min(len(tokens), k + 1 + span))
        before = range(k - 1, max(-1, k - 1 - span), -1)
        for window in (before, after) if before_first else (after, before):
            for j in window:
                if candidate(j):
                    if tokens.stems[j] in known:
                        return tokens.stems[j]
                    break
        return ""

    def snippet(self, first: int, last: int) -> str:
        return self.note.text[self.note.starts[first] : self.note.ends[last]]
