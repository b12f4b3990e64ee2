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

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from typing import Final

from delphos.evidence.lexicon import SIDES
from delphos.evidence.scope import NEGATED, is_neg_cue
from delphos.evidence.text import Tokens
from delphos.evidence.transcript import Transcript

# Words shorter than this, or said more often than COMMON times, do not anchor a copy.
MIN_ANCHOR_CHARS: Final = 3
COMMON: Final = 400
# The next anchor of a copy follows the previous one within twice the note's distance
# plus this many transcript tokens (fillers, stutters, a dropped aside).
MAX_GAP: Final = 12
# A copy: at least this many anchors, and this share of the statement's anchors, aligned.
MIN_ANCHORS: Final = 3
COPY_SHARE: Final = 0.7
# How far before the first aligned word a leading cue ("no, it's a day surgery") may sit.
LEAD: Final = 6
# The rarest anchors whose places may seed the copy.
SEEDS: Final = 3


def align(t: Transcript, note: Tokens) -> list[tuple[int, int]]:
    """(note token, transcript token) of each anchor word, in order, when the statement
    is a copy of one stretch of the transcript; else []."""
    anchors: list[tuple[int, list[int]]] = []
    for k, stem in enumerate(note.stems):
        if len(note.norms[k]) < MIN_ANCHOR_CHARS or not stem or k in note.values:
            continue
        if is_neg_cue(note.norms, k, note.portuguese) or note.norms[k] in SIDES:
            continue  # cues and sides are what the checks compare, not landmarks
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
        and note.norms[k] not in SIDES
    )
    if len(anchors) < MIN_ANCHORS or len(anchors) < COPY_SHARE * eligible:
        return []
    # The copy is grown from each place of the statement's rarest words (a word said
    # once places it); the longest chain wins.
    pairs: list[tuple[int, int]] = []
    seeds = sorted(range(len(anchors)), key=lambda i: len(anchors[i][1]))[:SEEDS]
    for seed in seeds:
        for p in anchors[seed][1]:
            chain = _chain(anchors, seed, p)
            if len(chain) > len(pairs):
                pairs = chain
    if len(pairs) < MIN_ANCHORS or len(pairs) < COPY_SHARE * eligible:
        return []
    return pairs


def _chain(anchors: list[tuple[int, list[int]]], seed: int, p0: int) -> list[tuple[int, int]]:
    """The anchors aligned around `anchors[seed]` at transcript token `p0`: forward and
    backward, in order, each within reach of its neighbour (skipping what the note
    dropped)."""
    k0 = anchors[seed][0]
    after = [(k0, p0)]
    for k, found in anchors[seed + 1 :]:
        last_k, last = after[-1]
        i = bisect_right(found, last)
        if i < len(found) and found[i] - last <= 2 * (k - last_k) + MAX_GAP:
            after.append((k, found[i]))
    before: list[tuple[int, int]] = []
    next_k, nxt = k0, p0
    for k, found in reversed(anchors[:seed]):
        i = bisect_left(found, nxt) - 1
        if i >= 0 and nxt - found[i] <= 2 * (next_k - k) + MAX_GAP:
            before.append((k, found[i]))
            next_k, nxt = k, found[i]
    return before[::-1] + after


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
    if 0 in in_transcript and 0 not in in_note and t.mark(said_at[0]) != NEGATED:
        # A cue before the copied stretch whose scope ends before it ("it's likely
        # nothing , but i do want …") is another clause's, not one the note dropped.
        in_transcript.discard(0)
    if in_note != in_transcript:
        return False
    # Without a cue on either side, words asked in a question ("any chest pain?") are
    # not asserted: the answer, elsewhere, tells (negation.py).
    return bool(in_note) or not any(t.is_question(t.sentence_of[p]) for k, p in upto if k >= start)


def place(pairs: list[tuple[int, int]], k: int) -> tuple[int, int]:
    """The transcript tokens strictly between the aligned words around note token `k`
    (LEAD tokens past either end of the copy), as (after, before)."""
    note_at = [j for j, _ in pairs]
    i = bisect_right(note_at, k)
    if i > 0 and note_at[i - 1] == k:
        p = pairs[i - 1][1]
        return p - 1, p + 1
    lo = pairs[i - 1][1] if i > 0 else pairs[0][1] - (pairs[0][0] - k) - LEAD
    hi = pairs[i][1] if i < len(pairs) else pairs[-1][1] + (k - pairs[-1][0]) + LEAD
    return lo, hi


def said_in_place(
    t: Transcript,
    note: Tokens,
    pairs: list[tuple[int, int]],
    k: int,
    meant: Callable[[int], bool] = lambda _: True,
) -> bool:
    """Does the transcript say note token `k`'s word in its place in the copy (at a
    position `meant` accepts)? A side copied with the words around it is the
    transcript's own, whatever sentence the note cut it into."""
    lo, hi = place(pairs, k)
    norms = t.tokens.norms
    word = note.norms[k]
    return any(norms[p] == word and meant(p) for p in range(max(0, lo + 1), min(len(norms), hi)))
