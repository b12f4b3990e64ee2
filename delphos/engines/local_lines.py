"""The note's lines as the local engine places them, before they are finished.

Each line remembers where its words come from (spans of the input, to weigh their
clinical content), who said them, and the problem of a problem-oriented assessment and
plan they belong to, if any.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from delphos.engines.local_clean import Language
from delphos.engines.local_cues import NO_CUES, TEST, CueReader, Section
from delphos.engines.local_segment import Span
from delphos.engines.local_select import Candidate, finish
from delphos.records import SoapNote

_SENTENCE_END = ".!?…"
_DIGITS = re.compile(r"\d+")


@dataclass(slots=True)
class _Line:
    section: Section
    parts: list[str]
    turn: int
    joinable: bool  # the last part ended a sentence, so the next may follow on this line
    spans: list[Span]  # where the parts come from, to weigh their clinical content
    patient: bool = False  # spoken by the patient
    problem: int = 0  # the announced problem it belongs to (0: none)
    names: bool = False  # names a problem: never dropped for length


class NoteLines:
    """The lines of one note, in the order they were said; repeats are kept once."""

    def __init__(self, text: str, cues: CueReader, language: Language) -> None:
        self.text = text
        self.cues = cues
        self.language = language
        self.lines: list[_Line] = []
        self.seen: set[str] = set()
        self.patient_speaking = False
        self.problem = 0
        # Each problem's name, as said (cleaned when the note is finished).
        self.problem_names: dict[int, str] = {}

    def emit(
        self,
        section: Section,
        parts: list[Span],
        turn: int,
        same_line: bool,
        names: bool = False,
        asked: bool = False,
    ) -> None:
        """Place ``parts`` (spans of the input) on a line of ``section``. ``asked``: the
        first part is a question ASR wrote without its mark, given one here so that the
        answer after it reads as its answer ("any belly pain? no"), not as a line of its
        own ("no")."""
        texts = [t for t in (" ".join(self.text[a:b].split()) for a, b in parts) if t]
        if not texts:
            return
        if asked and len(texts) > 1 and not texts[0].endswith("?"):
            texts[0] += " ?"
        key = " ".join(texts).casefold()
        if key in self.seen:
            return
        self.seen.add(key)
        last = self.lines[-1] if self.lines else None
        if (
            same_line
            and not names
            and last is not None
            and last.section == section
            and last.turn == turn
            and last.joinable
            and last.problem == self.problem
            and not last.names
        ):
            last.parts.extend(texts)
            last.spans.extend(parts)
        else:
            last = _Line(
                section, texts, turn, True, list(parts), self.patient_speaking, self.problem, names
            )
            self.lines.append(last)
        # Two pieces share a line only after a sentence mark, so that each piece still
        # reads (and can be checked) as a verbatim sentence of the input.
        last.joinable = texts[-1][-1] in _SENTENCE_END

    def has_section(self, section: Section) -> bool:
        return any(line.section == section for line in self.lines)

    def emit_template(self, section: Section, text: str, spans: list[Span], turn: int) -> None:
        key = text.casefold()
        if key in self.seen:
            return
        self.seen.add(key)
        self.lines.append(_Line(section, [text], turn, False, spans, problem=self.problem))

    def _candidate(self, line: _Line) -> Candidate:
        cues = NO_CUES
        content = 0
        for a, b in line.spans:
            cues = cues | self.cues.read(a, b)
            content += self.cues.content(a, b)
        text = " ".join(line.parts)
        numbers = len(_DIGITS.findall(text))
        # Doses, vitals and lab values are what a note must never lose.
        keep = line.names or (
            numbers > 0 and (cues.weight("P") >= 2 or cues.weight("O") >= 3 or cues.has(TEST))
        )
        return Candidate(line.section, text, content, numbers, keep, line.patient, line.problem)

    def note(self) -> SoapNote:
        words = self.text.count(" ") + self.text.count("\n") + 1
        return finish(
            [self._candidate(line) for line in self.lines],
            words,
            self.language,
            self.problem_names,
        )
