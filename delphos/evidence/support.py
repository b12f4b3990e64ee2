"""How well the transcript covers a statement: the share of its content words found in
its best transcript sentences, and those sentences as the evidence spans."""

from __future__ import annotations

import math
from typing import Final

from delphos.evidence.lexicon import NEG_PRE, NEG_TERMINATORS, SIDES
from delphos.evidence.models import Span
from delphos.evidence.scope import is_neg_cue
from delphos.evidence.text import Tokens, number_key
from delphos.evidence.transcript import Transcript

EVIDENCE_SENTENCES: Final = 3
LABEL_WORDS: Final = 5
FRAMING: Final = (
    NEG_PRE
    | NEG_TERMINATORS
    | frozenset("endorse endorses endorsing denies states stated report reporting".split())
)


def label_end(tokens: Tokens) -> int:
    """The first token after a leading label of up to five words and a colon, else 0."""
    for k in range(1, min(len(tokens), LABEL_WORDS + 1)):
        if ":" in tokens.text[tokens.ends[k - 1] : tokens.starts[k]]:
            return k
    return 0


def support(transcript: Transcript, tokens: Tokens) -> tuple[float, list[Span]]:
    """Greedy cover of the statement's content words by at most three transcript
    sentences; rarer words weigh more (a shared "pain" says less than "lisinopril")."""
    # A label ("Neurological:", "Medical Reasoning:") and the verbs that only frame a
    # finding ("denies", "reports") are the note's form, not claims to find.
    first = label_end(tokens)
    wanted = {
        s
        for k, s in enumerate(tokens.stems)
        if k >= first
        and s
        and s not in SIDES
        and tokens.norms[k] not in FRAMING
        # "haven't", "don't": the negation frames a finding (the negation check reads it);
        # the transcript says "have n't", so "haven" is no word to find.
        and not is_neg_cue(tokens.norms, k, tokens.portuguese)
    }
    for values in tokens.values.values():
        wanted.update("#" + number_key(v) for v in values[:1])
    if not wanted:
        return 1.0, []
    sentences = len(transcript.sentences) or 1
    weights: dict[str, float] = {}
    by_sentence: dict[int, set[str]] = {}
    for word in wanted:
        if word.startswith("#"):
            positions = transcript.number_at.get(word[1:], [])
        else:
            positions = transcript.stem_at.get(word, [])
        weights[word] = 1.0 + math.log(1 + sentences / (1 + len(positions)))
        for pos in positions:
            by_sentence.setdefault(transcript.sentence_of[pos], set()).add(word)
    total = sum(weights.values())
    covered: set[str] = set()
    chosen: list[int] = []
    for _ in range(EVIDENCE_SENTENCES):
        best, gain = -1, 0.0
        for sid, words in by_sentence.items():
            g = sum(weights[w] for w in words - covered)
            if g > gain or (g == gain and g > 0 and sid < best):
                best, gain = sid, g
        if best < 0:
            break
        chosen.append(best)
        covered |= by_sentence.pop(best)
    coverage = sum(weights[w] for w in covered) / total
    spans = [Span(start=a, end=b) for a, b in (transcript.sentence_span(s) for s in sorted(chosen))]
    return coverage, spans
