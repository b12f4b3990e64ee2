"""What the local engine reads off a text's form: section headers ("HDA:", "A/P:"),
unpunctuated questions, and speaker tags swapped by diarization."""

from __future__ import annotations

import re
from typing import Final, Literal

from delphos.engines.local_cues import CueReader
from delphos.engines.local_segment import Turn

Mode = Literal["S", "O", "AP"]

HEADER = re.compile(
    r"\s*(?:"
    r"(?P<ap>A/P|A&P|(?i:assessment and plan|assessment/plan|avalia[cç][aã]o e "
    r"(?:plano|conduta)|impress[aã]o e conduta))|"
    r"(?P<s>S|(?i:subjective|subjetivo|hpi|hda|hma|qp|cc|chief complaint|queixa principal|"
    r"history|hist[oó]ria|anamnese|pmh|past medical history|medical history|"
    r"social history|family history|ros|review of systems|medications|meds|allergies|"
    r"antecedentes(?: pessoais| familiares)?|hpp|medica[cç][oõ]es(?: em uso)?|"
    r"medicamentos(?: em uso)?|alergias|h[aá]bitos))|"
    r"(?P<o>O|(?i:objective|objetivo|exam|physical exam(?:ination)?|pe|exame f[ií]sico|"
    r"ef|vitals|vital signs|sinais vitais|results|resultados|exames))|"
    r"(?P<a>A|(?i:assessment|avalia[cç][aã]o|impression|impress[aã]o|diagnosis|"
    r"diagn[oó]stico|hd|hip[oó]teses?(?: diagn[oó]sticas?)?))|"
    r"(?P<p>P|(?i:plan|plano|conduta|orienta[cç][oõ]es|prescri[cç][aã]o|follow-up|retorno))"
    r")\s*[:\uff1a]\s*"  # ASCII or full-width colon
)
# Headers are short: only a colon near the start of a sentence can end one.
HEADER_COLON = re.compile(r"[:\uff1a]")
HEADER_REACH: Final = 40
HEADER_MODE: Final[dict[str, Mode]] = {"ap": "AP", "s": "S", "o": "O", "a": "AP", "p": "AP"}
# Labels that only name a section are dropped from the text they head. Descriptive ones
# ("Hipótese diagnóstica:", "Exam:") stay: they tell the reader what follows.
STRUCTURAL = frozenset(
    {
        "s", "o", "a", "p", "a/p", "a&p", "subjective", "subjetivo", "objective", "objetivo",
        "assessment", "avaliação", "avaliacao", "plan", "plano", "assessment and plan",
        "assessment/plan",
    }
)  # fmt: skip
# Unpunctuated ASR questions are recognised by how they start.
QUESTION_START = re.compile(
    r"(?:how|what|what's|whats|when|where|why|which|who|whose|do(?! n't)|does|did|are|is|"
    r"was|were|have|has|had|can|could|would|will|any|anything|tell me|como|qual|quais|"
    r"quando|onde|por que|voc[eê] (?:tem|est[aá]|sente|teve|toma))\b",
    re.IGNORECASE,
)
# Words (folded, as the cue reader tokenizes them) of addressing the other person and of
# speaking of oneself.
_YOU: Final = frozenset({"you", "your", "yours", "voce", "seu", "sua", "senhor", "senhora"})
_ME: Final = frozenset({"i", "my", "me", "mine", "eu", "meu", "minha", "mim"})


_SWAP: Final[dict[str, Literal["clinician", "patient", "unknown"]]] = {
    "clinician": "patient",
    "patient": "clinician",
    "unknown": "unknown",
}


def fix_swapped_roles(cues: CueReader, turns: list[Turn]) -> list[Turn]:
    """Swap the speaker tags when the "patient" talks like the clinician.

    ASR diarization sometimes swaps the tags for a whole visit (6 of 87 ACI-bench
    dialogues). Clinicians address the other person ("you", "your"), patients speak of
    themselves ("I", "my"): the side with the higher you-to-I ratio is the clinician.
    """
    you = {"clinician": 0, "patient": 0}
    me = {"clinician": 0, "patient": 0}
    for turn in turns:
        if turn.speaker != "unknown":
            you[turn.speaker] += cues.count_words(turn.start, turn.end, _YOU)
            me[turn.speaker] += cues.count_words(turn.start, turn.end, _ME)
    # patient_you / patient_me > clinician_you / clinician_me, without dividing by zero.
    if you["patient"] * (me["clinician"] + 1) <= you["clinician"] * (me["patient"] + 1):
        return turns
    return [Turn(_SWAP[t.speaker], t.start, t.end) for t in turns]


_SENTENCE_END = ".!?…"


def is_question(text: str, start: int, end: int, tagged: bool) -> bool:
    """Whether ``text[start:end]`` asks: it ends in "?" or, in an unpunctuated dialogue,
    starts like a question."""
    last = text[end - 1]
    if last == "?":
        return True
    if not tagged or last in _SENTENCE_END:
        return False
    return QUESTION_START.match(text, start, end) is not None
