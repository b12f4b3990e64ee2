"""Cut consultation text into turns, sentences and clauses, as spans of the input.

Everything here returns ``(start, end)`` offsets into the original string rather than new
strings: the local engine then copies text out of the input verbatim, which is what lets
it promise that no word of a note was invented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

Speaker = Literal["clinician", "patient", "unknown"]
Span = tuple[int, int]

_LINE = re.compile(r"[^\n]+")
# "[doctor] …" (ACI-bench, ASR diarization) or "Doctor: …" / "Paciente: …" (typed dialogue).
_TAG = re.compile(
    r"[ \t]*(?:\[([^\]\n]{1,40})\]|"
    r"(doctor|dr|physician|clinician|provider|nurse|patient|pt|m[ée]dic[oa]|paciente|"
    r"enfermeir[oa]|acompanhante)[ \t]*:)[ \t]*",
    re.IGNORECASE,
)
_CLINICIAN_TAG = re.compile(
    r"doctor|\bdr\b|physician|clinician|provider|nurse|m[ée]dic|enfermeir|\bmd\b", re.IGNORECASE
)

# A sentence ends at . ! ? … followed by whitespace or the end: "37.8" or "1,5" never cut.
_SENT_END = re.compile(r"[.!?…]+[\"')\]]*(?=\s|$)")
_ABBREV_BEFORE = re.compile(
    r"(?:^|[\s(])(?:dr|dra|drs|mr|mrs|ms|sr|sra|srs|st|vs|prof|profa|approx|aprox|fig|"
    r"e\.g|i\.e|p\.ex|ex)$",
    re.IGNORECASE,
)
# A "." spaced between a number and one digit ("a hundred . four", "98 . 6") may be
# the spoken decimal point ASR wrote as a full stop: no sentence ends there.
_DIGIT_WORDS = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|\d)"
_SPOKEN_POINT_BEFORE = re.compile(
    r"\b(?:\d+|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen|"
    r"twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred) $",
    re.IGNORECASE,
)
_SPOKEN_POINT_AFTER = re.compile(rf"\s+{_DIGIT_WORDS}\b", re.IGNORECASE)
_POINT_REACH = 24  # a long number word ("seventeen") and the space before it; linear
# Unpunctuated ASR (half of ACI-bench) has no sentence marks at all: long runs are cut
# before the discourse markers speakers use to move on, so exam, assessment and plan
# dictated in one breath still land in different sentences. "right now" is no move on.
_LONG_RUN_WORDS = 30
_ABBREV_REACH = 8  # longest abbreviation ("approx") plus the space before it
_CHARS_PER_MARK = 400
_DISCOURSE = re.compile(
    r"(?<!\bas)(?<!\band)(?<!\bor)(?<!\bjust)\s+(?=(?:okay|ok|alright|all right|"
    r"so(?! that| much| far| many)|(?<!right )now|well|and then|but|lastly|firstly|"
    r"secondly|next|then|"
    r"ent[aã]o|agora|mas|depois)\b)",
    re.IGNORECASE,
)
# Whitespace before a comma stays in the clause: ``trim`` drops it.
_CLAUSE_SEP = re.compile(r"[,;]\s+| [-\u2013\u2014]\s+")  # hyphen, en and em dash


@dataclass(frozen=True, slots=True)
class Turn:
    """One line of the input: who spoke it (if tagged) and where its text lies."""

    speaker: Speaker
    start: int
    end: int


def split_turns(text: str) -> tuple[list[Turn], bool]:
    """Lines of ``text`` with their speaker; the flag says whether any speaker tag was seen.

    An untagged line inside a tagged dialogue continues the previous speaker (ACI-bench
    dictations wrap onto tagless lines).
    """
    turns: list[Turn] = []
    tagged = False
    current: Speaker = "unknown"
    for line in _LINE.finditer(text):
        start, end = line.span()
        tag = _TAG.match(text, start, end)
        if tag is not None:
            label = tag.group(1) or tag.group(2) or ""
            current = "clinician" if _CLINICIAN_TAG.search(label) else "patient"
            tagged = True
            start = tag.end()
        turns.append(Turn(current, start, end))
    return turns, tagged


def split_sentences(text: str, start: int, end: int, unpunctuated: bool = False) -> list[Span]:
    """Sentence spans of ``text[start:end]`` (untrimmed, never only whitespace).

    In ``unpunctuated`` text (ASR without sentence marks) every run is also cut at
    discourse markers, so that "okay now were you having chills" ends as a question.
    """
    spans: list[Span] = []
    begin = start
    longest = 0 if unpunctuated else _LONG_RUN_WORDS
    for mark in _SENT_END.finditer(text, start, end):
        if mark.group().startswith(".") and _ABBREV_BEFORE.search(
            text, max(begin, mark.start() - _ABBREV_REACH), mark.start()
        ):
            continue
        if _SPOKEN_POINT_BEFORE.search(
            text, max(begin, mark.start() - _POINT_REACH), mark.start()
        ) and _SPOKEN_POINT_AFTER.match(text, mark.end(), end):
            continue  # "a hundred . four": ASR's "point"; cut there, the 100.4 reads as 100
        _append_run(text, begin, mark.end(), longest, spans)
        begin = mark.end()
    _append_run(text, begin, end, longest, spans)
    return spans


def is_unpunctuated(text: str) -> bool:
    """Whether ``text`` has almost no sentence marks (one per 400 characters or fewer)."""
    marks = text.count(".") + text.count("?") + text.count("!")
    return marks * _CHARS_PER_MARK < len(text)


def _append_run(text: str, start: int, end: int, longest: int, out: list[Span]) -> None:
    if start >= end or text[start:end].isspace():
        return
    if text.count(" ", start, end) < longest:
        out.append((start, end))
        return
    begin = start
    for cut in _DISCOURSE.finditer(text, start, end):
        if cut.start() > begin:
            out.append((begin, cut.start()))
        begin = cut.end()
    if begin < end:
        out.append((begin, end))


def split_clauses(text: str, start: int, end: int) -> list[Span]:
    """Comma/semicolon/dash-separated clause spans of a sentence; separators excluded.

    A separator where the speaker restarts ("pain to palpation of the, of the sinuses",
    "it looks, it looks good") is no clause boundary: cut there, each half went its own
    way ("… of the" in one section, "of the sinuses …" in another). The cleaner then
    keeps the repeat once."""
    spans: list[Span] = []
    begin = start
    for sep in _CLAUSE_SEP.finditer(text, start, end):
        if _restarts(text, begin, sep.start(), sep.end(), end):
            continue
        if sep.start() > begin:
            spans.append((begin, sep.start()))
        begin = sep.end()
    if begin < end:
        spans.append((begin, end))
    return spans


_WORD = re.compile(r"[\w']+")
# A restart repeats at most this many words, within this many characters either side.
_RESTART_WORDS = 3
_RESTART_REACH = 40


def _restarts(text: str, begin: int, left: int, right: int, end: int) -> bool:
    """Whether the words after a separator at ``[left, right)`` start with the last one to
    three words before it (bounded windows: linear in the sentence)."""
    before = _WORD.findall(text, max(begin, left - _RESTART_REACH), left)
    after = _WORD.findall(text, right, min(end, right + _RESTART_REACH))
    for n in range(1, min(_RESTART_WORDS, len(before), len(after)) + 1):
        if [w.casefold() for w in before[-n:]] == [w.casefold() for w in after[:n]]:
            return True
    return False


# Words that open or close an utterance without saying anything clinical. Words that can
# carry content when bare ("well", "good", "right") are only dropped before punctuation.
_LEAD_FILLER = re.compile(
    r"(?:(?:u+m+|u+h+|uhm|hmm+|mm-?hmm|ah+|oh+|okay|ok|alright|all right|so|and|now|but|hey|"
    r"ent[aã]o|a[ií]|t[aá] bom|t[aá]|certo|n[eé]|e)\b[\s,;:.!?…-]*|"
    r"(?:well|yeah|great|good|perfect|right|sure|you know|i mean|like|let's see|bom|"
    r"muito bem|beleza)\s*[,;:.!?…-]+\s*|[\s,;:.!?…-]+)",
    re.IGNORECASE,
)
_TRAIL_FILLER = re.compile(
    r"(?:[\s,;:-]+(?:okay|ok|alright|all right|you know|uh+|u+m+|n[eé]|t[aá])[\s.?!,;:-]*|"
    r"\s*,\s*(?:right|yeah|certo|ent[aã]o)[\s.?!,;:-]*|[\s,;:-]+)$",
    re.IGNORECASE,
)
_TRAIL_WINDOW = 24


# Quick screens before the regular expressions: most sentences neither start nor end
# with anything that could be filler.
_LEAD_CANDIDATES: Final = (
    "um", "uh", "hmm", "mm", "ah", "oh", "ok", "alright", "all right", "so", "and", "now",
    "but", "hey", "ent", "a", "t", "certo", "n", "e", "well", "yeah", "great", "good",
    "perfect", "right", "sure", "you know", "i mean", "like", "let's see", "bom", "muito bem",
    "beleza",
)  # fmt: skip
_TRAIL_CANDIDATES: Final = (
    "okay", "ok", "alright", "right", "know", "uh", "um", "ne", "né", "ta", "tá", "yeah",
    "certo", "entao", "então",
)  # fmt: skip
_TRAIL_PUNCT = ".?!…"
_SEPARATORS = " \t\n\r,;:-"


def trim(text: str, start: int, end: int) -> Span:
    """Drop surrounding whitespace and filler words; the result may be empty."""
    while start < end:
        if text[start].isalnum() and not (
            text[start : start + 10].lower().startswith(_LEAD_CANDIDATES)
        ):
            break
        lead = _LEAD_FILLER.match(text, start, end)
        if lead is None or lead.end() == start:
            break
        start = lead.end()
    while start < end:
        if text[end - 1] not in _SEPARATORS:
            tail = text[max(start, end - _TRAIL_WINDOW) : end].rstrip(_TRAIL_PUNCT + " ")
            if not tail.lower().endswith(_TRAIL_CANDIDATES):
                break
        window_start = max(start, end - _TRAIL_WINDOW)
        trail = _TRAIL_FILLER.search(text[window_start:end])
        if trail is None or trail.start() == trail.end():
            break
        cut = window_start + trail.start()
        if cut >= end:
            break
        end = cut
    return start, end
