"""What a side's mention in the transcript is matched with: the statement's words as the
transcript says them, and whether the mention is denied in its own clause.

A note writes "a history of a left leg injury" where the doctor said "you have injured
your left leg", and "left knee exam is normal" where he said "your left knee looks fine":
the word family ("injury"/"injured") and the plain words said for a clinical one
("normal" → "fine") are what tie the statement to the right clause. A patient denies a
side's finding after naming it ("my left knee doesn't really hurt") or before it ("no, I
don't have any problems with my right hand"): the note's denial matches that mention.
And "both" in a note is judged by the same clauses: only a clear one of a side the
statement does not itself name contradicts it."""

from __future__ import annotations

from typing import Final

from delphos.evidence.lexicon import AMBIGUOUS_SIDES, SIDES
from delphos.evidence.scope import NEGATED, is_neg_cue
from delphos.evidence.synonyms import SAID_AS
from delphos.evidence.text import Tokens
from delphos.evidence.transcript import Transcript, not_a_side

# Stems sharing this many first letters are one word family ("injur": injury, injured,
# injuries); shorter stems are their own family ("pain" is not "paint").
FAMILY_PREFIX: Final = 5
# A word said for the note's word counts this much of the word itself.
SAID_AS_WEIGHT: Final = 0.75
# Tokens: how far after the part a denial of it may come ("knee does n't really hurt"),
# and how far before it, in the same clause ("no i do n't seem to have any problems with
# my right hand").
DENIAL_AFTER: Final = 4
DENIAL_BEFORE: Final = 10
# A normal finding, as a note writes it.
_NORMAL: Final = frozenset(
    "normal normally unremarkable intact fine negative symmetric symmetrical wnl "
    "normais intacto intacta integro integra negativo negativa simetrico simetrica".split()
)
# Words that end the clause a denial reaches across.
_CLAUSE_CUTS: Final = frozenset("but however though although mas porem".split())
# What may stand between a part and the cue denying it ("knee does n't", "hand is not",
# "joelho não"): its verb and an adverb. Anything else is the next clause's ("left
# adnexal mass and there is no mass on the right").
_BEFORE_CUE: Final = frozenset("is are was were does do did has have had really s esta".split())


def _families(t: Transcript) -> dict[str, list[str]]:
    """The transcript's stems by their first FAMILY_PREFIX letters (built once)."""
    if t.families is None:
        found: dict[str, list[str]] = {}
        for word in t.stem_at:
            if len(word) >= FAMILY_PREFIX:
                found.setdefault(word[:FAMILY_PREFIX], []).append(word)
        t.families = found
    return t.families


def clause_words(t: Transcript, note: Tokens, skip: frozenset[str]) -> dict[str, float]:
    """The transcript stems a statement's clause is matched with, by weight: its own
    stems the transcript says and the transcript's stems of the same family, in full;
    the stems of what speech says for its clinical words (synonyms.SAID_AS), at
    SAID_AS_WEIGHT ("fine" is said of many things "normal" is not). `skip`: stems that
    are no content (the sides)."""
    said = t.stem_at
    out: dict[str, float] = {}
    families = _families(t)
    for k, word in enumerate(note.stems):
        if not word or word in skip or note.norms[k] in skip:
            continue
        if word in said:
            out[word] = 1.0
        if len(word) >= FAMILY_PREFIX:
            for member in families.get(word[:FAMILY_PREFIX], ()):
                out[member] = 1.0
        for alternative in SAID_AS.get(note.norms[k], ()):
            for w in alternative:
                if w in said:
                    out.setdefault(w, SAID_AS_WEIGHT)
    return out


def normal_or_denied(note: Tokens) -> bool:
    """Does the statement report something normal or denied ("left testicle normal",
    "no masses on the right", "does not need further medication")?"""
    norms = note.norms
    return any(w in _NORMAL or is_neg_cue(norms, j, note.portuguese) for j, w in enumerate(norms))


def both_contradicted(note: Tokens, best: dict[str, float], clear: float, margin: float) -> bool:
    """Is the note's "both" ("bilateral") contradicted by the transcript's mentions of
    the part (`best`: side → clause match)? Only by a clear match of one side's clause,
    `margin` times that of "both" or the other side, for a side the statement does not name
    itself ("Bilateral hip exam: range of motion is decreased in the right hip"): one
    side's finding said alone ("a lump under my left breast") is no denial of the
    other's."""
    mine = best.get("B", -1.0)
    if {"L", "R"} <= set(best):
        mine = max(mine, min(best["L"], best["R"]))
    named = {
        SIDES[w]
        for j, w in enumerate(note.norms)
        if w in SIDES and not (w in AMBIGUOUS_SIDES and not_a_side(note.norms, j))
    }
    return any(
        s != "B" and s not in named and v >= max(clear, margin * mine) for s, v in best.items()
    )


def denied_mention(t: Transcript, pos: int) -> bool:
    """Is the body part at transcript token `pos` denied in its clause: marked denied,
    or a negation cue shortly after it or before it in the same clause and sentence?"""
    if t.mark(pos) == NEGATED:
        return True
    norms, portuguese = t.tokens.norms, t.tokens.portuguese
    sid = t.sentence_of[pos]
    for j in range(pos + 1, min(len(norms), pos + 1 + DENIAL_AFTER)):
        if is_neg_cue(norms, j, portuguese):
            return t.sentence_of[j] == sid
        if norms[j] not in _BEFORE_CUE and norms[j] not in SIDES:
            break  # a side after its part: "o joelho esquerdo não dói"
    for j in range(pos - 1, max(-1, pos - 1 - DENIAL_BEFORE), -1):
        if t.sentence_of[j] != sid or norms[j] in _CLAUSE_CUTS:
            break
        if is_neg_cue(norms, j, portuguese):
            return True
    return False
