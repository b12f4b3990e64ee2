"""The transcript, indexed once for every statement of a note: sentences, where each
content word, number, drug and side occurs, and whether a mention is denied.

Built in one pass over the tokens; what only some statements need (a sentence's negation
scope, whether it is a question) is worked out a sentence at a time on first use. Every
lookup touches only the positions of the words a statement uses, so verifying a note is
linear in the transcript's length."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from delphos.evidence.answers import Polarity, answered, asked
from delphos.evidence.drugs import drug_heads, lookup
from delphos.evidence.lexicon import AMBIGUOUS_SIDES, SIDES
from delphos.evidence.scope import AFFIRMED, NEGATED, items
from delphos.evidence.text import Tokens, figures, number_key, tokenize

# A sentence ends at . ! ? followed by space, or at a line break (a new turn): what
# r"[.!?]+(?:(?=\s)|$)|\n+" matches, written to start with one character class so that
# the regex engine skips ahead to the next candidate character instead of trying both
# branches at every position (a 100,000-character transcript: 2.3 ms against 7).
_BOUNDARY: Final = re.compile(r"[\n.!?](?:(?<=\n)\n*|(?<=[.!?])[.!?]*(?:(?=\s)|$))")

# "all right", "that's right", "right now": speech uses "right" far more often than as a side.
_NOT_SIDE_BEFORE: Final = frozenset("all s re that thats okay ok is yeah alright just go".split())
_NOT_SIDE_AFTER: Final = frozenset(
    "now away here there where so okay ok then at in into to after before about around back".split()
)
# "on the right okay", "your left, then": after an owner or "the" it is a side, whatever
# unpunctuated speech runs on with.
SIDE_OWNERS: Final = frozenset("the my your his her their".split())

QUESTION_OPENING: Final = 8
_SPEAKERS_AND_FILLERS: Final = frozenset(
    "doctor patient medico paciente okay ok alright and so um uh well right".split()
)
# "…, okay ?", "…, right ?": a tag, not a question.
_QUESTION_TAGS: Final = frozenset("okay ok right alright correct ne certo".split())
# What an auxiliary opening a sentence may ask about ("does the pain radiate").
_ASKED_OF: Final = frozenset("it the your that this he she they there".split())
_ASKING_AUXILIARIES: Final = frozenset(
    "have has do does did are were was is can could will would tem".split()
)


@dataclass(slots=True)
class Transcript:
    tokens: Tokens
    # Sentence of each token and the first token of each sentence.
    sentence_of: list[int] = field(default_factory=list)
    first_token: list[int] = field(default_factory=list)
    # Each sentence's span (chars) and whether it is a question are worked out when a
    # check first asks (`sentence_span`, `is_question`): a note reads a small share of a
    # long transcript's sentences (a 2 KB note, 246 of the 2,138 of 100,000 characters of
    # ACI-Bench). From `_sentences`: the boundaries' ends and closing characters, and
    # the boundary each sentence follows.
    bounds: list[int] = field(default_factory=list)
    closing: list[str] = field(default_factory=list)
    bound_of: list[int] = field(default_factory=list)
    # Per sentence: 0 not judged yet, 1 a statement, 2 a question.
    questions: bytearray = field(default_factory=bytearray)
    stem_at: dict[str, list[int]] = field(default_factory=dict)
    number_at: dict[str, list[int]] = field(default_factory=dict)
    # Figures of several numbers ("120/80", "three out of six") by key (text.figures).
    figures: set[str] = field(default_factory=set)
    drug_at: dict[str, list[int]] = field(default_factory=dict)
    side_at: list[tuple[int, str]] = field(default_factory=list)
    vocabulary: set[str] = field(default_factory=set)
    # Stem → the number values every number said beside it shares (heads.py; numbers.py
    # builds it on first use).
    counts: dict[str, frozenset[str]] | None = None
    # The negation scope (scope.py), worked out a sentence at a time when a check first
    # reads it (`mark`, `part`, `narrowed`): every sentence boundary ends a clause, so a
    # sentence's scope is the same alone as in one pass over the whole transcript, and
    # a note reads a small share of a long transcript's sentences (the scope pass was
    # ~11 of ~45 ms of indexing 100,000 characters). Per token: UNJUDGED, NEGATED or AFFIRMED;
    # the content tokens of each judged finding, and the finding each token belongs to
    # (-1: none); per sentence, whether its scope is done. With evidence in threads
    # (DELPHOS_EVIDENCE_PROCESSES=0) two checks may share a cached transcript: a sentence
    # scoped by both at once gets the same marks twice, and `scoped` is set last.
    marks: bytearray = field(default_factory=bytearray)
    parts: list[list[int]] = field(default_factory=list)
    part_of: list[int] = field(default_factory=list)
    scoped: bytearray = field(default_factory=bytearray)
    # Denied findings narrowed by what follows "with" ("no pain with palpation of the
    # elbow"): the qualifier's content tokens, by the finding's first token.
    qualifiers: dict[int, list[int]] = field(default_factory=dict)
    # Stems by their first letters, built on first use (side_words.py).
    families: dict[str, list[str]] | None = None
    # Stem → the sentences that say it, on first use (`sentences_of`).
    _sentences_of: dict[str, frozenset[int]] = field(default_factory=dict)
    # (drug, its mentions) → the doses and frequencies said around them (doses.py): the
    # same for every statement naming the drug, and a look at each of its mentions.
    regimens: dict[
        tuple[str, tuple[int, ...]], tuple[frozenset[tuple[str, str]], frozenset[float]]
    ] = field(default_factory=dict)

    @property
    def sentence_count(self) -> int:
        return len(self.first_token)

    def sentences_of(self, stem: str) -> frozenset[int]:
        """The sentences that say `stem`. Kept: a note's statements ask for the same words
        again and again (each of its words, their variants and lay words)."""
        found = self._sentences_of.get(stem)
        if found is None:
            sentence_of = self.sentence_of
            found = frozenset([sentence_of[p] for p in self.stem_at.get(stem, ())])
            self._sentences_of[stem] = found
        return found

    def sentence_span(self, sid: int) -> tuple[int, int]:
        """Sentence `sid`'s characters: from its boundary (keeping a "[doctor]" tag,
        without the space before) to its closing punctuation."""
        text, bounds, starts = self.tokens.text, self.bounds, self.tokens.starts
        b = self.bound_of[sid]
        first = self.first_token[sid]
        begin = bounds[b - 1] if b > 0 else 0
        while begin < starts[first] and text[begin].isspace():
            begin += 1
        end = min(bounds[b], len(text)) if b < len(bounds) else self.tokens.ends[self._last(sid)]
        return begin, end

    def is_question(self, sid: int) -> bool:
        """Is sentence `sid` a question: closed by "?" (not a tag: "…, okay ?"), or
        asked without one (`asks`, `_listed`)?"""
        known = self.questions[sid]
        if known:
            return known == 2
        first, last, b = self.first_token[sid], self._last(sid), self.bound_of[sid]
        tokens = self.tokens
        asked = (
            b < len(self.closing)
            and self.closing[b] == "?"
            and not _tagged(tokens.text, tokens, last)
        )
        found = asked or asks(tokens.norms, first, last) or _listed(tokens, first, last)
        self.questions[sid] = 2 if found else 1
        return found

    def _last(self, sid: int) -> int:
        return (
            self.first_token[sid + 1] - 1 if sid + 1 < self.sentence_count else len(self.tokens) - 1
        )

    def mark(self, pos: int) -> int:
        """UNJUDGED, NEGATED or AFFIRMED: what the negation scope says of token `pos`."""
        self._scope(self.sentence_of[pos])
        return self.marks[pos]

    def part(self, pos: int) -> list[int] | None:
        """The content tokens of the judged finding token `pos` belongs to, if any."""
        self._scope(self.sentence_of[pos])
        n = self.part_of[pos]
        return self.parts[n] if n >= 0 else None

    def _scope(self, sid: int) -> None:
        """Work out sentence `sid`'s negation scope, once."""
        if self.scoped[sid]:
            return
        before = len(self.parts)
        first, last = self.first_token[sid], self._last(sid)
        items(self.tokens, self.marks, self.parts, self.qualifiers, first, last + 1)
        part_of, parts = self.part_of, self.parts
        for n in range(before, len(parts)):
            for k in parts[n]:
                part_of[k] = n
        self.scoped[sid] = 1

    def polarity(self, pos: int) -> Polarity:
        """Is the finding at token `pos` denied? By the negation scope of its sentence
        (scope.py, as for the note); asked ("any chest pain?") and not denied there, by
        the answer that follows it (answers.py)."""
        mark = self.mark(pos)
        if mark == NEGATED:
            return "negated"
        if not asked(self, pos):
            return "affirmed" if mark == AFFIRMED else "unknown"
        return answered(self, pos)

    def narrowed(self, pos: int, words: set[str]) -> bool:
        """Is the finding at `pos` denied only with a qualifier saying what `words` do
        not ("no pain with palpation of the elbow" against "elbow pain")?"""
        part = self.part(pos)
        qualifier = self.qualifiers.get(part[0]) if part is not None else None
        # "pain with palpation" is contradicted by "no pain to palpation of the elbow":
        # the qualifier's head said, the note speaks of that narrowing, wherever.
        stems = self.tokens.stems
        return qualifier is not None and stems[qualifier[0]] not in words


def asks(norms: list[str], first: int, last: int) -> bool:
    """A question ASR wrote without its "?": "have you noticed any fever", "any chest
    pain", "você tem febre", "how about fatigue" — an auxiliary before "you", or "any" or
    "how about" opening the sentence."""
    opening = [w for w in norms[first : min(last + 1, first + QUESTION_OPENING)]]
    opening = [w for w in opening if w not in _SPEAKERS_AND_FILLERS]
    if opening and opening[0] in ("any", "algum", "alguma"):
        return True
    if opening[:2] in (["how", "about"], ["what", "about"]):
        return True  # "how about any nausea or vomiting"
    if len(opening) > 1 and opening[0] in _ASKING_AUXILIARIES and opening[1] in _ASKED_OF:
        return True  # "is it your left or your right knee", "does the pain radiate"
    return any(
        a in _ASKING_AUXILIARIES and b in ("you", "voce") for a, b in itertools.pairwise(opening)
    )


def not_a_side(norms: list[str], i: int) -> bool:
    """ "right now", "all right": the word is speech, not a side (note and transcript)."""
    before = norms[i - 1] if i > 0 else ""
    if before in SIDE_OWNERS:
        return False
    return before in _NOT_SIDE_BEFORE or (i + 1 < len(norms) and norms[i + 1] in _NOT_SIDE_AFTER)


def index(text: str, drugs: dict[str, str]) -> Transcript:
    tokens = tokenize(text, months=True)
    out = Transcript(tokens=tokens, marks=bytearray(len(tokens)), part_of=[-1] * len(tokens))
    if not tokens.norms:
        return out
    _sentences(text, tokens, out)
    norms, stems = tokens.norms, tokens.stems
    # Positions by word, then everything else once per distinct word, not per token.
    by_word: dict[str, list[int]] = {}
    for i, word in enumerate(norms):
        found = by_word.get(word)
        if found is None:
            by_word[word] = [i]
        else:
            found.append(i)
    stem_at = out.stem_at
    heads = drug_heads(drugs)
    count = len(norms)
    for word, positions in by_word.items():
        word_stem = stems[positions[0]]
        if word_stem:
            known = stem_at.get(word_stem)
            stem_at[word_stem] = positions if known is None else sorted(known + positions)
        side = SIDES.get(word)
        if side is not None:
            for i in positions:
                if word not in AMBIGUOUS_SIDES or not not_a_side(norms, i):
                    out.side_at.append((i, side))
            continue
        if len(word) < 4:
            continue
        out.vocabulary.add(word)
        drug = lookup(word, drugs)
        if word in heads:
            for i in positions:
                pair = drugs.get(word + " " + norms[i + 1]) if i + 1 < count else None
                if pair or drug:
                    out.drug_at.setdefault(pair or drug or "", []).append(i)
        elif drug is not None:
            out.drug_at.setdefault(drug, []).extend(positions)
    out.side_at.sort()
    for found in out.drug_at.values():
        found.sort()
    for i, values in tokens.values.items():
        for value in values:
            out.number_at.setdefault(number_key(value), []).append(i)
    for found in out.number_at.values():
        found.sort()
    for _, keys in figures(tokens):
        out.figures |= keys
    return out


def _sentences(text: str, tokens: Tokens, out: Transcript) -> None:
    """Sentence id of every token and the first token of each sentence; the rest of a
    sentence is worked out on first use (`Transcript.sentence_span`, `is_question`)."""
    for m in _BOUNDARY.finditer(text):
        start, end = m.span()
        out.bounds.append(end)
        out.closing.append(text[start])
    # For each token: how many boundaries end at or before it (vectorised: linear, fast).
    raw = np.searchsorted(np.asarray(out.bounds, dtype=np.int64), tokens.starts, side="right")
    change = np.flatnonzero(raw[1:] != raw[:-1]) + 1
    firsts = [0, *change.tolist()]
    out.first_token = firsts
    out.bound_of = raw[firsts].tolist()
    out.questions = bytearray(len(firsts))
    out.scoped = bytearray(len(firsts))
    sid = np.zeros(len(raw), dtype=np.int64)
    sid[change] = 1
    out.sentence_of = np.cumsum(sid).tolist()


# A clinician's turn naming a few findings and nothing else ("[doctor] okay coughing headache"):
# a list read out for a yes or no, as if each had its "?".
LISTED_MOST: Final = 3


def _listed(tokens: Tokens, first: int, last: int) -> bool:
    norms = tokens.norms
    if norms[first] != "doctor":
        return False
    words = [k for k in range(first + 1, last + 1) if norms[k] not in _SPEAKERS_AND_FILLERS]
    return 1 < len(words) <= LISTED_MOST and all(
        tokens.stems[k] and k not in tokens.values for k in words
    )


def _tagged(text: str, tokens: Tokens, last: int) -> bool:
    """ "That came back a little low , okay ?": a statement with a tag asking to be
    understood, not a question about what it says."""
    if last < 1 or tokens.norms[last] not in _QUESTION_TAGS:
        return False
    return text[tokens.ends[last - 1] : tokens.starts[last]].strip() == ","
