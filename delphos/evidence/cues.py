"""What the words beside a negation cue make of it and of the clause it opens: a "no"
answering a question, a pseudo-negation ("not limited to"), a denied wish or advice, and
a new subject after a denied finding in speech that has no punctuation."""

from __future__ import annotations

from typing import Final

from delphos.evidence.lexicon import NEG_CONTRACTION_HEADS, NEG_PRE, SIDES
from delphos.evidence.text import Tokens

AUXILIARIES: Final = frozenset("has have had is was been tem teve esta estava".split())

# "no the weight loss has decreased the pain", "no it's fine", "no just a headache":
# "no" before these is the answer to what was asked, not a determiner of a finding.
_AFTER_ANSWER_NO: Final = frozenset(
    """the it that this these those just really actually basically literally well so okay
    ok alright not""".split()
)
# "not limited to continued pain", "not only the knee", "no doubt": these say what
# follows is there (NegEx's pseudo-negations).
_PSEUDO: Final = frozenset("limited only doubt apenas".split())


def is_neg_cue(norms: list[str], i: int, portuguese: bool = False) -> bool:
    word = norms[i]
    after = norms[i + 1] if i + 1 < len(norms) else ""
    if after in _PSEUDO or (word == "no" and after in _AFTER_ANSWER_NO):
        return False
    if word == "free" and after == "to":  # "feel free to contact the office"
        return False
    if word in NEG_PRE:
        return not (portuguese and word == "no")
    split = after == "t"  # "don't", "do n't": the word after the cue follows the "t"
    if split and i + 2 < len(norms) and norms[i + 2] in _PSEUDO:
        return False
    if word in NEG_CONTRACTION_HEADS:
        return word.endswith("t") or split
    # ASR writes "do n't", "is n't": the cue is the lone "n" before "t".
    return word == "n" and split


# "he did n't wan na do surgery", "i do n't necessarily recommend gummies", "i would
# recommend not skiing": a denied wish or advice (or advice to abstain) says nothing of
# whether its object is there, as a condition does not.
_ADVICE: Final = frozenset(
    """want wan wanna wanted recommend recommended suggest suggested advise advised
    quero queria recomendo sugiro aconselho""".split()
)
ADVICE_REACH: Final = 3
# "do not have any siblings and , thankfully , my children are healthy": a possessive
# after a comma, its verb right after it, is a new subject ("my children are"), not the
# next item of the list denied ("no , uh , your , uh , neck surgery").
_POSSESSIVES: Final = frozenset("my your his her our their meu minha seu sua".split())
_PREDICATES: Final = AUXILIARIES | frozenset(
    """are were do does did isn aren wasn weren doesn don didn hasn haven s seem seems
    look looks sound sounds feel feels sao estao""".split()
)
# "no rebound or guarding and your right knee does show an effusion", "negative margins
# and the lymph nodes removed were benign": after a list's joint, "the" opens a subject
# as a possessive does; its noun phrase (content words, numbers) may run this far.
OWNERS: Final = _POSSESSIVES | frozenset({"the"})
_JOINTS: Final = frozenset({"and", "or", "e", "ou"})
NOUN_PHRASE_REACH: Final = 5
# "your straight leg raise test is negative your reflexes are normal": a cue said after
# its finding ends it; a possessive right after it, its verb close, opens a new subject
# as after a comma.
_AFTER_FINDING: Final = frozenset({"negative"})


# "no tenderness to palpation", "no adjustments to your metformin", "no problems in
# rehab": these narrow a denial as "with" does, when what follows is a noun (after "to":
# a determiner or a noun's ending; "in": after a finding as vague as "problems"). Not
# "on": "no bruits on your neck exam" denies bruits wherever the exam was.
PREPOSITIONS: Final = frozenset({"to", "in"})
_NOUN_ENDINGS: Final = ("tion", "sion", "ment")
QUALIFIED_MOST: Final = 3
_ARTICLES: Final = frozenset({"a", "an", "this", "that"})
_VAGUE: Final = frozenset("problem problems issue issues trouble difficulty concerns".split())
# "margins were negative", "has been ruled out": a denial said after its finding's verb.
_AFTER_VERB: Final = frozenset("is are was were been be".split())
AFTER_VERB_REACH: Final = 3
SAID_AFTER: Final = frozenset(
    "negative ruled excluded negativo negativa descartado descartada".split()
)

# "it is nondistended", "that's fine": a pronoun with its verb opens a new clause.
DEMONSTRATIVES: Final = frozenset({"it", "that", "this"})
COPULAS: Final = frozenset("is are was were".split())
_POINTED: Final = COPULAS | {"s"}  # "it's", "that's" ("murphy's sign" is no verb)

# Speech's fillers that look like a subject and its verb.
_FILLERS: Final = frozenset({("you", "know"), ("i", "mean")})
FILLER_HEADS: Final = frozenset(head for head, _ in _FILLERS)


def opens_clause(tokens: Tokens, k: int, gap: str) -> bool:
    """Can the owner word at `k` open a new clause after a denied finding: after a comma,
    a joint ("and your …"), a finding's last word ("no fever your blood pressure …") or a
    cue said after its finding ("… is negative your reflexes …")?"""
    before = tokens.norms[k - 1]
    if tokens.norms[k] == "the":
        return "," in gap or before in _JOINTS
    return "," in gap or before in _AFTER_FINDING or before in _JOINTS or bool(tokens.stems[k - 1])


def subject(tokens: Tokens, k: int) -> bool:
    """Is the owner word at `k` followed by a noun phrase and its verb ("your blood
    pressure and heart rate are fine", "the 5 lymph nodes removed were benign")?"""
    norms, stems, values = tokens.norms, tokens.stems, tokens.values
    for j in range(k + 1, min(len(norms), k + 2 + NOUN_PHRASE_REACH)):
        if norms[j] in _PREDICATES:
            return j > k + 1
        if not (stems[j] or j in values or norms[j] in SIDES or norms[j] in _JOINTS):
            return False
    return False


def advice(norms: list[str], k: int) -> int:
    """The wish or advice the cue at `k` denies or gives ("did n't wan na", "recommend
    not"), by its token; -1 if none."""
    for j in range(max(0, k - 2), min(len(norms), k + 1 + ADVICE_REACH)):
        if j != k and norms[j] in _ADVICE:
            return j
    return -1


def prepositional(norms: list[str], k: int, finding: list[str]) -> bool:
    """Does the preposition at `k` open a qualifier of the denied `finding` before it?"""
    after = norms[k + 1] if k + 1 < len(norms) else ""
    if len(finding) > QUALIFIED_MOST:
        return False  # speech run on past its finding ("no bruit looking at your listening to")
    if norms[k] == "in":
        return bool(finding) and all(w in _VAGUE for w in finding)
    return after in OWNERS or after in _ARTICLES or after.endswith(_NOUN_ENDINGS)


def said_after(norms: list[str], k: int) -> bool:
    """Is the word at `k` a denial said after its finding and verb ("were negative",
    "been ruled out"), not one opening a scope ("negative for strep")?"""
    word, after = norms[k], norms[k + 1] if k + 1 < len(norms) else ""
    if word not in SAID_AFTER or norms[k - 1] not in _AFTER_VERB or after in ("for", "para"):
        return False
    return word != "ruled" or after == "out"


def pointing(norms: list[str], k: int) -> bool:
    """Is the pronoun at `k` the subject of the verb after it ("it is", "that's")?"""
    return norms[k] in DEMONSTRATIVES and k + 1 < len(norms) and norms[k + 1] in _POINTED


def filler(norms: list[str], k: int) -> bool:
    """Is the word at `k` a filler's ("you know", "i mean"), no subject?"""
    return k + 1 < len(norms) and (norms[k], norms[k + 1]) in _FILLERS
