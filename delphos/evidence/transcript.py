"""The transcript, indexed once for every statement of a note: sentences, where each
content word, number, drug and side occurs, and whether a mention is denied.

Built in one pass over the tokens; every lookup afterwards touches only the positions of
the words a statement uses, so verifying a note is linear in the transcript's length."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Final, Literal

from delphos.evidence.drugs import drug_heads, lookup
from delphos.evidence.lexicon import AMBIGUOUS_SIDES, ANSWER_NO, ANSWER_YES, SIDES
from delphos.evidence.scope import AFFIRMED, NEGATED, is_neg_cue, items
from delphos.evidence.text import Tokens, number_key, tokenize

# A sentence ends at . ! ? followed by space, or at a line break (a new turn).
_BOUNDARY: Final = re.compile(r"[.!?]+(?=\s)|[.!?]+$|\n+")

# "all right", "that's right", "right now": speech uses "right" far more often than as a side.
_NOT_SIDE_BEFORE: Final = frozenset("all s re that thats okay ok is yeah alright just go".split())
_NOT_SIDE_AFTER: Final = frozenset(
    "now away here there so okay ok then at in into to after before about around back".split()
)

Polarity = Literal["affirmed", "negated", "unknown"]


@dataclass(slots=True)
class Transcript:
    tokens: Tokens
    # Sentence of each token; sentence spans (chars) and whether each is a question.
    sentence_of: list[int] = field(default_factory=list)
    sentences: list[tuple[int, int]] = field(default_factory=list)
    question: list[bool] = field(default_factory=list)
    first_token: list[int] = field(default_factory=list)
    stem_at: dict[str, list[int]] = field(default_factory=dict)
    number_at: dict[str, list[int]] = field(default_factory=dict)
    drug_at: dict[str, list[int]] = field(default_factory=dict)
    side_at: list[tuple[int, str]] = field(default_factory=list)
    vocabulary: set[str] = field(default_factory=set)
    # Per token: UNJUDGED, NEGATED or AFFIRMED (scope.py).
    marks: bytearray = field(default_factory=bytearray)

    def sentence_span(self, sid: int) -> tuple[int, int]:
        return self.sentences[sid]

    def sides_near(self, positions: list[int], reach: int) -> set[str]:
        """Sides said within `reach` tokens of any of `positions`."""
        found: set[str] = set()
        side_positions = [p for p, _ in self.side_at]
        for pos in positions:
            k = bisect_right(side_positions, pos - reach - 1)
            while k < len(side_positions) and side_positions[k] <= pos + reach:
                found.add(self.side_at[k][1])
                k += 1
        return found

    def polarity(self, pos: int) -> Polarity:
        """Is the finding at token `pos` denied? By the negation scope of its sentence
        (scope.py, as for the note); in a question ("any chest pain?") not denied there,
        by the answer that follows it."""
        norms = self.tokens.norms
        mark = self.marks[pos]
        if mark == NEGATED:
            return "negated"
        sid = self.sentence_of[pos]
        if not self.question[sid]:
            return "affirmed" if mark == AFFIRMED else "unknown"
        answer = sid + 1
        if answer >= len(self.sentences):
            return "unknown"
        start = self.first_token[answer]
        end = self.first_token[answer + 1] if answer + 1 < len(self.first_token) else len(norms)
        for k in range(start, min(end, start + 3)):
            word = norms[k]
            if word in ANSWER_NO or is_neg_cue(norms, k, self.tokens.portuguese):
                return "negated"
            if word in ANSWER_YES:
                return "affirmed"
        return "unknown"


def _not_a_side(norms: list[str], i: int) -> bool:
    return (i > 0 and norms[i - 1] in _NOT_SIDE_BEFORE) or (
        i + 1 < len(norms) and norms[i + 1] in _NOT_SIDE_AFTER
    )


def index(text: str, drugs: dict[str, str]) -> Transcript:
    tokens = tokenize(text, months=True)
    out = Transcript(tokens=tokens, marks=bytearray(len(tokens)))
    items(tokens, out.marks)
    # Sentence boundaries → sentence id of every token, by walking both in order.
    bounds = [m.end() for m in _BOUNDARY.finditer(text)]
    marks = [text[m.start()] for m in _BOUNDARY.finditer(text)]
    sentences = out.sentences
    starts, ends, norms, stems = tokens.starts, tokens.ends, tokens.norms, tokens.stems
    sentence_of = out.sentence_of
    b = 0
    sid = -1
    current_end = -1
    stem_at = out.stem_at
    for i, start in enumerate(starts):
        if start >= current_end:
            sentence_start = bounds[b - 1] if 0 < b <= len(bounds) else 0
            while b < len(bounds) and bounds[b] <= start:
                sentence_start = bounds[b]
                b += 1
            sid += 1
            current_end = bounds[b] if b < len(bounds) else len(text) + 1
            # From the boundary (keeping a "[doctor]" tag), not from the first word.
            while sentence_start < start and text[sentence_start].isspace():
                sentence_start += 1
            sentences.append((sentence_start, ends[i]))
            out.question.append(b < len(marks) and marks[b] == "?")
            out.first_token.append(i)
        else:
            s0, _ = sentences[sid]
            sentences[sid] = (s0, ends[i])
        if i + 1 == len(starts) or starts[i + 1] >= current_end:
            # The sentence's closing punctuation belongs to it.
            s0, _ = sentences[sid]
            sentences[sid] = (s0, min(current_end, len(text)) if b < len(bounds) else ends[i])
        sentence_of.append(sid)
        word_stem = stems[i]
        if word_stem:
            found = stem_at.get(word_stem)
            if found is None:
                stem_at[word_stem] = [i]
            else:
                found.append(i)
    for i, values in tokens.values.items():
        for value in values:
            out.number_at.setdefault(number_key(value), []).append(i)
    for key in out.number_at.values():
        key.sort()
    vocabulary = out.vocabulary
    heads = drug_heads(drugs)
    count = len(norms)
    for i, word in enumerate(norms):
        side = SIDES.get(word)
        if side is not None:
            if word not in AMBIGUOUS_SIDES or not _not_a_side(norms, i):
                out.side_at.append((i, side))
            continue
        if len(word) < 4:
            continue
        vocabulary.add(word)
        if word in heads and i + 1 < count:
            drug = drugs.get(word + " " + norms[i + 1]) or lookup(word, drugs)
        else:
            drug = lookup(word, drugs)
        if drug is not None:
            out.drug_at.setdefault(drug, []).append(i)
    return out
