"""Extractive SOAP note: sort the clinician's own sentences into S, O, A and P.

Nothing is written that is not in the input: every fragment of the note is a span of the
transcript (trimmed of filler, whitespace collapsed), placed in a section by clinical cues
(``local_lexicon``), by explicit headers ("HDA:", "Exame físico:", "A/P:") and, in a
dictated visit, by its phase (history, then examination, then assessment and plan).
Patients' words only ever go to Subjective; a doctor's question is kept only together
with the patient's answer to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from delphos.engines.local_clean import language_of
from delphos.engines.local_cues import (
    CLIN,
    COND,
    DROP,
    NO_CUES,
    RESULT,
    SECTIONS,
    TEST,
    TO_AP,
    TO_O,
    CueReader,
    Cues,
    Section,
)
from delphos.engines.local_segment import (
    Span,
    Turn,
    is_unpunctuated,
    split_clauses,
    split_sentences,
    split_turns,
    trim,
)
from delphos.engines.local_select import Candidate, finish
from delphos.engines.local_yesno import statement
from delphos.records import SoapNote

Mode = Literal["S", "O", "AP"]

# How strongly the current phase claims a sentence: a cue of weight 3 for another
# section wins over it, a weaker one does not.
_PHASE_FLOOR: Final = 2
# An explicit header ("O:", "Exame físico:") claims its own sentence outright.
_HEADER_FLOOR: Final = 3
# Plain notes start with no phase: any cue decides, and cue-less text is Subjective.
_START_FLOOR: Final = 1
# In a tagged dialogue, "assessment"/"plan" talk before the middle of the visit is usually
# history ("the plan your cardiologist gave you"), not the doctor's own assessment.
_AP_EARLIEST: Final = 0.5
# A patient's first sentence after a clinical question is kept as its answer when short
# ("no .", "about five weeks"), even with no clinical word of its own.
_ANSWER_MAX_WORDS: Final = 25

# An answer of this many words or more is kept without the question that prompted it.
_ANSWER_ALONE_WORDS: Final = 5
# Words of a question that make it part of the examination ("does it hurt here?").
_EXAM_WORDS: Final = frozenset({"here", "this", "press", "push", "pressing", "pushing", "aqui"})
_DIGITS = re.compile(r"\d+")

_TIE_ORDER: Final[tuple[Section, ...]] = ("P", "A", "O", "S")
# Indexes into (S, O, A, P) of the sections each phase claims.
_PHASE_INDEXES: Final[dict[str, tuple[int, ...]]] = {"S": (0,), "O": (1,), "AP": (2, 3)}

_HEADER = re.compile(
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
_HEADER_COLON = re.compile(r"[:\uff1a]")
_HEADER_REACH: Final = 40
_HEADER_MODE: Final[dict[str, Mode]] = {"ap": "AP", "s": "S", "o": "O", "a": "AP", "p": "AP"}
# Labels that only name a section are dropped from the text they head. Descriptive ones
# ("Hipótese diagnóstica:", "Exam:") stay: they tell the reader what follows.
_STRUCTURAL = frozenset(
    {
        "s", "o", "a", "p", "a/p", "a&p", "subjective", "subjetivo", "objective", "objetivo",
        "assessment", "avaliação", "avaliacao", "plan", "plano", "assessment and plan",
        "assessment/plan",
    }
)  # fmt: skip
# Unpunctuated ASR questions are recognised by how they start.
_QUESTION_START = re.compile(
    r"(?:how|what|what's|whats|when|where|why|which|who|whose|do(?! n't)|does|did|are|is|"
    r"was|were|have|has|had|can|could|would|will|any|anything|tell me|como|qual|quais|"
    r"quando|onde|por que|voc[eê] (?:tem|est[aá]|sente|teve|toma))\b",
    re.IGNORECASE,
)
_SENTENCE_END = ".!?…"
# Words (folded, as the cue reader tokenizes them) of addressing the other person and of
# speaking of oneself.
_YOU: Final = frozenset({"you", "your", "yours", "voce", "seu", "sua", "senhor", "senhora"})
_ME: Final = frozenset({"i", "my", "me", "mine", "eu", "meu", "minha", "mim"})


@dataclass(slots=True)
class _Line:
    section: Section
    parts: list[str]
    turn: int
    joinable: bool  # the last part ended a sentence, so the next may follow on this line
    spans: list[Span]  # where the parts come from, to weigh their clinical content
    patient: bool = False  # spoken by the patient


class _Builder:
    """One pass over one text; not shared, not reused."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.cues = CueReader(text)
        self.lines: list[_Line] = []
        self.seen: set[str] = set()
        self.mode: Mode = "S"
        self.floor = _START_FLOOR
        self.tagged = False
        self.unpunctuated = is_unpunctuated(text)
        # Once a header has been written, what follows is the clinician's own structured
        # note: every sentence of it is kept, clinical vocabulary or not.
        self.headed = False
        self.language = language_of(text)
        self.patient_speaking = False

    # --- output -------------------------------------------------------------------------

    def _emit(self, section: Section, parts: list[Span], turn: int, same_line: bool) -> None:
        texts = [t for t in (" ".join(self.text[a:b].split()) for a, b in parts) if t]
        if not texts:
            return
        key = " ".join(texts).casefold()
        if key in self.seen:
            return
        self.seen.add(key)
        last = self.lines[-1] if self.lines else None
        if (
            same_line
            and last is not None
            and last.section == section
            and last.turn == turn
            and last.joinable
        ):
            last.parts.extend(texts)
            last.spans.extend(parts)
        else:
            last = _Line(section, texts, turn, True, list(parts), self.patient_speaking)
            self.lines.append(last)
        # Two pieces share a line only after a sentence mark, so that each piece still
        # reads (and can be checked) as a verbatim sentence of the input.
        last.joinable = texts[-1][-1] in _SENTENCE_END

    def _emit_template(self, section: Section, text: str, spans: list[Span], turn: int) -> None:
        key = text.casefold()
        if key in self.seen:
            return
        self.seen.add(key)
        self.lines.append(_Line(section, [text], turn, False, spans))

    def _candidate(self, line: _Line) -> Candidate:
        cues = NO_CUES
        content = 0
        for a, b in line.spans:
            cues = cues | self.cues.read(a, b)
            content += self.cues.content(a, b)
        text = " ".join(line.parts)
        numbers = len(_DIGITS.findall(text))
        # Doses, vitals and lab values are what a note must never lose.
        keep = numbers > 0 and (cues.weight("P") >= 2 or cues.weight("O") >= 3 or cues.has(TEST))
        return Candidate(line.section, text, content, numbers, keep, line.patient)

    def note(self) -> SoapNote:
        words = self.text.count(" ") + self.text.count("\n") + 1
        return finish([self._candidate(line) for line in self.lines], words, self.language)

    # --- classification -----------------------------------------------------------------

    def _pick(self, cues: Cues, floor: int) -> Section:
        raw = list(cues.weights)
        if raw[2] == 2 and cues.has(COND):
            raw[2] = 3  # "I think this is a viral bronchitis": a hedge naming a condition
        phase = _PHASE_INDEXES[self.mode]
        weights = raw.copy()
        for i in phase:
            if weights[i] < floor:
                weights[i] = floor
        best = max(weights)
        tied = [i for i in range(4) if weights[i] == best]
        if len(tied) == 1:
            return SECTIONS[tied[0]]
        # The phase wins its ties; between assessment and plan, the section the words
        # point to wins, then a named condition means assessment.
        in_phase = [i for i in tied if i in phase]
        if in_phase:
            tied = in_phase
        if len(tied) > 1:
            top = max(raw[i] for i in tied)
            tied = [i for i in tied if raw[i] == top]
        if len(tied) == 1:
            return SECTIONS[tied[0]]
        if tied == [2, 3] and self.mode == "AP":
            return "A" if cues.has(COND) else "P"
        return next(s for s in _TIE_ORDER if SECTIONS.index(s) in tied)

    @staticmethod
    def _clinical(cues: Cues) -> bool:
        return cues.has(CLIN | COND) or cues.strongest >= 3

    def _phase_content(self, cues: Cues) -> bool:
        # What the phase expects keeps a sentence on a weaker cue: "there is tenderness
        # of the greater tuberosity" while examining, "IgA deficiency" while assessing.
        if self.headed:
            return True
        if self.mode == "O":
            return cues.weight("O") >= 2
        if self.mode == "AP":
            return cues.has(COND) or cues.weight("A") >= 2 or cues.weight("P") >= 2
        return False

    def _decides(self, cues: Cues) -> bool:
        # "Let's continue the prozac 20 mg a day, do you need a refill?" is a plan that
        # happens to end in a question: past the history, a strong cue keeps it.
        return self.mode != "S" and max(cues.weights[1:]) >= 3

    def _is_question(self, start: int, end: int) -> bool:
        last = self.text[end - 1]
        if last == "?":
            return True
        if not self.tagged or last in _SENTENCE_END:
            return False
        return _QUESTION_START.match(self.text, start, end) is not None

    def _set_mode(self, mode: Mode) -> None:
        self.mode = mode
        self.floor = _PHASE_FLOOR

    def _transition(self, cues: Cues, start: int) -> None:
        to_ap, to_o = cues.has(TO_AP), cues.has(TO_O)
        if not self.tagged:
            if to_ap:
                self._set_mode("AP")
            elif to_o:
                self._set_mode("O")
            return
        # A dictated visit moves forward: history, examination, assessment and plan. Late
        # in the visit, after the examination, orders and impressions start the plan
        # even when the doctor does not announce it.
        late = start >= _AP_EARLIEST * len(self.text)
        if (to_ap and (self.mode == "O" or late)) or (
            self.mode == "O" and late and max(cues.weight("A"), cues.weight("P")) >= 3
        ):
            self._set_mode("AP")
        elif to_o and self.mode == "S":
            self._set_mode("O")

    # --- clinician (or untagged) sentences ----------------------------------------------

    def clinician_sentence(self, span: Span, turn: int) -> Span | None:
        """Place one trimmed, non-empty clinician sentence.

        Returns the sentence when it is a clinical question, for the answer to pick up.
        """
        start, end = span
        forced: Section | None = None
        header = None
        if _HEADER_COLON.search(self.text, start, min(end, start + _HEADER_REACH)):
            header = _HEADER.match(self.text, start, end)
        if header is not None and header.lastgroup is not None:
            group = header.lastgroup
            label = header.group(group).casefold()
            if label in _STRUCTURAL or len(label) == 1:
                start = header.end()
            self._set_mode(_HEADER_MODE[group])
            self.headed = True
            # "Hipótese: …" is assessment and "Conduta: …" is plan, whatever their words.
            forced = "A" if group == "a" else "P" if group == "p" else None
            start, end = trim(self.text, start, end)
            if start >= end:
                return None
        clauses = split_clauses(self.text, start, end)
        clause_cues = [self.cues.read(a, b) for a, b in clauses]
        summary = NO_CUES
        for cues in clause_cues:
            summary = summary | cues
        if header is None:
            if self._is_question(start, end) and not self._decides(summary):
                return (start, end) if self.tagged and self._clinical(summary) else None
            self._transition(summary, start)
            if not self._clinical(summary) and not self._phase_content(summary):
                return None
        kept = [(c, q) for c, q in zip(clauses, clause_cues, strict=True) if not q.has(DROP)]
        if kept:
            self._place_clauses(kept, turn, forced, header is not None)
        return None

    def _place_clauses(
        self, clauses: list[tuple[Span, Cues]], turn: int, forced: Section | None, headed: bool
    ) -> None:
        floor = _HEADER_FLOOR if headed else self.floor
        if forced is None:
            whole = NO_CUES
            for _, cues in clauses:
                whole = whole | cues
            # "x-ray shows …", "A1c is high at 8": a result is Objective in any phase,
            # unless the sentence orders the test.
            if whole.has(TEST) and whole.has(RESULT) and whole.weight("P") < 3:
                forced = "O"
        labels: list[Section | None] = []
        for _, cues in clauses:
            if forced is not None:
                labels.append(forced)
            elif self._clinical(cues) or cues.strongest >= 2:
                labels.append(self._pick(cues, floor))
            else:
                labels.append(None)
        known = [label for label in labels if label is not None]
        if not known:
            whole = NO_CUES
            for _, cues in clauses:
                whole = whole | cues
            labels = [self._pick(whole, floor)] * len(labels)
        else:
            # A clause with nothing of its own ("tension type") belongs to the clause
            # before it, or to the first labelled one at the start of a sentence.
            previous: Section | None = known[0]
            for i, label in enumerate(labels):
                if label is None:
                    labels[i] = previous
                else:
                    previous = label
        group = 0
        for i in range(1, len(clauses) + 1):
            if (
                i < len(clauses)
                and labels[i] == labels[group]
                and self._adjacent(clauses[i - 1][0], clauses[i][0])
            ):
                continue
            section = labels[group]
            # A run of clauses with no cue at all ("how are you doing from") is left out.
            said = any(c.flags or c.strongest for _, c in clauses[group:i])
            if section is not None and (said or self.headed):
                a, b = clauses[group][0][0], clauses[i - 1][0][1]
                if group > 0 or i < len(clauses):  # the whole sentence is already trimmed
                    a, b = trim(self.text, a, b)
                if a < b:
                    self._emit(section, [(a, b)], turn, same_line=True)
            group = i

    def _adjacent(self, left: Span, right: Span) -> bool:
        # Only punctuation and space lie between neighbouring clauses, unless a dropped
        # clause ("hey, dragon") sat between them.
        between = self.text[left[1] : right[0]]
        return len(between) <= 4 and not any(c.isalnum() for c in between)

    # --- patient sentences ----------------------------------------------------------------

    def patient_turn(self, turn: Turn, index: int, question: Span | None) -> None:
        self.patient_speaking = True
        try:
            self._patient_sentences(turn, index, question)
        finally:
            self.patient_speaking = False

    def _patient_sentences(self, turn: Turn, index: int, question: Span | None) -> None:
        first = True
        for span in split_sentences(self.text, turn.start, turn.end, self.unpunctuated):
            start, end = trim(self.text, *span)
            if start >= end:
                continue
            cues = self.cues.read(start, end)
            if first and question is not None:
                first = False
                if self._clinical(cues) or self._short(start, end):
                    self._emit_answer(question, (start, end), index)
                continue
            first = False
            if self._is_question(start, end) or not self._clinical(cues):
                continue
            self._emit("S", [(start, end)], index, same_line=True)

    def _emit_answer(self, question: Span, answer: Span, index: int) -> None:
        # During the examination, "does this hurt?" "yes" is a finding; history questions
        # asked meanwhile ("any fever?") stay history.
        section: Section = "S"
        if self.mode == "O" and (
            self.cues.read(*question).weight("O") >= 2
            or self.cues.count_words(*question, _EXAM_WORDS) > 0
        ):
            section = "O"
        q_text = self.text[question[0] : question[1]]
        a_text = self.text[answer[0] : answer[1]]
        made = statement(q_text, a_text, self.language)
        if made is not None:
            self._emit_template(section, made, [question, answer], index)
            return
        if self._long_enough(answer):
            # A full answer says it all; the question would only add "you" and a "?".
            self._emit(section, [answer], index, same_line=False)
            return
        if self.text[question[1] - 1] == "?":
            self._emit(section, [question, answer], index, same_line=False)
        else:
            # Unpunctuated ASR: question and answer would run together on one line.
            self._emit(section, [question], index - 1, same_line=False)
            self._emit(section, [answer], index, same_line=False)

    def _long_enough(self, answer: Span) -> bool:
        return self.text.count(" ", *answer) >= _ANSWER_ALONE_WORDS and self._clinical(
            self.cues.read(*answer)
        )

    def _short(self, start: int, end: int) -> bool:
        return self.text.count(" ", start, end) < _ANSWER_MAX_WORDS

    # --- driver -------------------------------------------------------------------------

    def run(self) -> SoapNote:
        turns, self.tagged = split_turns(self.text)
        if self.tagged:
            self.floor = _PHASE_FLOOR
            turns = _fix_swapped_roles(self.cues, turns)
        question: Span | None = None
        for index, turn in enumerate(turns):
            if turn.speaker == "patient":
                self.patient_turn(turn, index, question)
                question = None
                continue
            for span in split_sentences(self.text, turn.start, turn.end, self.unpunctuated):
                start, end = trim(self.text, *span)
                if start < end:  # "okay ?" after a question leaves it open for the answer
                    question = self.clinician_sentence((start, end), index)
        return self.note()


_SWAP: Final[dict[str, Literal["clinician", "patient", "unknown"]]] = {
    "clinician": "patient",
    "patient": "clinician",
    "unknown": "unknown",
}


def _fix_swapped_roles(cues: CueReader, turns: list[Turn]) -> list[Turn]:
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


def build_note(text: str) -> SoapNote:
    """The extractive note for ``text``: pure and deterministic; empty text → empty note."""
    if not text.strip():
        return SoapNote()
    return _Builder(text).run()
