"""Yes/no exchanges as statements, built only from the question's words and the answer.

"any chest pain, fever, chills? — no." becomes "Denies chest pain, fever, chills." and
"Tem falta de ar? — Não." becomes "Nega falta de ar."; a plain yes gives "Reports …" /
"Refere …". These four words are the only ones the local engine ever adds to a note (the
documented templates); everything after them is the question's own words, in order.

A template is used only when the answer is nothing but a yes or a no (with fillers), and
the asked-about words carry no negation of their own, so the statement cannot flip what
the patient said.
"""

from __future__ import annotations

import re
from typing import Final

# The lead of a question asking whether something is present; what follows is the thing.
_ASK_EN = re.compile(
    r"(?:(?:and|so|okay|ok|now|alright|all right|also|um|uh)[\s,]+)*"
    r"(?:(?:do|did) you (?:have|get|notice|feel|experience)|"
    r"have you (?:had|noticed|been having|experienced|felt|got)|"
    r"are you (?:having|experiencing|getting|noticing)|"
    r"(?:is|was) there|(?:were|are) there)?\s*"
    # "any other symptoms?" — "no" denies other symptoms, not the ones the visit is for.
    r"(?:any|anything like)\s+(?P<thing>[^?]+?)[\s,]*\?",
    re.IGNORECASE,
)
_ASK_PT = re.compile(
    r"(?:(?:e|ent[aã]o|agora|certo)[\s,]+)*"
    r"(?:(?:voc[eê]|o senhor|a senhora)\s+)?"
    r"(?:tem|teve|sente|sentiu|est[aá] com|notou|apresenta|apresentou)\s+"
    r"(?:(?:algum|alguma|alguns|algumas)\s+)?(?P<thing>[^?]+?)[\s,]*\?",
    re.IGNORECASE,
)
# A bare list ("chest pain, fever, chills, cough?") asks about each item, unless it holds
# a verb or pronoun, when it is a statement being checked ("you're taking it?").
_LIST = re.compile(r"(?P<thing>[^?,]+(?:,[^?,]+)+?)[\s,]*\?")
_NOT_A_LIST: Final = frozenset(
    "you your you're i i'm my we it it's is are was were do does did have has had be been "
    "você voce eu meu minha é e está esta foi tem tinha".split()
)
_NO_EN: Final = frozenset("no nope nah".split())
_YES_EN: Final = frozenset("yes yeah yep yup".split())
_NO_PT: Final = frozenset("não nao".split())
_YES_PT: Final = frozenset("sim".split())
# Words that may follow the yes or no without changing it.
_ALSO_EN: Final = frozenset(
    "no nope not really at all none i don't haven't have do um uh sir ma'am yes yeah , .".split()
)
_ALSO_PT: Final = frozenset("não nao nunca nada nenhum nenhuma sim tenho senhor doutor".split())
# Asked-about words that would make a template read the opposite of the answer, or that
# are not something a patient has ("any questions?").
# A thing never starts with the verb of a question of its own.
_ASKING_VERBS: Final = frozenset(
    "do does did is are was were can could will would have has had should".split()
)
_BLOCK: Final = frozenset(
    "no not n't without never none nothing questions question concerns sem nem nunca nada "
    "dúvida dúvidas duvida duvidas "
    # The clinician speaking of themself ("any tenderness where I'm pressing?", "any
    # symptoms I might have missed?"): the statement would put their words in the
    # patient's mouth.
    "i i'm i've i'd me my we we're us our eu".split()
)
_MAX_THING_WORDS: Final = 14
_WORD = re.compile(r"[\w'-]+")


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def statement(question: str, answer: str, language: str) -> str | None:
    """The yes/no statement for a question and its answer, or None when none applies."""
    english = language != "pt"
    ask = (_ASK_EN if english else _ASK_PT).fullmatch(question.strip())
    if ask is None:
        ask = _LIST.fullmatch(question.strip())
        if ask is None or not _NOT_A_LIST.isdisjoint(_words(ask.group("thing"))):
            return None
    thing = ask.group("thing").strip(" ,")
    thing_words = _words(thing)
    if not thing_words or len(thing_words) > _MAX_THING_WORDS:
        return None
    if any(w in _BLOCK or w.endswith("n't") for w in thing_words):
        return None
    if thing_words[0] in _ASKING_VERBS:
        return None  # "any … does the pain extend anywhere?": a question restarted
    said = _words(answer)
    if not said or len(said) > 5:
        return None
    no, yes, also = (_NO_EN, _YES_EN, _ALSO_EN) if english else (_NO_PT, _YES_PT, _ALSO_PT)
    if not all(w in also or w in no or w in yes for w in said):
        return None
    if said[0] in no and not any(w in yes for w in said):
        lead = "Denies" if english else "Nega"
    elif said[0] in yes and not any(w in no or w == "not" for w in said):
        lead = "Reports" if english else "Refere"
    else:
        return None
    return f"{lead} {thing}."


# The patient's own first-person statements, in the third person of a note: "I've had
# knee pain for 2 weeks" → "Reports knee pain for 2 weeks", "I don't have any fever" →
# "Denies any fever", "Estou com tosse" → "Refere tosse". Only the lead is replaced; the
# rest is the patient's words. Never before "to"/"no"/"not" ("I have to", "I have no
# idea"), where the lead is not a report of something the patient has.
_REPORT_EN = re.compile(
    r"(?:(?P<taking>I(?:'ve| have) been taking|I(?:'m| am)(?: still)? taking)|"
    r"I(?:'ve| have)(?: been having| had| got)?|I had|I(?:'m| am) having)(?= )"
)
_DENY_EN = re.compile(
    r"(?:I (?:don't|do not|didn't|did not) (?:have|(?P<linking>get|feel)|notice)|"
    r"I (?:haven't|have not|hadn't|had not) (?:had|noticed|(?P<linked>felt|gotten)))(?= )",
)
_REPORT_PT = re.compile(r"(?:Eu )?(?:tenho|estou com|estou sentindo|sinto|senti|tive)(?= )", re.I)
_DENY_PT = re.compile(r"(?:Eu )?(?:não|nao) (?:tenho|sinto|senti|tive)(?= )", re.I)
_NOT_A_REPORT = re.compile(
    r" (?:to|no|not|never|nothing|been|had|that|this|it|you|a lot|que|não|nao|nada|"
    # A degree ("I don't have quite as much pain") is less of it, not none.
    r"quite|as|so|too|much|more|less|enough|very|really|the same|"
    # A participle ("I have felt dizzy", "I've taken tylenol") is not a thing had.
    r"[a-z]+ed|taken|given|seen|done|gone|felt|tried|known|gotten|got|made|lost|"
    r"swollen|broken|eaten|grown)\b"
)
# "I don't get tired", "I haven't felt well": after get/feel only "any …" is a thing.
_ANY = re.compile(r" (?:any|a|an)\b")


def third_person(sentence: str, language: str) -> str:
    """``sentence`` (cleaned, capitalised) with a first-person lead as a note template."""
    english = language != "pt"
    for pattern, lead in (
        ((_DENY_EN, "Denies"), (_REPORT_EN, "Reports"))
        if english
        else ((_DENY_PT, "Nega"), (_REPORT_PT, "Refere"))
    ):
        found = pattern.match(sentence)
        if found is None:
            continue
        rest = sentence[found.end() :]
        if len(rest.split()) < 1 or _NOT_A_REPORT.match(rest) or rest[:2] == " ,":
            return sentence
        groups = found.groupdict()
        if (groups.get("linking") or groups.get("linked")) and not _ANY.match(rest):
            return sentence
        if found.groupdict().get("taking"):
            return f"{lead} taking{rest}"
        return f"{lead}{rest}"
    return sentence
