"""The side a consultation is about: a side said for a body part far more often than the
other one outweighs the other side's clause.

Speech slips: a patient says "she fell onto my right foot" in a visit about the left foot,
a doctor says "your right foot pain is due to a fracture" after five mentions of the left
one. The slip's clause may match a statement better than any clause of the side said
throughout, yet a note giving the slip's side for a complaint or an abnormal finding is
one a clinician would want to look at again: the statement is flagged, and the message
says which side the transcript mostly gives (a prompt to review, not a verdict).

Three uses of the other side are legitimate and left alone: a normal or denied finding
(the other side is the comparison: "right knee exam normal"), a clause of the patient's
history ("I had surgery on my right knee years ago") that the statement matches clearly
(the other limb's past, not a slip), and a statement copying the slip's sentence whole
(an extractive note says what was said)."""

from __future__ import annotations

from typing import Final

from delphos.evidence.asides import copies_sentence
from delphos.evidence.check import Check
from delphos.evidence.side_words import normal_or_denied
from delphos.evidence.transcript import Transcript

# The other side must be said this many times as often for the part as the note's side,
# and this many times more: "left foot" six times against "right foot" three times,
# not two against one (a visit about both, or a doctor's aside, as easily as a slip).
MINORITY_RATIO: Final = 2.0
MINORITY_LEAD: Final = 2
# Tokens either side of a mention, in its sentence, where a history cue places it in the
# past ("surgery on my right knee before", "broke my left wrist two years ago").
HISTORY_REACH: Final = 10
_HISTORY: Final = frozenset(
    "ago before previous previously prior history past years childhood "
    "antes atras anterior anteriormente historia historico passado anos infancia".split()
)
_NAMES: Final = {"L": "left", "R": "right", "B": "both"}


def outnumbered(times: dict[str, set[int]], side: str) -> bool:
    """Is the note's `side` ("L"/"R") said far less often for the part than the other one
    (`times`: side → the transcript tokens saying it for the part)? Not when "both" is
    said for the part: then either side may be the patient's."""
    if "B" in times or side == "B":
        return False
    mine = len(times.get(side, ()))
    theirs = sum(len(found) for s, found in times.items() if s != side)
    return theirs >= MINORITY_RATIO * mine and theirs - mine >= MINORITY_LEAD


def in_history(t: Transcript, sp: int) -> bool:
    """Is the side at transcript token `sp` said of the past: a history cue in its
    sentence within HISTORY_REACH tokens?"""
    norms, sid = t.tokens.norms, t.sentence_of[sp]
    lo, hi = max(0, sp - HISTORY_REACH), min(len(norms), sp + HISTORY_REACH + 1)
    return any(norms[j] in _HISTORY and t.sentence_of[j] == sid for j in range(lo, hi))


def mostly(times: dict[str, set[int]], side: str) -> str:
    """What the transcript mostly says for the part, for a message: "left" 6 times,
    "right" 3 times."""
    counts = sorted(((len(v), s) for s, v in times.items()), reverse=True)
    counts += [] if side in times else [(0, side)]
    return ", ".join(f'"{_NAMES[s]}" {n} time{"s" * (n != 1)}' for n, s in counts)


def outweighed(
    check: Check,
    k: int,
    side: str,
    times: dict[str, set[int]],
    best: dict[str, float],
    where: dict[str, int],
    clear: float,
) -> bool:
    """Flag the note's side at token `k` if the other side is said far more often for its
    part (`times`; `best`/`where`: each side's best clause match and its mention; `clear`:
    a clear match). Not for a normal or denied finding, nor where this side's clause is
    of the patient's history and matches clearly, nor for a statement copying whole the
    sentence of a mention of this side (an extractive note's words are the speaker's)."""
    t, note = check.transcript, check.note
    if (
        not outnumbered(times, side)
        or normal_or_denied(note)
        or (best.get(side, -1) >= clear and in_history(t, where[side]))
        or any(copies_sentence(t, sp, note, k) for sp in times.get(side, ()))
    ):
        return False
    other = max((s for s in best if s != side), key=lambda s: best[s])
    shown = check.snippet(max(0, k - 2), min(len(note), k + 4) - 1)
    check.flag(
        "laterality",
        check.snippet(k, k),
        f'The note says "{shown}"; the transcript mostly gives the other side for this part '
        f'({mostly(times, side)}), e.g. "{check.said(where[other])}".',
    )
    return True
