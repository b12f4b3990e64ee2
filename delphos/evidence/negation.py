"""Negation: the note denies what the transcript affirms, or asserts what it denies.

The note's statement is cut into findings (runs of content words between separators),
each negated or not (a cue scopes forward over a list until a terminator — NegEx /
ConText). Each finding is looked up in the transcript sentences that share most of its
words; the polarity said there (a cue before it, or the answer to a question about it)
is compared with the note's, by the majority of the best-matching sentences: a
transcript that says both as often is not a contradiction the checker can see."""

from __future__ import annotations

import math
from typing import Final

from delphos.evidence.check import Check
from delphos.evidence.copied import align, same_negation
from delphos.evidence.lexicon import VISIT_WORDS
from delphos.evidence.scope import items
from delphos.evidence.support import label_end
from delphos.evidence.transcript import asks

# Share of a finding's (weighted) words a transcript sentence must hold to speak of it.
MATCH_SHARE: Final = 0.6


def check_negations(check: Check) -> None:
    t, tokens = check.transcript, check.note
    if tokens.norms and asks(tokens.norms, 0, len(tokens) - 1):
        return  # a question copied without its "?" asserts nothing
    sentences = len(t.sentences) or 1
    copied: list[tuple[int, int]] | None = None
    # A label ("SKIN:", "Auscultation of Heart:") names what follows; it asserts nothing.
    first = label_end(tokens)
    for negated, cue, found in items(tokens):
        # Nor is the scribe's account of the visit ("all questions were answered") a
        # finding the transcript could deny ("do you have any questions?").
        members = [k for k in found if k >= first and tokens.norms[k] not in VISIT_WORDS]
        if not members:
            continue
        # Words the transcript never uses ("alta" in "febre alta") cannot place a finding.
        words = list(dict.fromkeys(tokens.stems[k] for k in members))
        stems = [w for w in words if w in t.stem_at]
        if not stems:
            continue
        weights = {s: math.log(1 + sentences / len(t.stem_at[s])) for s in stems}
        # A word the transcript never uses weighs as the rarest.
        total = sum(weights.values()) + (len(words) - len(stems)) * math.log(1 + sentences)
        # Sentence → weight of the finding's words in it.
        score: dict[int, float] = {}
        for s in stems:
            seen = -1
            for pos in t.stem_at[s]:
                sid = t.sentence_of[pos]
                if sid != seen:
                    score[sid] = score.get(sid, 0.0) + weights[s]
                    seen = sid
        top = max(score.values())
        if top < MATCH_SHARE * total and (negated or top < MATCH_SHARE * sum(weights.values())):
            # Part of the finding is never said. Denying "weight loss" is not contradicted
            # by "the weight of the boxes"; asserting "febre alta" is, by "não tenho febre"
            # (an assertion is checked against an explicit denial of the words said).
            continue
        # The mentions of the finding's rarest word in the best-matching sentences: the
        # polarity said in the sentence most like the whole statement wins (the sentence
        # a note copied outweighs any number of passing mentions); a tie says nothing.
        head = max(stems, key=weights.__getitem__)
        similar = check.sentence_weights()
        votes = {"negated": 0.0, "affirmed": 0.0}
        example: dict[str, tuple[float, int]] = {}
        for pos in t.stem_at[head]:
            sid = t.sentence_of[pos]
            if score[sid] < top - 1e-9:
                continue
            polarity = t.polarity(pos)
            if polarity != "unknown":
                weight = similar.get(sid, 0.0)
                votes[polarity] = max(votes[polarity], weight)
                if weight >= example.get(polarity, (-1.0, 0))[0]:
                    example[polarity] = (weight, pos)
        said = "affirmed" if negated else "negated"
        if votes[said] <= votes["negated" if negated else "affirmed"]:
            continue
        # A statement copied from one stretch of the transcript says what that stretch
        # says: judged there, word for word, not against the sentences most like it.
        if copied is None:
            copied = align(t, tokens)
        start = cue if negated and cue >= 0 else members[0]
        if copied and same_negation(t, tokens, copied, start, members[-1]):
            continue
        shown = check.snippet(start, members[-1])
        heard = check.said(example[said][1])
        if negated:
            message = f'The note denies "{shown}", but the transcript affirms it: "{heard}".'
        else:
            message = f'The note asserts "{shown}", but the transcript denies it: "{heard}".'
        check.flag("negation", shown, message)
