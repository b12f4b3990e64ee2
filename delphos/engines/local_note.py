"""Extractive SOAP note: sort the clinician's own sentences into S, O, A and P.

Nothing is written that is not in the input: every fragment of the note is a span of the
transcript (trimmed of filler, whitespace collapsed), placed in a section by clinical cues
(``local_lexicon``), by explicit headers ("HDA:", "Exame físico:", "A/P:") and, in a
dictated visit, by its phase (history, then examination, then assessment and plan).
Patients' words only ever go to Subjective; a doctor's question is kept only together
with the patient's answer to it.
"""

from __future__ import annotations

from typing import Final

from delphos.engines.local_answers import PatientTurns
from delphos.engines.local_clean import language_of
from delphos.engines.local_cues import (
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
    clinical,
)
from delphos.engines.local_headers import (
    HEADER,
    HEADER_COLON,
    HEADER_MODE,
    HEADER_REACH,
    STRUCTURAL,
    Mode,
    fix_swapped_roles,
    is_question,
)
from delphos.engines.local_lines import NoteLines
from delphos.engines.local_problems import Announcement, find_problem
from delphos.engines.local_segment import (
    Span,
    is_unpunctuated,
    split_clauses,
    split_sentences,
    split_turns,
    trim,
)
from delphos.records import SoapNote

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

_TIE_ORDER: Final[tuple[Section, ...]] = ("P", "A", "O", "S")
# Indexes into (S, O, A, P) of the sections each phase claims.
_PHASE_INDEXES: Final[dict[str, tuple[int, ...]]] = {"S": (0,), "O": (1,), "AP": (2, 3)}

# A typed line naming a condition has at most this many words.
_NAMING_MAX_WORDS: Final = 8


class _Builder:
    """One pass over one text; not shared, not reused."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.cues = CueReader(text)
        self.mode: Mode = "S"
        self.floor = _START_FLOOR
        self.tagged = False
        self.unpunctuated = is_unpunctuated(text)
        # Once a header has been written, what follows is the clinician's own structured
        # note: every sentence of it is kept, clinical vocabulary or not.
        self.headed = False
        self.language = language_of(text)
        self.out = NoteLines(text, self.cues, self.language)
        # The last history line of a typed note that only names a condition: its
        # impression if nothing else is.
        self.impression: int | None = None
        self.patients = PatientTurns(text, self.cues, self.out, self.language, self.unpunctuated)

    def _emit(self, section: Section, parts: list[Span], turn: int, same_line: bool) -> None:
        self.out.emit(section, parts, turn, same_line)

    def note(self) -> SoapNote:
        return self.out.note()

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
        if HEADER_COLON.search(self.text, start, min(end, start + HEADER_REACH)):
            header = HEADER.match(self.text, start, end)
        if header is not None and header.lastgroup is not None:
            group = header.lastgroup
            label = header.group(group).casefold()
            if label in STRUCTURAL or len(label) == 1:
                start = header.end()
            self._set_mode(HEADER_MODE[group])
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
            if is_question(self.text, start, end, self.tagged) and not self._decides(summary):
                return (start, end) if self.tagged and clinical(summary) else None
            announced = find_problem(self.text, start, end, self.mode == "AP")
            if announced is not None and self._announce(announced, start, end, turn):
                return None
            self._transition(summary, start)
            if not clinical(summary) and not self._phase_content(summary):
                return None
            naming = self._names_a_condition(summary, start, end)
            if naming and (self.mode != "S" or self.out.has_section("O")):
                forced = "A"
            elif naming and self.out.lines:
                # Still in the history: the impression, unless the note has no other.
                self._emit("S", [(start, end)], turn, same_line=False)
                self.impression = len(self.out.lines) - 1
                return None
        kept = [(c, q) for c, q in zip(clauses, clause_cues, strict=True) if not q.has(DROP)]
        if kept:
            placed = len(self.out.lines)
            self._place_clauses(kept, turn, forced, header is not None)
            # A typed note is written in order: once it states an impression, what
            # follows is assessment and plan ("Suspect meniscal tear. MRI knee.").
            if not self.tagged and any(line.section == "A" for line in self.out.lines[placed:]):
                self._set_mode("AP")
        return None

    def _names_a_condition(self, summary: Cues, start: int, end: int) -> bool:
        """A short typed line that only names a condition ("Tension headache.",
        "Lombalgia mecânica."): past the history, the clinician's impression."""
        if self.tagged or not summary.has(COND) or summary.strongest > 1:
            return False
        return self.text.count(" ", start, end) < _NAMING_MAX_WORDS

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
            elif clinical(cues) or cues.strongest >= 2:
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

    def _announce(self, announced: Announcement, start: int, end: int, turn: int) -> bool:
        """Open the problem ``announced`` in the sentence ``[start, end)``: its naming
        clause and impression go to the Assessment, the rest is placed as usual."""
        name = announced.name
        # "for your migraines, …" is a problem only if it names a condition.
        if not announced.ordinal and (name is None or not clinical(self.cues.read(*name))):
            return False
        before = trim(self.text, start, announced.start)
        if before[0] < before[1]:
            self._place_sentence(before, turn)  # the end of the previous problem
        self._set_mode("AP")
        self.out.problem += 1
        if name is not None:
            self.out.problem_names[self.out.problem] = self.text[name[0] : name[1]]
        if name is None or (announced.ordinal and name[1] <= announced.end):
            if name is not None:
                # "from a depression standpoint, it's, your first problem, I think …":
                # the name on its own line, the impression after the announcement.
                self.out.emit("A", [name], turn, same_line=False, names=True)
            name = None
            clauses = split_clauses(self.text, *trim(self.text, announced.end, end))
        else:
            # The name is a clause of its own even where no comma sets it off.
            clauses = [name, *split_clauses(self.text, *trim(self.text, name[1], end))]
        cues = [self.cues.read(a, b) for a, b in clauses]
        # The impression runs from the name to the first clause that orders something.
        cut = 1 if name is not None else 0
        # A question ("…, you must be due to see her again soon?") is no impression.
        while cut < len(clauses) and not _orders(cues[cut]) and self.text[end - 1] != "?":
            cut += 1
        if cut:
            a, b = trim(self.text, clauses[0][0], clauses[cut - 1][1])
            if a < b:
                self.out.emit("A", [(a, b)], turn, same_line=False, names=name is not None)
        rest = [(c, q) for c, q in zip(clauses[cut:], cues[cut:], strict=True) if not q.has(DROP)]
        if rest:
            self._place_clauses(rest, turn, None, False)
        return True

    def _place_sentence(self, span: Span, turn: int) -> None:
        clauses = split_clauses(self.text, *span)
        kept = [(c, q) for c in clauses if not (q := self.cues.read(*c)).has(DROP)]
        if kept:
            self._place_clauses(kept, turn, None, False)

    def _adjacent(self, left: Span, right: Span) -> bool:
        # Only punctuation and space lie between neighbouring clauses, unless a dropped
        # clause ("hey, dragon") sat between them.
        between = self.text[left[1] : right[0]]
        return len(between) <= 4 and not any(c.isalnum() for c in between)

    # --- driver -------------------------------------------------------------------------

    def run(self) -> SoapNote:
        turns, self.tagged = split_turns(self.text)
        if self.tagged:
            self.floor = _PHASE_FLOOR
            turns = fix_swapped_roles(self.cues, turns)
        question: Span | None = None
        for index, turn in enumerate(turns):
            if turn.speaker == "patient":
                self.patients.read(turn, index, question, examining=self.mode == "O")
                question = None
                continue
            for span in split_sentences(self.text, turn.start, turn.end, self.unpunctuated):
                start, end = trim(self.text, *span)
                if start < end:  # "okay ?" after a question leaves it open for the answer
                    question = self.clinician_sentence((start, end), index)
        if self.impression is not None and not self.out.has_section("A"):
            self.out.lines[self.impression].section = "A"
        return self.note()


def _orders(cues: Cues) -> bool:
    return cues.weight("P") >= 2 and cues.weight("P") > cues.weight("A")


def build_note(text: str) -> SoapNote:
    """The extractive note for ``text``: pure and deterministic; empty text → empty note."""
    if not text.strip():
        return SoapNote()
    return _Builder(text).run()
