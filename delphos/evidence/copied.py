"""Where a statement was copied from: its words aligned, in order, to one run of the
transcript.

An extractive note copies the transcript's words but cuts and punctuates them its own
way ("…the same day then you will follow up…" becomes two sentences), so the transcript
sentence most like the statement is often not the one it came from, and a negation scope
ends at a full stop one side has and the other has not. When the statement's words are
found in the same order in one stretch of the transcript, that stretch is what it says,
and a check can compare the note with it word for word.

Linear: each anchor word's transcript positions are visited once (very common words
are left out; they place nothing)."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from typing import Final

from delphos.evidence.scope import is_neg_cue
from delphos.evidence.text import Tokens
from delphos.evidence.transcript import Transcript

# Words shorter than this, or said more often than COMMON times, do not anchor a copy.
MIN_ANCHOR_CHARS: Final = 3
COMMON: Final = 400
# Offsets (transcript position - note position) are voted for in bands this wide: a copy
# drops fillers and stutters, so its offset drifts.
BAND: Final = 24
# The next anchor of a copy follows the previous one within twice the note's distance
# plus this many transcript tokens (fillers, stutters, a dropped aside).
MAX_GAP: Final = 12
# A copy: at least this many anchors, and this share of the statement's anchors, aligned.
MIN_ANCHORS: Final = 3
COPY_SHARE: Final = 0.7
# How far before the first aligned word a leading cue ("no, it's a day surgery") may sit.
LEAD: Final = 6
# The first anchors whose places may start the copy.
STARTS: Final = 3


def align(t: Transcript, note: Tokens) -> list[tuple[int, int]]:
    """(note token, transcript token) of each anchor word, in order, when the statement
    is a copy of one stretch of the transcript; else []."""
    anchors: list[tuple[int, list[int]]] = []
    for k, stem in enumerate(note.stems):
        if len(note.norms[k]) < MIN_ANCHOR_CHARS or not stem or k in note.values:
            continue
        if is_neg_cue(note.norms, k, note.portuguese):
            continue  # cues are what `same_negation` compares, not landmarks
        found = t.stem_at.get(stem)
        if found and len(found) <= COMMON:
            anchors.append((k, found))
    eligible = sum(
        1
        for k, s in enumerate(note.stems)
        if s
        and len(note.norms[k]) >= MIN_ANCHOR_CHARS
        and k not in note.values
        and not is_neg_cue(note.norms, k, note.portuguese)
    )
    if len(anchors) < MIN_ANCHORS or len(anchors) < COPY_SHARE * eligible:
        return []
    votes: Counter[int] = Counter()
    for k, found in anchors:
        bands = {(p - k) // BAND for p in found}
        for b in bands:
            votes[b] += 1
            votes[b - 1] += 0  # keep neighbouring bands comparable
    band = max(votes, key=lambda b: (votes[b] + votes[b + 1], -b))
    low, high = band * BAND, (band + 2) * BAND
    # The copy starts at one of the first words' places in the band (a word said twice
    # close together: each start is tried, the longest chain wins).
    pairs: list[tuple[int, int]] = []
    for first, (k0, found0) in enumerate(anchors[:STARTS]):
        for p0 in found0:
            if k0 + low <= p0 < k0 + high:
                chain = _chain(anchors, first, p0)
                if len(chain) > len(pairs):
                    pairs = chain
    if len(pairs) < MIN_ANCHORS or len(pairs) < COPY_SHARE * eligible:
        return []
    return pairs


def _chain(anchors: list[tuple[int, list[int]]], first: int, p0: int) -> list[tuple[int, int]]:
    """The anchors that follow `anchors[first]` at transcript token `p0`, in order,
    each within reach of the previous one (skipping what the note dropped)."""
    pairs = [(anchors[first][0], p0)]
    for k, found in anchors[first + 1 :]:
        last_k, last = pairs[-1]
        i = bisect_right(found, last)
        if i < len(found) and found[i] - last <= 2 * (k - last_k) + MAX_GAP:
            pairs.append((k, found[i]))
    return pairs


def same_negation(
    t: Transcript, note: Tokens, pairs: list[tuple[int, int]], start: int, end: int
) -> bool:
    """Do the note's words up to token `end` carry a negation cue between the same two
    aligned words as the stretch of the transcript they were copied from, and no other?
    Tokens `start`..`end` (the finding, with its cue) must hold an aligned word.
    (Before the first aligned word, up to LEAD transcript tokens count.) A cue the note
    adds, drops or moves past a word is a difference; a cue each says in the same place
    ("i do n't think you need …" / "I don't think the patient needs …") is not."""
    upto = [(k, p) for k, p in pairs if k <= end]
    if not upto or upto[-1][0] < start:
        return False  # none of the finding's words is placed
    if any(t.question[t.sentence_of[p]] for k, p in upto if k >= start):
        return False  # asked, not said: the answer, elsewhere, tells (negation.py)
    note_at = [k for k, _ in upto]
    said_at = [p for _, p in upto]
    lo = max(-1, said_at[0] - note_at[0] - LEAD)
    in_note = {
        bisect_right(note_at, k)
        for k in range(note_at[-1])
        if is_neg_cue(note.norms, k, note.portuguese)
    }
    norms, portuguese = t.tokens.norms, t.tokens.portuguese
    in_transcript = {
        bisect_right(said_at, p)
        for p in range(lo + 1, said_at[-1])
        if is_neg_cue(norms, p, portuguese)
    }
    return in_note == in_transcript
