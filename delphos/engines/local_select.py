"""Finish the extractive note: clean each line, drop what a clinician would not write,
and keep the most clinical lines within the length a clinician writes.

Selection is by clinical content density: words the lexicon knows (findings, symptoms,
drugs, tests, plan verbs, conditions) and numbers, per word of the line. Lines stating
doses, vitals or lab values are kept unless the note would pass its hard bound. The
note's length budget is a fixed share of the transcript's words (scribes' notes run at
about a third of the conversation), never more than that bound; a section is never
emptied by the budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from delphos.engines.local_clean import Language, clean
from delphos.engines.local_cues import SECTIONS, Section
from delphos.engines.local_person import about_patient
from delphos.engines.local_yesno import third_person
from delphos.records import SoapNote

# Share of the transcript's words the note may use (tuned on ACI-Bench train only).
BUDGET_SHARE: Final = 0.36
# Short transcripts (typed notes) are never cut: the clinician wrote them to be kept.
_BUDGET_FLOOR: Final = 120
# However long the visit, a note is read in minutes: past this many words it is no longer
# a summary (on ACI-Bench the longest reference note has 884 words and the longest note
# these rules write 1,094, for 3,050 words of dialogue). Lines that state a value are
# dropped too beyond it, least clinical first. The bound also caps what the evidence check
# of a note costs: 100,000 characters of repetitive dialogue once made a note of 1,106
# statements, checked in 5 s while every other note's `soap` waited.
NOTE_MAX_WORDS: Final = 1500
# A line this short with no number and no clinical word says nothing ("no problem.").
_MIN_WORDS: Final = 3
_DIGIT = re.compile(r"\d")
# A sentence ends at a mark followed by a space or the end: "5.6" is one number.
_SENTENCE = re.compile(r".+?(?:[.?!…]+(?=\s|$)|$)")
# Unpunctuated questions, recognised by how they start (Assessment and Plan state, they do
# not ask).
_ASKS = re.compile(
    r"\s*(?:do|does|did|are|is|was|were|have|has|can|could|would|any|você|voce|quer|"
    r"tem alguma)\b(?! (?:going|gon))",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One line of the note before finishing: where it goes and what it says."""

    section: Section
    text: str  # verbatim (whitespace collapsed), or a yes/no template
    content: int  # words with a clinical signal
    numbers: int
    keep: bool  # states a dose, vital or lab value: never dropped
    patient: bool = False  # the patient's own words: first person becomes a template
    problem: int = 0  # the announced problem of the assessment and plan (0: none)


# Sentences that are only courtesy: "no problem" answering a "thank you" once stood in the
# Assessment, where it reads as a finding ("no problem"), and "take care" closed the Plan.
# Only the whole sentence (past an "okay"/"so") is matched: "no problem swallowing" stays.
_COURTESY: Final = frozenset(
    (
        "no problem|not a problem|no problem at all|take care|you take care|thank you|"
        "thanks|thank you so much|thanks so much|thank you very much|you're welcome|"
        "you are welcome|my pleasure|sounds good|bye|goodbye|bye bye|see you|see you soon|"
        "have a good day|have a great day|have a nice day|nice to meet you|nice to see you|"
        "good to see you|obrigado|obrigada|de nada|tchau"
    ).split("|")
)
_COURTESY_FORMS: Final = tuple(sorted((tuple(f.split()) for f in _COURTESY), key=len, reverse=True))
# Said around a courtesy, they make it no less one ("okay no problem", "take care bye").
_COURTESY_FILLERS: Final = frozenset("okay ok alright so well oh great then now".split())


def _courteous(sentence: str) -> bool:
    """Whether the sentence is nothing but courtesy (one or more formulas, and fillers)."""
    words = sentence.lower().replace(",", " ").rstrip(".?!… ").split()
    i = 0
    formulas = 0
    while i < len(words):
        if words[i] in _COURTESY_FILLERS:
            i += 1
            continue
        form = next((f for f in _COURTESY_FORMS if tuple(words[i : i + len(f)]) == f), None)
        if form is None:
            return False
        formulas += 1
        i += len(form)
    return formulas > 0


# A sentence that only announces the assessment and plan ("so, for your assessment and
# plan."): the section's heading says it. The words still move the visit into its
# assessment (local_phase); only the line goes.
_ANNOUNCES_ONLY = re.compile(
    r"(?:(?:so|okay|ok|alright|now|and|well),?\s+)*(?:(?:for|in|on|regarding)\s+)?"
    r"(?:(?:my|your|the|our)\s+)?assessment and (?:(?:my|your|the|our)\s+)?plan[\s.,:;]*",
    re.IGNORECASE,
)


def _without_hollow_sentences(text: str) -> str:
    """``text`` without its sentences of courtesy alone (see :data:`_COURTESY`), except
    one that answers a question ("any problem with the pills? no problem."), and without
    a sentence that only announces the assessment and plan."""
    sentences = [t for t in (m.group().strip() for m in _SENTENCE.finditer(text)) if t]
    kept = [
        t
        for i, t in enumerate(sentences)
        if not (_courteous(t) or _ANNOUNCES_ONLY.fullmatch(t))
        or (i > 0 and sentences[i - 1].endswith("?"))
    ]
    return text if len(kept) == len(sentences) else " ".join(kept)


def _statements(text: str) -> str:
    """``text`` without its questions (for Assessment and Plan)."""
    kept = [
        m.group().strip()
        for m in _SENTENCE.finditer(text)
        if m.group().strip() and not m.group().rstrip().endswith("?") and not _ASKS.match(m.group())
    ]
    return " ".join(kept)


_PRONOUNS: Final = frozenset(
    "i i'm i've i'd i'll you you're you've we we're we'll me my eu você voce".split()
)
# A line's worth: clinical words and numbers per word, less twice its share of "I"/"you"
# (conversation about the visit, not its findings). Tuned on ACI-Bench train only; the
# score rises steadily from 0 to 2 and flattens after.
_PRONOUN_WEIGHT: Final = 2.0


def _worth(candidate: Candidate, text: str, words: int) -> float:
    pronouns = sum(1 for w in text.lower().split() if w.strip(",.;:?!") in _PRONOUNS)
    return (candidate.content + candidate.numbers - _PRONOUN_WEIGHT * pronouns) / words


def finish(
    candidates: list[Candidate],
    transcript_words: int,
    language: Language,
    problem_names: dict[int, str] | None = None,
) -> SoapNote:
    cleaned: list[tuple[int, Candidate, str, int]] = []
    # A line's worth is read before "you" is rewritten: talk addressed to the patient is
    # about the visit more often than about its findings.
    worths: dict[int, float] = {}
    seen: set[str] = set()
    for index, candidate in enumerate(candidates):
        text = clean(candidate.text, language)
        said = text
        if candidate.patient:
            text = " ".join(
                third_person(m.group().strip(), language) for m in _SENTENCE.finditer(text)
            )
        else:
            text = about_patient(text, language)
        if candidate.section in ("A", "P"):
            text = _statements(text)
        text = _without_hollow_sentences(text)
        words = len(text.split())
        short = words < _MIN_WORDS and not _DIGIT.search(text) and not candidate.content
        if not text or (short and not candidate.keep):  # a problem's name is kept alone
            continue
        key = text.casefold().rstrip(".?!")
        if key in seen:
            continue
        seen.add(key)
        cleaned.append((index, candidate, text, words))
        worths[index] = _worth(candidate, said, max(len(said.split()), 1))

    budget = min(NOTE_MAX_WORDS, max(_BUDGET_FLOOR, int(BUDGET_SHARE * transcript_words)))
    total = sum(words for *_, words in cleaned)
    chosen = {index for index, *_ in cleaned}
    if total > budget:
        # Least clinical first; ties go to the longer line, then the later one. Lines that
        # state a value go only past the note's hard bound, after every other line.
        order = sorted(cleaned, key=lambda c: (c[1].keep, worths[c[0]], -c[3], -c[0]))
        left = {s: sum(1 for c in cleaned if c[1].section == s) for s in SECTIONS}
        for index, candidate, _, words in order:
            if total <= budget or (candidate.keep and total <= NOTE_MAX_WORDS):
                break
            if left[candidate.section] <= 1:
                continue
            chosen.discard(index)
            left[candidate.section] -= 1
            total -= words

    sections: dict[Section, list[str]] = {s: [] for s in SECTIONS}
    # Problems are announced one after the other, so the lines of each problem follow
    # each other; in the Plan they go under the problem's name.
    headed: set[int] = set()
    for index, candidate, text, _ in cleaned:
        if index not in chosen:
            continue
        problem = candidate.problem
        if candidate.section == "P" and problem and problem not in headed:
            headed.add(problem)
            name = clean((problem_names or {}).get(problem, ""), language).rstrip(",.;:?!…")
            if name:
                sections["P"].append(f"{name}:")
        sections[candidate.section].append(text)
    return SoapNote(
        subjective="\n".join(sections["S"]),
        objective="\n".join(sections["O"]),
        assessment="\n".join(sections["A"]),
        plan="\n".join(sections["P"]),
    )
