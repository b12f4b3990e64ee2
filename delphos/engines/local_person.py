"""The clinician's words to the patient, spoken of in the third person, by fixed rules.

A note is about the patient, not to them: "I think you have a sprain" is written "I
think the patient has a sprain". These rules are the only rewording the local engine
does to a clinician's sentence (English only), each a fixed, tested table entry:

1. A request's lead is dropped, leaving the order: "I want you to continue the lasix" →
   "continue the lasix"; also "I'd like you to", "I need you to", "you need to", "you
   should", "I'm gonna have you" and the like, at the start of a clause, never before
   "not"/"never"/"no".
2. "you" as the object of an order before its complement is dropped: "start you on
   lasix" → "start on lasix", "refer you to physical therapy" → "refer to physical
   therapy", "prescribe you some ultram" → "prescribe some ultram".
3. Otherwise "you" becomes "the patient", with the verb after it in the third person
   from a fixed table: "you're"/"you are" → "the patient is", "you have"/"you've" →
   "the patient has", "you don't" → "the patient doesn't", "you were" → "the patient
   was", modals and past tenses unchanged ("the patient can", "the patient mentioned"),
   and a listed present-tense verb given its "-s" ("you need" → "the patient needs").
   After "see", "let", "for", "with", "to" and the like, "you" is the object: "see you
   back in 3 months" → "see the patient back in 3 months".

A "you" after the verb of a question ("do you have …", "can you feel …") is left as
said. Any other "you" stays: a rule that is not sure does nothing.
"""

from __future__ import annotations

from typing import Final

_PUNCT: Final = ",.;:?!…"
_CLAUSE_MARKS: Final = ",.;:?!…"
_OPENERS: Final = frozenset("and so but then now also okay ok alright well".split())

_REQUESTS: Final[tuple[tuple[str, ...], ...]] = tuple(
    tuple(p.split())
    for p in (
        "i want you to|i would like you to|i'd like you to|i need you to|we want you to|"
        "we would like you to|we'd like you to|we need you to|i want to have you|"
        "i'd like to have you|i would like to have you|i'm gonna have you|i am gonna have you|"
        "we're gonna have you|we are gonna have you|i'm going to have you|"
        "we're going to have you|i'll have you|we'll have you|i recommend that you|"
        "i recommend you|i encourage you to|i advise you to|you need to|you'll need to|"
        "you will need to|you should|you're gonna need to|you are gonna need to|"
        "you're going to need to|you're gonna want to|you're going to want to"
    ).split("|")
)
_REQUEST_FIRST: Final = frozenset(p[0] for p in _REQUESTS)
_NOT_AFTER_REQUEST: Final = frozenset("not never no".split())

# "keep" and "put" are not here: without its object "keep you on lisinopril" reads "keep on
# lisinopril" (go on with) and "put you on a brace" reads "put on a brace" (wear); they
# take "the patient" instead (_OBJECT_TAKERS).
_OBJECT_VERBS: Final = frozenset(
    "continue start refer prescribe give place switch restart bring schedule send set order".split()
)
_OBJECT_COMPLEMENTS: Final = frozenset("on to some a an the in with up for".split())
# Words after which "you" is the object ("see you", "for you").
_OBJECT_TAKERS: Final = frozenset(
    "see let help tell call ask examine check give send remind for with to about get "
    "have make keep put bring".split()
)
# Contracted subject forms.
_CONTRACTED: Final[dict[str, tuple[str, ...]]] = {
    "you're": ("is",),
    "you've": ("has",),
    "you'll": ("will",),
    "you'd": ("would",),
}
# "you" + this word → "the patient" + the value.
_AUXILIARIES: Final[dict[str, str]] = {
    "are": "is",
    "were": "was",
    "have": "has",
    "had": "had",
    "do": "does",
    "don't": "doesn't",
    "did": "did",
    "didn't": "didn't",
    "haven't": "hasn't",
    "hadn't": "hadn't",
    "aren't": "isn't",
    "weren't": "wasn't",
    "can": "can",
    "can't": "can't",
    "cannot": "cannot",
    "could": "could",
    "couldn't": "couldn't",
    "should": "should",
    "shouldn't": "shouldn't",
    "may": "may",
    "might": "might",
    "must": "must",
    "will": "will",
    "won't": "won't",
    "would": "would",
    "wouldn't": "wouldn't",
}
_PAST: Final = frozenset(
    "said told came went got took felt fell saw did had made ran gave kept lost began "
    "brought thought left hit broke wore ate drank slept woke underwent".split()
)
_PRESENT: Final = frozenset(
    "need feel take get want think use come go continue start stop see know experience "
    "notice say seem look sound try keep eat drink sleep walk work smoke exercise follow "
    "remember wake live drive play run lift wear".split()
)
_ADVERBS: Final = frozenset(
    "still also just really probably usually ever never always only certainly definitely "
    "currently often already".split()
)
# A verb before "you" makes a question ("do you have", "have you had"), except "have"
# after its subject ("we have you on lasix").
_INVERTING: Final = frozenset(_AUXILIARIES) | frozenset("is was does doesn't".split())
_HAVERS: Final = frozenset("i we i'll we'll i'd we'd to gonna will would".split())


def _bare(token: str) -> str:
    return token.rstrip(_PUNCT).lower()


def _third(verb: str) -> str:
    if verb in ("go", "do"):
        return verb + "es"
    if verb.endswith(("s", "sh", "ch", "x", "z")):
        return verb + "es"
    if verb.endswith("y") and verb[-2:-1] not in tuple("aeiou"):
        return verb[:-1] + "ies"
    return verb + "s"


def _clauses(tokens: list[str]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for token in tokens:
        out[-1].append(token)
        if token[-1] in _CLAUSE_MARKS:
            out.append([])
    return [c for c in out if c]


def about_patient(text: str, language: str = "en") -> str:
    """``text`` (cleaned) with the clinician's "you" in the third person, by the rules.

    Every rule looks only at a few words around "you" within its clause, so a clause
    reads the same whether a line starts with it or it sits inside a longer sentence."""
    if language == "pt" or "you" not in text.lower():
        return text
    out: list[str] = []
    for clause in _clauses(text.split()):
        _clause(clause, out)
    return " ".join(out)


def _clause(tokens: list[str], out: list[str]) -> None:
    bare = [_bare(t) for t in tokens]
    i = 0
    n = len(tokens)
    while i < n:
        token = tokens[i]
        word = bare[i]
        clause_start = not out or out[-1][-1] in _CLAUSE_MARKS or _bare(out[-1]) in _OPENERS
        if clause_start and word in _REQUEST_FIRST:
            size = _request_at(tokens, bare, i)
            if size:
                if not out or out[-1][-1] in ".?!…":
                    tokens[i + size] = _capital(tokens[i + size])
                i += size
                continue
        before = _bare(out[-1]) if out and out[-1][-1] not in _PUNCT else ""
        if before in _INVERTING and not (
            before in ("have", "had") and len(out) > 1 and _bare(out[-2]) in _HAVERS
        ):
            out.append(token)  # "do you have …", "can you feel …": a question
            i += 1
            continue
        if word == "you" and token[-1] not in _PUNCT and i + 1 < n:
            if before in _OBJECT_VERBS and bare[i + 1] in _OBJECT_COMPLEMENTS:
                i += 1  # "start you on" → "start on"
                continue
        if word in _CONTRACTED or word == "you":
            made, used = _subject(tokens, bare, i, before)
            if made:
                if not out or out[-1][-1] in ".?!…":
                    made[0] = _capital(made[0])
                out.extend(made)
                i += used
                continue
        out.append(token)
        i += 1


def _request_at(tokens: list[str], bare: list[str], i: int) -> int:
    for phrase in _REQUESTS:
        size = len(phrase)
        if i + size >= len(tokens) or bare[i] != phrase[0]:
            continue
        if all(bare[i + k] == phrase[k] and tokens[i + k][-1] not in _PUNCT for k in range(size)):
            following = bare[i + size]
            if following.isalpha() and following not in _NOT_AFTER_REQUEST:
                return size
    return 0


def _subject(tokens: list[str], bare: list[str], i: int, before: str) -> tuple[list[str], int]:
    """The third-person words for the "you" at ``i`` and how many tokens they replace."""
    token, word = tokens[i], bare[i]
    tail = token[len(word) :] if token.lower().startswith(word) else ""
    if word in _CONTRACTED:
        verb = _CONTRACTED[word][0]
        return ["the", "patient", verb + tail], 1
    if before in _OBJECT_TAKERS:  # "see you back", "for you."
        return ["the", "patient" + tail], 1
    if tail:
        return [], 0
    if i + 1 >= len(tokens):
        return [], 0
    j = i + 1
    if bare[j] in _ADVERBS and j + 1 < len(tokens) and tokens[j][-1] not in _PUNCT:
        j += 1
    verb_token, verb = tokens[j], bare[j]
    verb_tail = verb_token[len(verb) :] if verb_token.lower().startswith(verb) else ""
    between = tokens[i + 1 : j]
    if verb in _AUXILIARIES:
        return ["the", "patient", *between, _AUXILIARIES[verb] + verb_tail], j - i + 1
    if verb in _PRESENT:  # before the "-ed" test: "need" is no past tense
        return ["the", "patient", *between, _third(verb) + verb_tail], j - i + 1
    if verb in _PAST or (verb.endswith("ed") and len(verb) > 3 and verb.isalpha()):
        return ["the", "patient", *between, verb_token], j - i + 1
    return [], 0


def _capital(token: str) -> str:
    return token[:1].upper() + token[1:] if token[:1].islower() else token
