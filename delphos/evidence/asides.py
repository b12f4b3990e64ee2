"""Sides a speaker sets aside: the reference of a comparison ("compared to the left
knee"), a slip corrected at once ("your left of your right knee, sorry", "left knee, no,
sorry, I mean the right knee") and a side taken back shortly after, by either speaker
("some right knee pain?" — "it's not the right knee, it's the left knee"; "both knees?" —
"my left knee doesn't really hurt", for a complaint on that side). None is the side of
the part the consultation is about, unless the note copies the sentence whole, slip and
all (an extractive note's own words are the transcript's)."""

from __future__ import annotations

from bisect import bisect_left
from typing import Final

from delphos.evidence.lexicon import AMBIGUOUS_SIDES, SIDES
from delphos.evidence.side_words import denied_mention, normal_or_denied
from delphos.evidence.text import Tokens
from delphos.evidence.transcript import SIDE_OWNERS, Transcript, not_a_side

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
# What a speaker says between a slip and its correction, beside the slip's own words
# ("left knee , no , sorry , i mean the right knee"): neither counts towards
# REPAIR_REACH nor is one of the words a correction repeats.
_REPAIR_WORDS: Final = frozenset(
    "sorry no i mean actually um uh oh excuse me of the my your his her a an "
    "desculpa desculpe nao quer dizer digo alias o a os as do da meu minha seu sua".split()
)
# Portuguese sides, said after their part ("joelho direito").
AFTER_PART: Final = frozenset(w for w in SIDES if w.startswith(("esquerd", "direit")))
# A side denied as the part's ("not the right knee", "não o direito"): a cue before it,
# a determiner between.
IDENTITY_CUES: Final = frozenset({"not", "t", "nao"})
DETERMINERS: Final = SIDE_OWNERS | frozenset("a o meu minha seu sua".split())
# Tokens: how far after a side its denial may come from the other speaker ("some right
# knee pain ? [patient] it's not the right knee , it's the left knee").
RETRACT_REACH: Final = 16
# Tokens: how far after "both" one side's denial may come ("bilateral knee pain … is that
# correct ? [patient] yeah my left knee doesn't really hurt").
BOTH_REACH: Final = 30


def _aside(t: Transcript, n: int, part: str) -> bool:
    """Is the transcript's side mention `n` (in `t.side_at`) not the part's side: a
    comparison's reference or a slip the speaker corrects at once?"""
    sp, said = t.side_at[n]
    norms = t.tokens.norms
    if any(norms[j] in _COMPARISONS for j in range(max(0, sp - COMPARISON_REACH), sp)):
        return True
    if said == "B":
        return False
    if _retracted(t, n, part):
        return True
    if n + 1 >= len(t.side_at):
        return False
    nxt, other = t.side_at[n + 1]
    if other in (said, "B"):
        return False
    if t.sentence_of[sp] != t.sentence_of[nxt] and t.is_question(t.sentence_of[sp]):
        return False  # "does your left knee hurt? The right knee does."
    return _corrects(t.tokens, sp, nxt, part)


def denied_side(norms: list[str], k: int) -> bool:
    """Is the side at token `k` denied as the part's ("not the right knee", "isn't my
    left", "não o direito", "não é o joelho direito")?"""
    j = k
    if norms[k] in AFTER_PART and k > 1 and norms[k - 2] in DETERMINERS:
        j = k - 1  # "o joelho direito": the part between its determiner and the side
    j = j - 1 if j > 0 and norms[j - 1] in DETERMINERS else j
    if j > 1 and norms[j - 1] == "e" and norms[j - 2] == "nao":
        return True  # "não é o joelho direito"
    return j > 0 and norms[j - 1] in IDENTITY_CUES


def _retracted(t: Transcript, n: int, part: str) -> bool:
    """Is the side mention `n` taken back shortly after, by either speaker: the same side
    denied for the part and the other one given in its place ("some right knee pain ?"
    — "it's not the right knee it's the left knee")? The later word wins."""
    sp, said = t.side_at[n]
    norms = t.tokens.norms
    for m in range(n + 1, len(t.side_at) - 1):
        p, again = t.side_at[m]
        if p - sp > RETRACT_REACH:
            break
        nxt, other = t.side_at[m + 1]
        if (
            again == said
            and denied_side(norms, p)
            and other not in (said, "B")
            and nxt - p <= 2 * REPAIR_REACH
            and not any(norms[j] in _SPEAKERS for j in range(p + 1, nxt))
            and part in t.tokens.stems[max(0, nxt - PART_REACH) : nxt + 1 + PART_REACH]
        ):
            return True  # "not the right knee (but) the left knee", "não é o direito, é o esquerdo"
    return False


def _one_side_denied(t: Transcript, n: int, part: str) -> bool:
    """Is "both" (side mention `n`) taken back shortly after by denying the part on one
    side in its own clause ("both of your knees hurt?" — "my left knee doesn't really
    hurt")? The later word wins: the other side is no longer the patient's by "both"."""
    sp = t.side_at[n][0]
    stems = t.tokens.stems
    for m in range(n + 1, len(t.side_at)):
        p, said = t.side_at[m]
        if p - sp > BOTH_REACH:
            break
        if said == "B":
            continue
        for j in range(max(0, p - PART_REACH), min(len(stems), p + PART_REACH + 1)):
            if stems[j] == part and denied_mention(t, j):
                return True
    return False


def _corrects(tokens: Tokens, sp: int, nxt: int, part: str) -> bool:
    """Does the other side at token `nxt` correct the side at `sp` for `part`? A slip
    before its part was said ("your left of your right knee sorry"), or one whose words
    the speaker says again with the other side ("left leg pain . right leg pain");
    not one side's finding and then the other's ("your right wrist is swollen . your
    left wrist moves well")."""
    norms, stems = tokens.norms, tokens.stems
    between = [j for j in range(sp + 1, nxt) if norms[j] not in _REPAIR_WORDS]
    if len(between) >= REPAIR_REACH:
        return False
    if any(norms[j] in _JOINERS or norms[j] in _SPEAKERS for j in range(sp + 1, nxt)):
        return False  # "left and right", or the other speaker's answer
    if part not in stems[nxt + 1 : nxt + 1 + PART_REACH]:
        return False
    said = [stems[j] for j in between]
    if part not in said:
        return True
    again = [
        stems[j]
        for j in range(nxt + 1, min(len(stems), nxt + 1 + 2 * REPAIR_REACH))
        if norms[j] not in _REPAIR_WORDS
    ]
    return again[: len(said)] == said


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
    if t.side_at[n][1] == "B":
        # "Both" taken back on one side stands no longer for a complaint or finding on
        # that side; a statement denying it agrees with the taking back.
        return not normal_or_denied(note) and _one_side_denied(t, n, part)
    return _aside(t, n, part) and not copies_sentence(t, t.side_at[n][0], note, k)


def copies_sentence(t: Transcript, p: int, note: Tokens, k: int) -> bool:
    """Does the statement, its side at note token `k`, copy nearly whole the transcript
    sentence of the side at token `p` (COPY_SHARE of its words at the same offsets)?"""
    sid = t.sentence_of[p]
    first = t.first_token[sid]
    end = t.first_token[sid + 1] if sid + 1 < len(t.first_token) else len(t.tokens)
    # The sentence's words in the note at the same offsets (bounded by the note).
    shift, norms = k - p, t.tokens.norms
    same = sum(
        note.norms[j + shift] == norms[j]
        for j in range(max(first, -shift), min(end, len(note.norms) - shift))
    )
    return same >= COPY_SHARE * (end - first - (norms[first] in _SPEAKERS))


def meant_for(t: Transcript, p: int, *, part: str, note: Tokens, k: int) -> bool:
    """Is the side at transcript token `p` meant for `part` (not set aside, nor denied
    as the part's: "não é o joelho direito")?"""
    if denied_side(t.tokens.norms, p):
        return False
    n = bisect_left(t.side_at, (p, ""))
    if not part or n >= len(t.side_at) or t.side_at[n][0] != p:
        return True
    return not set_aside(t, n, part, note, k)
