"""Laterality: a side (left/right/both, esquerdo/direito/ambos) the transcript contradicts.

A side is judged with the body part it qualifies — the word after it ("right knee",
"left side of his back"), else the word before it ("tenderness on the right"). The
transcript's mentions of that part with a side are compared by the other words of the
statement around them: when both knees are discussed ("erythema of your right knee, but
your left knee looks fine"), the note's "erythema of the left knee" matches the right
knee's mention better and is flagged."""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from functools import partial
from typing import Final

from delphos.evidence.asides import (
    AFTER_PART,
    PART_REACH,
    corrected_in_note,
    denied_side,
    meant_for,
    set_aside,
)
from delphos.evidence.check import Check
from delphos.evidence.copied import align, place, said_in_place
from delphos.evidence.lexicon import AMBIGUOUS_SIDES, SIDES
from delphos.evidence.majority import outweighed
from delphos.evidence.side_words import (
    both_contradicted,
    clause_words,
    denied_mention,
    normal_or_denied,
)
from delphos.evidence.text import Tokens
from delphos.evidence.transcript import Transcript, not_a_side

# Tokens: how far a body part may stand from its side, in the note (PART_SPAN) and in
# speech (`asides.PART_REACH`); how far around a mention the statement's other words are sought.
PART_SPAN: Final = 3
CLAUSE_REACH: Final = 12
GAP_CHARS: Final = 8
# A clear match: words as rare as one said in at most three sentences of the transcript.
CLEAR_SENTENCES: Final = 3
# Both sides said for the part: the other side's mention must match the statement this
# many times better than the best mention of the note's side.
MARGIN: Final = 2.0
# No clause telling the sides apart: the other side must be said this many times as
# often for the part, and this many times more (one more when "both" is said for it
# too), to contradict the note. Comparisons and corrected slips are not counted.
DOMINANCE: Final = 1.5
DOMINANCE_LEAD: Final = 1
# "left or right", "esquerdo ou direito": the other side within this many tokens.
_ALTERNATIVES: Final = frozenset({"or", "ou"})
ALTERNATIVE_REACH: Final = 2
_CLAUSE_CUTS: Final = ("but", "however", "mas", "porem")
# "is right": speech ("that is right") unless the body part follows at once.
_VERBS_BEFORE_SIDE: Final = frozenset({"is", "s", "re"})
# Sides listed between two copied words ("right and left lateral rotation"): compared in
# order when the gap, in the note, is at most this many tokens.
LIST_REACH: Final = 6
# The patient's own side: a side said in the first person ("my right knee", "meu joelho
# direito" is not caught: the side follows the part) is the one the patient complains of.
_FIRST_PERSON: Final = frozenset("my meu minha".split())
_SIDE_WORDS: Final = frozenset(SIDES)
# "bilateral" follows its part in Portuguese only ("dor bilateral").
_BILATERAL: Final = frozenset({"bilateral", "bilaterais"})


def _part(check: Check, k: int) -> str:
    """The body part a side qualifies: the nearest word after it (within PART_SPAN
    tokens), else before it, that is no side and that the transcript uses. Portuguese
    puts the side after its part ("dor no joelho direito há três dias"): the word before
    it first."""
    tokens, known = check.note, check.transcript.stem_at

    def candidate(j: int) -> bool:
        word = tokens.stems[j]
        return bool(word) and word not in SIDES and tokens.norms[j] not in SIDES and word in known

    word = tokens.norms[k]
    after_part = word in AFTER_PART or (tokens.portuguese and word in _BILATERAL)
    return check.word_beside(k, PART_SPAN, candidate, before_first=after_part)


def _agrees(side: str, said: set[str]) -> bool:
    return side in said or "B" in said or (side == "B" and {"L", "R"} <= said)


def _semicolon_before(tokens: Tokens, j: int) -> bool:
    """A ";" between token `j` and the one before it (within a few characters: the gap
    of hostile text may be long, and the clause is bounded per mention)."""
    gap = tokens.ends[j - 1]
    return ";" in tokens.text[gap : min(tokens.starts[j], gap + GAP_CHARS)]


def _shared(check: Check, words: dict[str, float], sp: int) -> float:
    """How much of `words` the transcript says in the clause of the side at `sp` (same
    sentence, within CLAUSE_REACH tokens, no "but" or ";" between), by rarity and
    nearness."""
    t = check.transcript
    sid = t.sentence_of[sp]
    lo, hi = sp - CLAUSE_REACH, sp + CLAUSE_REACH
    for cut in _CLAUSE_CUTS:
        found = t.stem_at.get(cut, [])
        k = bisect_left(found, sp)
        if k > 0:
            lo = max(lo, found[k - 1] + 1)
        if k < len(found):
            hi = min(hi, found[k] - 1)
    # A semicolon ends a clause too: "… or varicocele; left testicle, normal; no hernia".
    for j in range(sp, max(lo, 1) - 1, -1):
        if _semicolon_before(t.tokens, j):
            lo = j
            break
    for j in range(sp + 1, min(hi, len(t.tokens) - 1) + 1):
        if _semicolon_before(t.tokens, j):
            hi = j - 1
            break
    count = 0.0
    sentences = t.sentence_count or 1
    for w, weight in words.items():
        found = t.stem_at[w]
        k = bisect_left(found, lo)
        nearest = CLAUSE_REACH + 1
        while k < len(found) and found[k] <= hi:
            if t.sentence_of[found[k]] == sid:
                nearest = min(nearest, abs(found[k] - sp))
            k += 1
        # Rarer words count more, and nearer ones: "right testicular nodule" is about
        # the right testicle more than "… nodule, no hernia, left testicle normal".
        count += weight * math.log(1 + sentences / len(found)) * (CLAUSE_REACH + 1 - nearest)
    return count / (CLAUSE_REACH + 1)


def _denied(tokens: Tokens, k: int) -> bool:
    """Is the side at token `k` denied ("not the right knee") or one of two asked about
    ("is it your left or your right knee")? Neither names the side."""
    norms = tokens.norms
    if denied_side(norms, k):
        return True  # not "denies left hand pain": the pain is denied there, not the side
    for step in (1, -1):
        j = k + step
        if 0 <= j < len(norms) and norms[j] in _ALTERNATIVES:
            for i in range(j + step, j + step * (ALTERNATIVE_REACH + 1), step):
                if 0 <= i < len(norms) and norms[i] in SIDES:
                    return True
    return False


def _verb_then_side(tokens: Tokens, j: int) -> bool:
    """ "there is right inguinal lymph node": a side the transcript's index left out
    ("that is right") said straight before the body part."""
    norms = tokens.norms
    return j > 0 and norms[j] in AMBIGUOUS_SIDES and norms[j - 1] in _VERBS_BEFORE_SIDE


def _other_in_place(
    t: Transcript, note: Tokens, at: dict[int, int], k: int, side: str, part: str
) -> int:
    """Is note token `k` copied next to a word aligned with the transcript (`at`: note
    token → transcript token), the transcript saying the other side in its place
    ("started from the right side … on the left side" copied with "right" twice)? Its
    transcript token, else -1."""
    for p in (at[k - 1] + 1 if k - 1 in at else -1, at[k + 1] - 1 if k + 1 in at else -1):
        n = bisect_left(t.side_at, (p, ""))
        if p < 0 or n >= len(t.side_at) or t.side_at[n][0] != p:
            continue
        said = t.side_at[n][1]
        if _agrees(side, {said}) or _denied(t.tokens, p) or set_aside(t, n, part, note, k):
            return -1
        return p if side != "B" else -1
    return -1


def _owned_other(t: Transcript, times: dict[str, set[int]], side: str) -> bool:
    """Does the patient say only the other side of the part as their own ("my right
    knee"), never this side nor both? A note's side the patient never owns, matched by
    no clear clause of its own, is the doctor's comparison ("when I move your left
    knee…"), not the patient's complaint."""
    if "B" in times:
        return False
    norms = t.tokens.norms
    owned = {
        s for s, found in times.items() for sp in found if sp > 0 and norms[sp - 1] in _FIRST_PERSON
    }
    return bool(owned) and side not in owned


def _listed_other(t: Transcript, note: Tokens, pairs: list[tuple[int, int]], k: int) -> int:
    """Sides listed in the gap of a copy ("right and left lateral rotation" copied as
    "right and right lateral rotation"): when the note and the transcript list as many
    sides there, the transcript's side of the same rank as note token `k`, if it is
    another one; else -1. Either side alone is said in place, so the list is compared."""
    note_at = [j for j, _ in pairs]
    i = bisect_right(note_at, k)
    if (
        i == 0
        or i == len(note_at)
        or note_at[i - 1] == k
        or note_at[i] - note_at[i - 1] > LIST_REACH
    ):
        return -1
    norms = note.norms
    mine = [
        j
        for j in range(note_at[i - 1] + 1, note_at[i])
        if norms[j] in SIDES and not (norms[j] in AMBIGUOUS_SIDES and not_a_side(norms, j))
    ]
    lo, hi = place(pairs, k)
    a, b = bisect_right(t.side_at, (lo, "~")), bisect_left(t.side_at, (hi, ""))
    if len(mine) < 2 or b - a != len(mine):
        return -1
    p, said = t.side_at[a + mine.index(k)]
    if said == SIDES[norms[k]] or "B" in (said, SIDES[norms[k]]) or _denied(t.tokens, p):
        return -1
    return p


def _contradicted(check: Check, k: int, there: int) -> None:
    """Flag the note's side at token `k`, quoting the transcript's other side at `there`."""
    shown = check.snippet(max(0, k - 2), min(len(check.note), k + 4) - 1)
    check.flag(
        "laterality",
        check.snippet(k, k),
        f'The note says "{shown}"; the transcript gives the other side ("{check.said(there)}").',
    )


def check_sides(check: Check) -> None:
    t, tokens = check.transcript, check.note
    side_positions = [p for p, _ in t.side_at]
    said_anywhere = {side for _, side in t.side_at}
    # The statement's words the transcript uses.
    context = clause_words(t, tokens, _SIDE_WORDS)
    copied: list[tuple[int, int]] | None = None
    clear = math.log(1 + (t.sentence_count or 1) / CLEAR_SENTENCES) / 2
    denied: set[str] | None = None
    for k, word in enumerate(tokens.norms):
        side = SIDES.get(word)
        if side is None or (word in AMBIGUOUS_SIDES and not_a_side(tokens.norms, k)):
            continue
        if _denied(tokens, k):
            continue  # "it's not the right knee", "left or right?": no side the note gives
        part = _part(check, k)
        if part and corrected_in_note(tokens, k, side, part):
            continue  # "the outside of left of right knee, sorry": the note's slip, corrected
        # A side copied with the words around it is what the transcript says there
        # (unless the speaker set that side aside: "here for left leg pain. Right leg").
        if copied is None:
            copied = align(t, tokens)
        # Sides listed in a copied gap, in order: "right and left" copied as "right and right".
        there = _listed_other(t, tokens, copied, k) if copied else -1
        if there >= 0:
            _contradicted(check, k, there)
            continue
        meant = partial(meant_for, t, part=part, note=tokens, k=k)
        if copied and said_in_place(t, tokens, copied, k, meant):
            continue
        # Copied with the words around it, the other side in its place: contradicted.
        there = _other_in_place(t, tokens, dict(copied), k, side, part) if part else -1
        if there >= 0:
            _contradicted(check, k, there)
            continue
        # The transcript's mentions of this part with a side: side → most words shared.
        best: dict[str, float] = {}
        where: dict[str, int] = {}
        times: dict[str, set[int]] = {}
        # Sides whose mention of the part is denied in its clause (for a denial): side →
        # that mention.
        refused: dict[str, int] = {}
        if part:
            if denied is None:
                denied = check.denied()
            others = {w: v for w, v in context.items() if w != part}
            for pos in t.stem_at[part]:
                lo = bisect_left(side_positions, pos - PART_REACH)
                hi = bisect_right(side_positions, pos + PART_REACH)
                mentions = [(n, *t.side_at[n]) for n in range(lo, hi)]
                if _verb_then_side(t.tokens, pos - 1):
                    mentions.append((-1, pos - 1, SIDES[t.tokens.norms[pos - 1]]))
                for n, sp, said in mentions:
                    if _denied(t.tokens, sp) or (n >= 0 and set_aside(t, n, part, tokens, k)):
                        continue  # "it's not the right knee it's the left knee"
                    times.setdefault(said, set()).add(sp)
                    score = _shared(check, others, sp)
                    if part in denied and denied_mention(t, pos):
                        # "No masses on the right" matches "no masses on the right"
                        # more than "a left adnexal mass".
                        score += clear
                        refused.setdefault(said, sp)
                    if score > best.get(said, -1):
                        best[said], where[said] = score, sp
        if not best:
            if (not part and word in AMBIGUOUS_SIDES) or _agrees(side, said_anywhere):
                continue  # "all right", "right now": not a side
            if side == "B":
                continue  # "clear bilaterally": an examination's, rarely said aloud
            shown = check.snippet(k, k)
            check.flag(
                "laterality",
                shown,
                f'The note says "{shown}"; the transcript never names that side.',
            )
            continue
        mine = max((v for s, v in best.items() if _agrees(side, {s})), default=-1)
        if side == "B":
            if both_contradicted(tokens, best, clear, MARGIN):
                other = max((s for s in best if s != "B"), key=lambda s: best[s])
                _contradicted(check, k, where[other])
            continue
        theirs = max((v for s, v in best.items() if not _agrees(side, {s})), default=-1)
        # The note denies the part on one side; the transcript denies it only on the
        # other ("my left knee doesn't really hurt", the right one hurts).
        other_refused = [s for s in refused if not _agrees(side, {s})]
        if other_refused and not any(_agrees(side, {s}) for s in refused):
            _contradicted(check, k, refused[other_refused[0]])
            continue
        # The other side said far more often for the part (majority.py).
        if outweighed(check, k, side, times, best, where, clear):
            continue
        said_mine = len(times.get(side, ()))
        # "Both elbows" said too: the note's side is one of the patient's after all,
        # and only a larger lead for the other side contradicts it.
        lead = DOMINANCE_LEAD + ("B" in times)
        said_theirs = sum(len(v) for s, v in times.items() if not _agrees(side, {s}))
        # Both sides said for this part: only a clear match of the other side's clause
        # (and none of this side's) contradicts the note ("left knee looks fine" vs
        # "erythema of your right knee"). When the note's side is the one said far more
        # often for the part, the patient's, a clause of the other side matching by one
        # common word ("right foot pain" said once) is not clear enough for a complaint
        # or an abnormal finding; a normal or denied one is what the other side, the
        # comparison, is said to be ("your left knee looks fine"), and its clause tells.
        bar = max(clear, MARGIN * mine)
        if said_mine >= max(DOMINANCE * said_theirs, said_theirs + lead) and not normal_or_denied(
            tokens
        ):
            bar = max(bar, MARGIN * clear)
        if theirs < bar and (theirs < 0 or mine >= 0):
            # The statement shares nothing more with this side's clause than with the
            # other's (often nothing but the part; a little, by a common word, is
            # nothing more): the side said far more often for it is the patient's
            # ("your left foot" throughout, "right foot" misspoken once).
            if (
                (abs(mine - theirs) > 1e-9 and theirs < DOMINANCE * mine)
                or said_theirs < max(DOMINANCE * said_mine, said_mine + lead)
            ) and not (
                # The patient owns the other side, the note's side is matched by no
                # clear clause and said no more often: the doctor's comparison.
                mine < clear and said_mine <= said_theirs and _owned_other(t, times, side)
            ):
                continue
        other = max((s for s in best if not _agrees(side, {s})), key=lambda s: best[s])
        _contradicted(check, k, where[other])
