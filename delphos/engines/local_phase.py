"""Where a visit is, and which section a sentence's cues pick from there.

A dictated visit moves forward — history (S), examination (O), assessment and plan (AP) —
and the current phase claims the sentences whose cues do not clearly point elsewhere. A
typed note has no phase until a cue or a header starts one. ``local_note`` reads a text
sentence by sentence and asks this phase where each one goes.
"""

from __future__ import annotations

from typing import Final

from delphos.engines.local_cues import COND, SECTIONS, TO_AP, TO_O, Cues, Section
from delphos.engines.local_headers import Mode

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


class Phase:
    """The phase of one text's visit; not shared, not reused."""

    def __init__(self, text_length: int, *, tagged: bool) -> None:
        self._length = text_length
        # A dialogue with speaker tags is a visit in order; a typed note is not.
        self.tagged = tagged
        self.mode: Mode = "S"
        self._floor = _PHASE_FLOOR if tagged else _START_FLOOR
        # Whether the assessment and plan were entered only on a guess (late in the visit,
        # a strong cue), not announced ("my assessment", "first problem", a header).
        self._guessed = False

    def enter(self, mode: Mode, *, guessed: bool = False) -> None:
        self.mode = mode
        self._floor = _PHASE_FLOOR
        self._guessed = guessed

    def pick(self, cues: Cues, *, headed: bool = False) -> Section:
        """The section of a sentence (or clause) with these cues, in this phase; under an
        explicit header the phase claims it outright."""
        floor = _HEADER_FLOOR if headed else self._floor
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

    def expects(self, cues: Cues) -> bool:
        # What the phase expects keeps a sentence on a weaker cue: "there is tenderness
        # of the greater tuberosity" while examining, "IgA deficiency" while assessing.
        if self.mode == "O":
            return cues.weight("O") >= 2
        if self.mode == "AP":
            return cues.has(COND) or cues.weight("A") >= 2 or cues.weight("P") >= 2
        return False

    def decides(self, cues: Cues) -> bool:
        # "Let's continue the prozac 20 mg a day, do you need a refill?" is a plan that
        # happens to end in a question: past the history, a strong cue keeps it.
        return self.mode != "S" and max(cues.weights[1:]) >= 3

    def advance(self, cues: Cues, start: int) -> None:
        """Move on if the sentence at ``start`` with these cues starts a later phase."""
        to_ap, to_o = cues.has(TO_AP), cues.has(TO_O)
        if not self.tagged:
            if to_ap:
                self.enter("AP")
            elif to_o:
                self.enter("O")
            return
        # A dictated visit moves forward: history, examination, assessment and plan. Late
        # in the visit, after the examination, orders and impressions start the plan
        # even when the doctor does not announce it.
        late = start >= _AP_EARLIEST * self._length
        if to_ap and (self.mode == "O" or late):
            self.enter("AP")
        elif self.mode == "O" and late and max(cues.weight("A"), cues.weight("P")) >= 3:
            self.enter("AP", guessed=True)
        elif to_o and (self.mode == "S" or (self.mode == "AP" and self._guessed)):
            # An announced examination ("let me listen to your heart") outweighs a guess:
            # "continue the current medication" while reviewing the vitals was no plan yet.
            self.enter("O")
