"""Extractive SOAP note: sort the clinician's own sentences into S, O, A and P.

Nothing is written that is not in the input: every fragment of the note is a span of the
transcript (trimmed of filler, whitespace collapsed), placed in a section by clinical cues
(``local_lexicon``), by explicit headers ("HDA:", "Exame físico:", "A/P:") and, in a
dictated visit, by its phase (history, then examination, then assessment and plan:
``local_phase``).
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
    TEST,
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
    fix_swapped_roles,
    is_question,
)
from delphos.engines.local_lines import NoteLines
from delphos.engines.local_phase import Phase
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

# A typed line naming a condition has at most this many words.
_NAMING_MAX_WORDS: Final = 8


class _Builder:
    """One pass over one text; not shared, not reused."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.cues = CueReader(text)
        turns, tagged = split_turns(text)
        self.turns = fix_swapped_roles(self.cues, turns) if tagged else turns
        self.phase = Phase(len(text), tagged=tagged)
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
            self.phase.enter(HEADER_MODE[group])
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
            tagged = self.phase.tagged
            if is_question(self.text, start, end, tagged) and not self.phase.decides(summary):
                return (start, end) if tagged and clinical(summary) else None
            announced = find_problem(self.text, start, end, self.phase.mode == "AP")
            if announced is not None and self._announce(announced, start, end, turn):
                return None
            self.phase.advance(summary, start)
            if not (clinical(summary) or self.headed or self.phase.expects(summary)):
                return None
            naming = self._names_a_condition(summary, start, end)
            if naming and (self.phase.mode != "S" or self.out.has_section("O")):
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
            tagged = self.phase.tagged
            if not tagged and any(line.section == "A" for line in self.out.lines[placed:]):
                self.phase.enter("AP")
        return None

    def _names_a_condition(self, summary: Cues, start: int, end: int) -> bool:
        """A short typed line that only names a condition ("Tension headache.",
        "Lombalgia mecânica."): past the history, the clinician's impression."""
        if self.phase.tagged or not summary.has(COND) or summary.strongest > 1:
            return False
        return self.text.count(" ", start, end) < _NAMING_MAX_WORDS

    def _place_clauses(
        self, clauses: list[tuple[Span, Cues]], turn: int, forced: Section | None, headed: bool
    ) -> None:
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
                labels.append(self.phase.pick(cues, headed=headed))
            else:
                labels.append(None)
        known = [label for label in labels if label is not None]
        if not known:
            whole = NO_CUES
            for _, cues in clauses:
                whole = whole | cues
            labels = [self.phase.pick(whole, headed=headed)] * len(labels)
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
        self.phase.enter("AP")
        self.out.problem += 1
        if name is not None:
            self.out.problem_names[self.out.problem] = self.text[name[0] : name[1]]
        if name is None or name[1] <= announced.end:
            if name is not None:
                # "from a depression standpoint, it's, your first problem, I think …":
                # the name on its own line, the impression after the announcement (the
                # words around the name announce it: "Depression standpoint" is no name).
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
        question: Span | None = None
        for index, turn in enumerate(self.turns):
            if turn.speaker == "patient":
                self.patients.read(turn, index, question, examining=self.phase.mode == "O")
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
