"""What the answer to a question says about the finding it asked of.

A clinician asks a list ("chest pain ? shortness of breath ? abdominal pain ?") and the
patient answers it once ("no ."); or the answer opens with a filler and a short verb
("uh , i have not .", "i have"); or it names the finding itself ("no fever , some
chills"): the finding's mention there says what was answered.

Each lookup reads a few sentences after the question and bisects the index: constant
work per mention, whatever the transcript's length."""

from __future__ import annotations

from bisect import bisect_left
from typing import TYPE_CHECKING, Final, Literal

from delphos.evidence.lexicon import ANSWER_NO, ANSWER_YES
from delphos.evidence.scope import AFFIRMED, NEGATED, is_neg_cue

if TYPE_CHECKING:
    from delphos.evidence.transcript import Transcript

Polarity = Literal["affirmed", "negated", "unknown"]

# Questions asked in a row before one answer: the answer is to all of them.
QUESTION_RUN: Final = 4
# Words of an answer's opening read for its yes or no (after tags and fillers).
OPENING: Final = 4
_TAGS_AND_FILLERS: Final = frozenset(
    "doctor patient medico paciente um uh er ah oh hmm mm well so".split()
)
# What may open a question before its first word that matters.
_LEADS: Final = _TAGS_AND_FILLERS | frozenset("and okay ok alright right e".split())
_LIST_OPENERS: Final = (["how", "about"], ["what", "about"], ["e", "quanto"])
_FULL_OPENERS: Final = frozenset(
    """do does did are is was were have has had can could will would should what how when
    where why who which tem teve esta voce como quando onde qual""".split()
)
_SUBJECTS: Final = frozenset("i we eu nos".split())
_SHORT_VERBS: Final = frozenset("have has do did am was had does tenho tive estou".split())
# "any chest pain" in a sentence that is no question by its form is asked all the same.
_ASKING_WORDS: Final = frozenset("any anything algum alguma".split())
# "any joint pain fever weight loss", "anything like numbness or tingling", "any other
# symptoms like a cough": "any" asks of
# each finding of the list it opens, over the list's own words and these.
_LIST_WORDS: Final = frozenset("or and like other in your of a an ou e".split())
ASK_LIST_REACH: Final = 12
# "not with you but i did around 2009", "no i have n't . i did about three years ago": a
# no taken back by "i did" in the same turn answers neither way (the note may say when).
TAKEN_BACK_REACH: Final = 12
_SAYERS: Final = frozenset("i we she he eu".split())
_DONE: Final = frozenset("did have had do was tive tenho".split())
_SUPPOSING: Final = frozenset("wish if se".split())  # "no , but i wish i had": no taking back
_NOT_DONE: Final = frozenset("n t not never nao".split())
# "i do n't know", "not sure", "não sei": a denial of knowing answers neither way.
_UNSURE: Final = frozenset("know remember recall sure sei lembro".split())
UNSURE_REACH: Final = 2


def answer_sentence(t: Transcript, sid: int) -> int:
    """The sentence answering question `sid`: the next one, or for an item of a list
    ("chest pain ?", "any recent flare ups ?") the first after it that is no question,
    over a run of at most QUESTION_RUN questions; -1 if none. A full question ("are you
    eating okay ?") followed by another is not what the answer after both answers."""
    j = sid + 1
    listed = _listed(t, sid)
    while j < t.sentence_count and t.is_question(j):
        if j - sid >= QUESTION_RUN or not listed:
            return -1
        j += 1
    return j if j < t.sentence_count else -1


def _listed(t: Transcript, sid: int) -> bool:
    """Is question `sid` asked as an item of a list: no verb of asking and no "you"
    opening it ("shortness of breath ?", "any nausea ?", "how about fatigue ?")?"""
    norms = t.tokens.norms
    first = t.first_token[sid]
    last = t.first_token[sid + 1] if sid + 1 < len(t.first_token) else len(norms)
    opening = [w for w in norms[first : min(last, first + OPENING + 2)] if w not in _LEADS]
    if not opening or opening[0] in _ASKING_WORDS or opening[:2] in _LIST_OPENERS:
        return True
    return opening[0] not in _FULL_OPENERS and "you" not in opening and "voce" not in opening


def asked(t: Transcript, pos: int) -> bool:
    """Is the mention at `pos` asked: in a question, or after "any" with no cue in a
    sentence ASR left without its question form ("let's talk about other symptoms any
    joint pain fever weight loss")?"""
    if t.is_question(t.sentence_of[pos]):
        return True
    if t.mark(pos) != AFFIRMED:
        return False  # "if you have any questions": not asked, supposed
    norms, stems = t.tokens.norms, t.tokens.stems
    for k in range(pos - 1, max(-1, pos - 1 - ASK_LIST_REACH), -1):
        if norms[k] in _ASKING_WORDS:
            return t.sentence_of[k] == t.sentence_of[pos]
        if not stems[k] and norms[k] not in _LIST_WORDS:
            return False  # only the list's words stand between "any" and it
    return False


def _topic(t: Transcript, pos: int) -> bool:
    """Is the mention at `pos` the topic of a question asking, after a comma, of
    something else ("how about your epilepsy , any seizures recently ?"): the answer is
    to what "any" asks, not to the topic? A mention itself asked by an earlier "any"
    ("any fever , any chills ?") is no topic."""
    norms, text = t.tokens.norms, t.tokens.text
    starts, ends = t.tokens.starts, t.tokens.ends
    sid = t.sentence_of[pos]
    first = t.first_token[sid]
    for k in range(pos - 1, max(first, pos - ASK_LIST_REACH) - 1, -1):
        if norms[k] in _ASKING_WORDS:
            return False
    last = min(len(norms), pos + ASK_LIST_REACH + 1)
    for k in range(pos + 1, last):
        if t.sentence_of[k] != sid:
            return False
        if norms[k] in _ASKING_WORDS:
            return "," in text[ends[k - 1] : starts[k]]
    return False


def answered(t: Transcript, pos: int) -> Polarity:
    """The polarity the answer gives the finding asked at token `pos`."""
    answer = answer_sentence(t, t.sentence_of[pos])
    if answer < 0 or _topic(t, pos):
        return "unknown"
    norms = t.tokens.norms
    start = t.first_token[answer]
    end = t.first_token[answer + 1] if answer + 1 < len(t.first_token) else len(norms)
    # The answer names the finding: its mention there says it ("no fever , some chills").
    found = t.tokens.stems[pos] and t.stem_at.get(t.tokens.stems[pos])
    if found:
        k = bisect_left(found, start)
        if k < len(found) and found[k] < end:
            mark = t.mark(found[k])
            if mark == NEGATED:
                return "negated"
            if mark == AFFIRMED:
                return "affirmed"
            # Named but neither said nor denied ("no , but i wish i had some weight
            # loss"): the answer's opening says it.
    k = start
    while k < end and norms[k] in _TAGS_AND_FILLERS:
        k += 1
    opening = range(k, min(end, k + OPENING))
    for j in opening:
        word = norms[j]
        if word in ANSWER_NO or is_neg_cue(norms, j, t.tokens.portuguese):
            if not _UNSURE.isdisjoint(norms[j + 1 : min(end, j + 1 + UNSURE_REACH)]):
                return "unknown"  # "i do n't know if that's a bad habit": no answer
            if _taken_back(t, answer, j):
                return "unknown"  # "no i have n't . i did about three years ago"
            # "no fever some chills … i do feel a little nauseous": a "no" naming what
            # it denies is that finding's, not a no to every finding asked.
            named = (
                j + 1 < end
                and t.mark(j + 1) == NEGATED
                and bool(t.tokens.stems[j + 1])
                and t.tokens.text[t.tokens.ends[j] : t.tokens.starts[j + 1]] == " "
            )
            return "unknown" if named else "negated"
        if word in ANSWER_YES:
            return "affirmed"
        if j == k and word in _SUBJECTS:
            continue
        if j == k + 1 and norms[k] in _SUBJECTS and word in _SHORT_VERBS:
            # "i have ." is a yes; "i have not", "i do n't" a no (read on); "i have been
            # taking ibuprofen" answers something else.
            rest = [w for w in norms[j + 1 : min(end, j + 3)]]
            if not rest:
                return "affirmed"
            continue
        break
    return "unknown"


def _taken_back(t: Transcript, answer: int, j: int) -> bool:
    """Does the turn answering with a no at token `j` go on to "i did" or "i have"
    (its own sentence, and the next one if no speaker opens it)?"""
    norms = t.tokens.norms
    end = t.first_token[answer + 1] if answer + 1 < len(t.first_token) else len(norms)
    if end < len(norms) and norms[end] not in ("doctor", "patient", "medico", "paciente"):
        nxt = answer + 2
        end = t.first_token[nxt] if nxt < len(t.first_token) else len(norms)
    last = min(end, j + 1 + TAKEN_BACK_REACH)
    for k in range(j + 1, last - 1):
        if norms[k] in _SAYERS and norms[k + 1] in _DONE and norms[k - 1] not in _SUPPOSING:
            if k + 2 >= len(norms) or norms[k + 2] not in _NOT_DONE:
                return True
    return False
