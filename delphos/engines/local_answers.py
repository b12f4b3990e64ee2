"""The patient's turns of a tagged dialogue: answers to the clinician's questions and the
patient's own account, for the history (or, for "does this hurt?", the examination).

A yes/no answer becomes a documented template (``local_yesno``); a full answer is kept
without its question; a short one with it. Patients' words only go to Subjective, or to
Objective as the answer to an examination question.
"""

from __future__ import annotations

from typing import Final

from delphos.engines.local_clean import Language
from delphos.engines.local_cues import CueReader, Section, clinical
from delphos.engines.local_headers import is_question
from delphos.engines.local_lines import NoteLines
from delphos.engines.local_segment import Span, Turn, split_sentences, trim
from delphos.engines.local_yesno import statement

# A patient's first sentence after a clinical question is kept as its answer when short
# ("no .", "about five weeks"), even with no clinical word of its own.
_ANSWER_MAX_WORDS: Final = 25
# An answer of this many words or more is kept without the question that prompted it.
_ANSWER_ALONE_WORDS: Final = 5
# Words of a question that make it part of the examination ("does it hurt here?").
_EXAM_WORDS: Final = frozenset({"here", "this", "press", "push", "pressing", "pushing", "aqui"})


class PatientTurns:
    """Reads the patient's turns of one text into its note's lines."""

    def __init__(
        self, text: str, cues: CueReader, out: NoteLines, language: Language, unpunctuated: bool
    ) -> None:
        self.text = text
        self.cues = cues
        self.out = out
        self.language = language
        self.unpunctuated = unpunctuated
        self.examining = False

    def read(self, turn: Turn, index: int, question: Span | None, examining: bool) -> None:
        """Place the patient's turn ``turn``; ``question`` is the clinician's clinical
        question just before it, if any; ``examining``: the visit is at its examination."""
        self.examining = examining
        self.out.patient_speaking = True
        try:
            self._patient_sentences(turn, index, question)
        finally:
            self.out.patient_speaking = False

    def _patient_sentences(self, turn: Turn, index: int, question: Span | None) -> None:
        first = True
        for span in split_sentences(self.text, turn.start, turn.end, self.unpunctuated):
            start, end = trim(self.text, *span)
            if start >= end:
                continue
            cues = self.cues.read(start, end)
            if first and question is not None:
                first = False
                if clinical(cues) or self._short(start, end):
                    self._emit_answer(question, (start, end), index)
                continue
            first = False
            if is_question(self.text, start, end, tagged=True) or not clinical(cues):
                continue
            self.out.emit("S", [(start, end)], index, same_line=True)

    def _emit_answer(self, question: Span, answer: Span, index: int) -> None:
        # During the examination, "does this hurt?" "yes" is a finding; history questions
        # asked meanwhile ("any fever?") stay history.
        section: Section = "S"
        if self.examining and (
            self.cues.read(*question).weight("O") >= 2
            or self.cues.count_words(*question, _EXAM_WORDS) > 0
        ):
            section = "O"
        q_text = self.text[question[0] : question[1]]
        a_text = self.text[answer[0] : answer[1]]
        # Unpunctuated ASR asks without its "?": the clinician's sentence was already read
        # as a question, so the answer's template applies as it would with the mark.
        if not q_text.rstrip().endswith("?"):
            q_text = q_text.rstrip() + " ?"
        made = statement(q_text, a_text, self.language)
        if made is not None:
            self.out.emit_template(section, made, [question, answer], index)
            return
        if self._long_enough(answer):
            # A full answer says it all; the question would only add "you" and a "?".
            self.out.emit(section, [answer], index, same_line=False)
            return
        # A short answer keeps its question on its line, given its "?" where unpunctuated
        # ASR left it out: alone, "no" or "not really" says nothing, and a question asked
        # twice (already a line) once left its second answer standing alone.
        self.out.emit(section, [question, answer], index, same_line=False, asked=True)

    def _long_enough(self, answer: Span) -> bool:
        return self.text.count(" ", *answer) >= _ANSWER_ALONE_WORDS and clinical(
            self.cues.read(*answer)
        )

    def _short(self, start: int, end: int) -> bool:
        return self.text.count(" ", start, end) < _ANSWER_MAX_WORDS
