"""Sides a speaker sets aside: the reference of a comparison ("compared to the left
knee") and a slip corrected at once ("your left of your right knee, sorry"). Neither is
the side of the part the consultation is about, unless the note copies the sentence
whole, slip and all (an extractive note's own words are the transcript's)."""

from __future__ import annotations

from bisect import bisect_left
from typing import Final

from delphos.evidence.lexicon import AMBIGUOUS_SIDES, SIDES
from delphos.evidence.text import Tokens
from delphos.evidence.transcript import Transcript, not_a_side

# Tokens: how far a body part may stand from its side in speech.
PART_REACH: Final = 3
# A side said as the reference of a comparison ("compared to the left knee", "than the
# right", "versus the left"): the other side is the one examined. Sought this many
# tokens before the side.
_COMPARISONS: Final = frozenset(
    "compare compared comparing comparison than versus vs comparar comparando comparado "
    "comparada comparacao".split()
)
COMPARISON_REACH: Final = 4
# A side corrected at once ("your left of your right knee sorry", "left leg pain.
# Right leg pain"): the other side for the same part within this many tokens, no word
# joining the two as a list or a contrast between them.
REPAIR_REACH: Final = 5
# A statement copying this share of a transcript sentence's tokens copies the sentence,
# a slip in it included ("She's here for left leg pain." before "right leg pain").
COPY_SHARE: Final = 0.8
_JOINERS: Final = frozenset("and or but nor to versus vs than e ou mas nem".split())
_SPEAKERS: Final = frozenset("doctor patient medico paciente".split())


def _aside(t: Transcript, n: int, part: str) -> bool:
    """Is the transcript's side mention `n` (in `t.side_at`) not the part's side: a
    comparison's reference or a slip the speaker corrects at once?"""
    sp, said = t.side_at[n]
    norms = t.tokens.norms
    if any(norms[j] in _COMPARISONS for j in range(max(0, sp - COMPARISON_REACH), sp)):
        return True
    if said == "B" or n + 1 >= len(t.side_at):
        return False
    nxt, other = t.side_at[n + 1]
    if other in (said, "B"):
        return False
    if t.sentence_of[sp] != t.sentence_of[nxt] and t.question[t.sentence_of[sp]]:
        return False  # "does your left knee hurt? The right knee does."
    return _corrects(t.tokens, sp, nxt, part)


def _corrects(tokens: Tokens, sp: int, nxt: int, part: str) -> bool:
    """Does the other side at token `nxt` correct the side at `sp` for `part` ("your
    left of your right knee sorry")?"""
    norms = tokens.norms
    if nxt - sp > REPAIR_REACH:
        return False
    if any(norms[j] in _JOINERS or norms[j] in _SPEAKERS for j in range(sp + 1, nxt)):
        return False  # "left and right", or the other speaker's answer
    return part in tokens.stems[nxt + 1 : nxt + 1 + PART_REACH]


def corrected_in_note(tokens: Tokens, k: int, side: str, part: str) -> bool:
    """Does the statement itself correct its side at `k` (a note copying the slip with
    its correction)?"""
    norms = tokens.norms
    for j in range(k + 1, min(len(norms), k + REPAIR_REACH + 1)):
        other = SIDES.get(norms[j])
        if other is None or (norms[j] in AMBIGUOUS_SIDES and not_a_side(norms, j)):
            continue
        return other not in (side, "B") and _corrects(tokens, k, j, part)
    return False


def set_aside(t: Transcript, n: int, part: str, note: Tokens, k: int) -> bool:
    """Is the transcript's side mention `n` set aside for `part` (`_aside`), and not in a
    sentence the statement (its side at note token `k`) copies nearly whole, slip and
    all, as an extractive note does ("She's here for left leg pain.")?"""
    if not _aside(t, n, part):
        return False
    p = t.side_at[n][0]
    sid = t.sentence_of[p]
    first = t.first_token[sid]
    end = t.first_token[sid + 1] if sid + 1 < len(t.first_token) else len(t.tokens)
    # The sentence's words in the note at the same offsets (bounded by the note).
    shift, norms = k - p, t.tokens.norms
    same = sum(
        note.norms[j + shift] == norms[j]
        for j in range(max(first, -shift), min(end, len(note.norms) - shift))
    )
    return same < COPY_SHARE * (end - first - (norms[first] in _SPEAKERS))


def meant_for(t: Transcript, p: int, *, part: str, note: Tokens, k: int) -> bool:
    """Is the side at transcript token `p` meant for `part` (not set aside)?"""
    n = bisect_left(t.side_at, (p, ""))
    if not part or n >= len(t.side_at) or t.side_at[n][0] != p:
        return True
    return not set_aside(t, n, part, note, k)
