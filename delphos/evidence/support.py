"""How well the transcript covers a statement: the share of its content words found in
its best transcript sentences, and those sentences as the evidence spans.

A word is found as itself or as what a conversation says for it (synonyms.py: "dyspnea"
as "short of breath", "BP" as "blood pressure"); a denied sign of an organ ("no
wheezes") also by that organ's exam ("your lungs are clear"). The scribe's account of
the visit ("we discussed treatment options", "all questions were answered") is the
note's form, like "denies": no fact about the patient to find."""

from __future__ import annotations

import math
from collections.abc import Set as AbstractSet
from functools import lru_cache
from typing import Final

from delphos.evidence.check import Check
from delphos.evidence.lexicon import NEG_PRE, NEG_TERMINATORS, SIDES, VISIT_WORDS
from delphos.evidence.models import Span
from delphos.evidence.scope import is_neg_cue
from delphos.evidence.synonyms import SAID_AS, SIGN_OF
from delphos.evidence.text import Tokens, number_key, stem
from delphos.evidence.transcript import Transcript

EVIDENCE_SENTENCES: Final = 3
LABEL_WORDS: Final = 5
_UNSPOKEN_UNITS: Final = frozenset({"deg", "f", "mmhg", "bpm", "%", "dl"})
FRAMING: Final = (
    NEG_PRE
    | NEG_TERMINATORS
    | frozenset("endorse endorses endorsing denies states stated report reporting".split())
    | VISIT_WORDS
)


def label_end(tokens: Tokens) -> int:
    """The first token after a leading label of up to five words and a colon, else 0."""
    for k in range(1, min(len(tokens), LABEL_WORDS + 1)):
        if ":" in tokens.text[tokens.ends[k - 1] : tokens.starts[k]]:
            return k
    return 0


def support(check: Check) -> tuple[float, list[Span]]:
    """Greedy cover of the statement's content words by at most three transcript
    sentences; rarer words weigh more (a shared "pain" says less than "lisinopril")."""
    transcript, tokens = check.transcript, check.note
    # A label ("Neurological:", "Medical Reasoning:") and the verbs that only frame a
    # finding ("denies", "reports") are the note's form, not claims to find.
    first = label_end(tokens)
    # "Temperature: 98.7 degrees F", "Heart rate: 60s": a label over a bare measure is
    # what is measured, the claim's words.
    if first and not any(_word(tokens, k) for k in range(first, len(tokens))):
        first = 0
    # Content stem → the words written for it ("hematuria"), and whether one is denied.
    written: dict[str, set[str]] = {}
    for k, s in enumerate(tokens.stems):
        if (
            k >= first
            and _word(tokens, k)
            and s not in SIDES
            and tokens.norms[k] not in FRAMING
            # "haven't", "don't": the negation frames a finding (the negation check reads
            # it); the transcript says "have n't", so "haven" is no word to find.
            and not is_neg_cue(tokens.norms, k, tokens.portuguese)
        ):
            written.setdefault(s, set()).add(tokens.norms[k])
    wanted = set(written)
    for values in tokens.values.values():
        wanted.update("#" + number_key(v) for v in values[:1])
    if not wanted:
        return 1.0, []
    denied = {
        tokens.norms[k] for negated, _, members in check.findings() if negated for k in members
    }
    sentences = transcript.sentence_count or 1
    weights: dict[str, float] = {}
    # Sentence → the wanted words it holds, as bits of `order`: a transcript that says
    # "pain" in 10,000 sentences costs an integer OR each, not a set.
    order: list[str] = []
    holds: dict[int, int] = {}
    for word in wanted:
        found: AbstractSet[int]
        if word.startswith("#"):
            found = {transcript.sentence_of[p] for p in transcript.number_at.get(word[1:], [])}
            said = len(found)
        else:
            # A word is as rare as the transcript says it as itself: its lay words
            # ("surgery" for "surgical") widen where it is found, not how common it is.
            own, found = _said(transcript, word, written[word], denied)
            said = len(own) or len(found)
        weights[word] = 1.0 + math.log(1 + sentences / (1 + said))
        bit = 1 << len(order)
        order.append(word)
        for sid in found:
            holds[sid] = holds.get(sid, 0) | bit
    total = sum(weights.values())
    # Sentences holding the same words are alike to the greedy cover but for the tie,
    # which the first of them wins; once one is chosen the others gain nothing. So each
    # set of words is weighed once, as its first sentence.
    first_with_bits: dict[int, int] = {}
    for sid, bits in holds.items():
        if sid < first_with_bits.get(bits, sid + 1):
            first_with_bits[bits] = sid
    first_with = {
        frozenset(w for i, w in enumerate(order) if bits >> i & 1): sid
        for bits, sid in first_with_bits.items()
    }
    covered: set[str] = set()
    chosen: list[int] = []
    for _ in range(EVIDENCE_SENTENCES):
        best, gain = -1, 0.0
        best_words: frozenset[str] = frozenset()
        for held, sid in first_with.items():
            g = sum(weights[w] for w in held - covered)
            if g > gain or (g == gain and g > 0 and sid < best):
                best, gain, best_words = sid, g, held
        if best < 0:
            break
        chosen.append(best)
        covered |= best_words
        del first_with[best_words]
    coverage = sum(weights[w] for w in covered) / total
    spans = [Span(start=a, end=b) for a, b in (transcript.sentence_span(s) for s in sorted(chosen))]
    return coverage, spans


def _word(tokens: Tokens, k: int) -> bool:
    """Is token `k` a word to find? Not a measure's unit speech leaves out ("98.7
    degrees F", "44 mg/dL", "120/80 mmHg")."""
    s = tokens.stems[k]
    if not s:
        return False
    return not (s in _UNSPOKEN_UNITS and any(j in tokens.values for j in (k - 1, k - 2)))


def _sentences_with(transcript: Transcript, stems: tuple[str, ...]) -> AbstractSet[int]:
    """The sentences that hold `stems`: each in it or in a sentence next to it ("are you
    able to urinate?" / "i saw some blood")."""
    places = [transcript.sentences_of(s) for s in stems]
    if not all(places):
        return frozenset()
    if len(places) == 1:
        return places[0]
    holding = set().union(*places)
    for here in places:
        holding &= here | {sid + 1 for sid in here} | {sid - 1 for sid in here}
    return holding


def _said(
    transcript: Transcript, word: str, written: set[str], denied: set[str]
) -> tuple[AbstractSet[int], AbstractSet[int]]:
    """The sentences that say `word` (a stem; `written` its words in the note): as itself,
    as a conversation says it, and (for a denied sign) as its organ's exam."""
    own = _sentences_with(transcript, (word,))
    more: list[AbstractSet[int]] = []
    for norm in written:
        for other in variants(norm):
            more.append(_sentences_with(transcript, (other,)))
        for alternative in SAID_AS.get(norm, ()):
            more.append(_sentences_with(transcript, alternative))
        if norm in denied:
            for organ in SIGN_OF.get(norm, ()):
                more.append(_sentences_with(transcript, (organ,)))
    more = [found for found in more if found]
    # The word's own cached set when nothing widens it: no copy of its sentences.
    return own, set().union(own, *more) if more else own


# Suffixes a word of the same family takes or drops ("redness" / "red", "improvement" /
# "improve", "occasionally" / "occasion", "dizziness" / "dizzy"): the crude stem
# (text.stem) strips only inflections, and not alike on both sides ("shakes" is "shak",
# "shake" is "shake").
_DERIVATIONAL: Final = (
    "ness",
    "ment",
    "ally",
    "ly",
    "al",
    "ity",
    "ation",
    "ing",
    "ed",
    "es",
    "s",
    "e",
)
_MIN_BASE: Final = 3
_MIN_WORD: Final = 4


@lru_cache(maxsize=4096)
def variants(word: str) -> frozenset[str]:
    """The stems of `word`'s family that its own stem is not: the base without one
    derivational or inflectional suffix, with and without a final "e", a final "i" read
    as "y"."""
    if len(word) < _MIN_WORD or not word.isalpha():
        return frozenset()
    bases = {word}
    for suffix in _DERIVATIONAL:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_BASE:
            bases.add(word[: -len(suffix)])
    found: set[str] = set()
    for base in bases:
        for form in (base, base + "e", base[:-1] + "y" if base.endswith("i") else base):
            found.add(stem(form))
    found.discard(stem(word))
    return frozenset(f for f in found if len(f) >= _MIN_BASE)
