"""Negation: the note denies what the transcript affirms, or asserts what it denies.

The note's statement is cut into findings (runs of content words between separators),
each negated or not (a cue scopes forward over a list until a terminator — NegEx /
ConText). Each finding is looked up in the transcript sentences that share most of its
words; the polarity said there (a cue before it, or the answer to a question about it)
is compared with the note's, by the majority of the best-matching sentences: a
transcript that says both as often is not a contradiction the checker can see."""

from __future__ import annotations

import math
from bisect import bisect_left
from typing import Final

from delphos.evidence.answers import Polarity
from delphos.evidence.check import Check
from delphos.evidence.copied import align, same_negation
from delphos.evidence.lexicon import SIDES, VISIT_WORDS
from delphos.evidence.scope import AFFIRMED, NEGATED, is_neg_cue
from delphos.evidence.support import label_end
from delphos.evidence.text import Tokens
from delphos.evidence.transcript import Transcript, asks

# Share of a finding's (weighted) words a transcript sentence must hold to speak of it.
MATCH_SHARE: Final = 0.6
# Sentences either side of a mention that may hold the rest of a finding no one sentence
# holds ("i looked at your x-rays . there are no fractures .").
SPREAD: Final = 1
# Tokens either side of a mention where the statement's other words are sought.
NEAR: Final = 4
# … and where a qualifier of the note's denial is sought (the finding's other words
# may stand between: "my knee has some pain when i am running").
WIDE: Final = 2 * NEAR
# Mentions of a finding's word weighed, at most, in the sentences that best match it. In
# ACI-Bench's dialogues (up to 14,000 characters) a finding has at most 32, so some 250
# at 100,000; a transcript that repeats one sentence thousands of times would otherwise
# cost that many looks for every statement about it.
MAX_MENTIONS: Final = 500
# Tokens before a finding where its own side is said ("the left knee").
SIDE_BEFORE: Final = 2
# "at this time", "for a long time": when, not what ("every time he eats" is when too,
# but it is said with what it qualifies).
_TIMES: Final = frozenset("time tempo".split())
# "no evidence of hydronephrosis" denies hydronephrosis, said or not with "evidence".
_EVIDENCE: Final = frozenset({"evidence", "evidencia"})
_TIME_DETERMINERS: Final = frozenset("this that long same esse este muito mesmo".split())


def check_negations(check: Check) -> None:
    t, tokens = check.transcript, check.note
    if tokens.norms and asks(tokens.norms, 0, len(tokens) - 1):
        return  # a question copied without its "?" asserts nothing
    sentences = t.sentence_count or 1
    copied: list[tuple[int, int]] | None = None
    # A label ("SKIN:", "Auscultation of Heart:") names what follows; it asserts nothing.
    first = label_end(tokens)
    # "No pain with strength testing": a denial narrowed by what follows "with" is
    # contradicted only where those words are said, not by any pain.
    findings, narrowing = check.findings(), check.narrowing()
    # The statement's words, the same for each of its findings: worked out once, on first
    # use (most statements never get that far).
    own_words: set[str] | None = None
    for negated, cue, found in findings:
        # Nor is the scribe's account of the visit ("all questions were answered") a
        # finding the transcript could deny ("do you have any questions?"), nor a time
        # ("at this time", "for a long time").
        members = [
            k
            for k in found
            if k >= first
            and tokens.norms[k] not in VISIT_WORDS
            and tokens.norms[k] not in _EVIDENCE
            and not _when(tokens.norms, k)
        ]
        if not members:
            continue
        if _heading(tokens, members[-1]):
            continue  # "Medical Reasoning:", "Neck:": what follows is the statement
        # Words the transcript never uses ("alta" in "febre alta") cannot place a finding.
        # A letter alone ("x" of "oriented x3") names nothing.
        words = list(dict.fromkeys(tokens.stems[k] for k in members if len(tokens.stems[k]) > 1))
        stems = [w for w in words if w in t.stem_at]
        if not stems:
            continue
        weights = {s: math.log(1 + sentences / len(t.stem_at[s])) for s in stems}
        # A word the transcript never uses weighs as the rarest.
        total = sum(weights.values()) + (len(words) - len(stems)) * math.log(1 + sentences)
        # Sentence → weight of the finding's words in it.
        score: dict[int, float] = {}
        for s in stems:
            weight = weights[s]
            for sid in t.sentences_of(s):
                score[sid] = score.get(sid, 0.0) + weight
        top = max(score.values())
        qualifier = {tokens.stems[k] for k in narrowing.get(found[0], ())} if negated else set()
        qualifier.discard("")
        # "no pain to palpation of the lateral aspect" is not contradicted by pain to
        # palpation of the medial aspect: every qualifier word must be said around.
        qualifying = len(qualifier)
        said: Polarity = "affirmed" if negated else "negated"
        mine: Polarity = "negated" if negated else "affirmed"
        votes = {"negated": 0.0, "affirmed": 0.0}
        heard_at = -1
        # A denial qualified by a word never said ("no extra heart sounds") is not
        # contradicted by the rest said ("your heart sounds good").
        qualified = negated and len(stems) < len(words)
        if (top >= MATCH_SHARE * total and not qualified) or (
            not negated and top >= MATCH_SHARE * sum(weights.values())
        ):
            # The mentions of the finding's rarest word in the best-matching sentences:
            # the polarity said in the sentence most like the whole statement wins (the
            # sentence a note copied outweighs any number of passing mentions); a tie
            # says nothing. (Part of the finding never said: denying "weight loss" is not
            # contradicted by "the weight of the boxes"; asserting "febre alta" is, by
            # "não tenho febre": an assertion is checked against an explicit denial of
            # the words said.)
            head = max(stems, key=weights.__getitem__)
            similar = check.sentence_weights()
            whole = top >= MATCH_SHARE * total
            # Sentences as like the statement: the mention with more of its words (and
            # its side) right around it, two at least ("pain in the right elbow" against
            # "no pain in the left elbow" in the same turn).
            close: dict[str, tuple[float, float]] = {}
            example: dict[str, int] = {}
            if own_words is None:
                own_words = _words(tokens)
            statement = own_words | _sides(tokens, members)
            weighed = 0
            for pos in t.stem_at[head]:
                sid = t.sentence_of[pos]
                if score[sid] < top - 1e-9:
                    continue
                weighed += 1
                if weighed > MAX_MENTIONS:
                    break
                polarity = t.polarity(pos) if whole else _stated(t, pos)
                if negated and polarity == "affirmed" and _denied_beside(t, pos, stems):
                    polarity = "negated"  # "your lower extremities have no edema"
                if not negated and polarity == "negated" and t.narrowed(pos, statement):
                    polarity = "unknown"  # "no pain with palpation" is not "no pain"
                if (
                    qualifier
                    and polarity == "affirmed"
                    and _around(t, pos, qualifier, WIDE) < qualifying
                ):
                    polarity = "unknown"  # "pain" is not "pain with strength testing"
                if polarity != "unknown":
                    weight = similar.get(sid, 0.0)
                    votes[polarity] = max(votes[polarity], weight)
                    rank = (weight, _around(t, pos, statement))
                    if rank >= close.get(polarity, (-1.0, -1.0)):
                        close[polarity], example[polarity] = rank, pos
            theirs, ours = close.get(said, (-1.0, -1.0)), close.get(mine, (-1.0, -1.0))
            if theirs[0] > ours[0] or (theirs[0] == ours[0] and theirs[1] >= max(2, ours[1] + 1)):
                heard_at = example[said]
        if heard_at < 0 and votes[mine] == 0:
            # No one sentence holds the finding, or those that do never say it with the
            # note's polarity: "i looked at your x-rays . there are no fractures ." A
            # denial of a part of an asserted finding contradicts it wherever the rest
            # of its words are said around (and the note's denial, an assertion of it).
            heard_at = _spread(t, negated, words, weights, total)
            if heard_at >= 0 and qualifier and _around(t, heard_at, qualifier, WIDE) < qualifying:
                heard_at = -1
        if heard_at < 0:
            continue
        # A statement copied from one stretch of the transcript says what that stretch
        # says: judged there, word for word, not against the sentences most like it.
        if copied is None:
            copied = align(t, tokens)
        start = cue if negated and cue >= 0 else members[0]
        if copied and same_negation(t, tokens, copied, start, members[-1]):
            continue
        shown = check.snippet(start, members[-1])
        heard = check.said(heard_at)
        if negated:
            message = f'The note denies "{shown}", but the transcript affirms it: "{heard}".'
        else:
            message = f'The note asserts "{shown}", but the transcript denies it: "{heard}".'
        check.flag("negation", shown, message)


def _words(tokens: Tokens) -> set[str]:
    """The statement's words, less its cues: "not" beside the transcript's "not the right
    knee" says nothing of which knee the note's "it's the left knee" is."""
    norms, portuguese = tokens.norms, tokens.portuguese
    return {w for k, w in enumerate(tokens.stems) if w and not is_neg_cue(norms, k, portuguese)}


def _sides(tokens: Tokens, members: list[int]) -> set[str]:
    """The sides said with a finding ("the left knee" of "not the right knee it's the left
    knee"), else every side of the statement."""
    norms = tokens.norms
    own = {norms[k] for k in range(max(0, members[0] - SIDE_BEFORE), members[-1] + 1)}
    said = {w for w in norms if w in SIDES}
    return (own & said) or said


def _when(norms: list[str], k: int) -> bool:
    """Is note token `k` the "time" of "at this time", "for a long time"?"""
    return norms[k] in _TIMES and k > 0 and norms[k - 1] in _TIME_DETERMINERS


def _around(t: Transcript, pos: int, statement: set[str], reach: int = NEAR) -> int:
    """How many of the statement's words (and sides) the transcript says within `reach`
    tokens of `pos`, in its sentence: a bounded look, whatever the transcript's size."""
    sid = t.sentence_of[pos]
    stems, norms = t.tokens.stems, t.tokens.norms
    found: set[str] = set()
    for k in range(max(0, pos - reach), min(len(stems), pos + reach + 1)):
        if k == pos or t.sentence_of[k] != sid:
            continue
        if stems[k] in statement:
            found.add(stems[k])
        elif norms[k] in statement:
            found.add(norms[k])
    return len(found)


def _denied_beside(t: Transcript, pos: int, stems: list[str]) -> bool:
    """Is another of the finding's words denied within NEAR tokens of `pos`, in its
    sentence? "your lower extremities have no edema" denies "lower extremity edema"
    though "extremities", before the cue, is no part of the denial."""
    sid = t.sentence_of[pos]
    words = set(stems)
    for k in range(max(0, pos - NEAR), min(len(t.tokens), pos + NEAR + 1)):
        if t.sentence_of[k] == sid and t.mark(k) == NEGATED and t.tokens.stems[k] in words:
            return True
    return False


def _heading(tokens: Tokens, last: int) -> bool:
    """Does a colon follow the finding ending at token `last`?"""
    after = tokens.starts[last + 1] if last + 1 < len(tokens) else len(tokens.text)
    return ":" in tokens.text[tokens.ends[last] : after]


def _stated(t: Transcript, pos: int) -> Polarity:
    """The polarity said at `pos` in so many words: no answer to a question counts ("any
    questions ? no ." does not deny that "questions were answered")."""
    if t.mark(pos) == NEGATED:
        return "negated"
    if t.mark(pos) == AFFIRMED and not t.is_question(t.sentence_of[pos]):
        return "affirmed"
    return "unknown"


def _covered(t: Transcript, pos: int, weights: dict[str, float]) -> float:
    """The weight of a finding's words said in the sentences around token `pos`."""
    sid = t.sentence_of[pos]
    lo = t.first_token[max(0, sid - SPREAD)]
    after = sid + SPREAD + 1
    hi = t.first_token[after] if after < len(t.first_token) else len(t.tokens)
    covered = 0.0
    for word, weight in weights.items():
        found = t.stem_at[word]
        k = bisect_left(found, lo)
        if k < len(found) and found[k] < hi:
            covered += weight
    return covered


def _spread(
    t: Transcript, negated: bool, words: list[str], weights: dict[str, float], total: float
) -> int:
    """Where the transcript contradicts a finding no one sentence holds (-1: nowhere).
    A finding of the transcript made of the note's words only (a part of the note's),
    said with the rest of the note's words in the sentences around it, with the other
    polarity: for a note's denial, the part holding its first word (what "no" denies in
    "no fractures seen on x-ray"); for an assertion, any part ("x-rays show fractures" is
    contradicted by "no fractures", said after "i looked at your x-rays"). The same
    words said with the note's polarity, as fully, leave it undecided."""
    finding = set(words)
    mine: Polarity = "negated" if negated else "affirmed"
    heads = [next(w for w in words if w in weights)] if negated else list(weights)
    need = MATCH_SHARE * total
    best, at = 0.0, -1
    said: set[str] = set()
    # Said, not answered: "any questions ? no ." denies having questions, not that they
    # "were answered"; what a part is, is read from the words of one spoken clause.
    against_mark = AFFIRMED if negated else NEGATED
    for head in heads:
        for pos in t.stem_at[head]:
            members = t.part(pos)
            if members is None or t.mark(pos) != against_mark or t.is_question(t.sentence_of[pos]):
                continue
            if not negated and t.narrowed(pos, finding):
                continue  # a denial narrowed by words the note does not say
            part = {t.tokens.stems[k] for k in members}
            if not part <= finding:
                continue
            covered = _covered(t, pos, weights)
            if covered >= need and covered > best:
                best, at = covered, pos
                said |= part
    if at < 0:
        return -1
    for word in said:
        for pos in t.stem_at[word]:
            if t.mark(pos) != against_mark and t.polarity(pos) == mine:
                if _covered(t, pos, weights) >= best:
                    return -1
    return at
