"""Verify a note against its transcript: every statement gets the transcript sentences
that support it, a support level, and the specific problems found (a number, dose, drug,
side or negation the transcript does not bear out). Pure, deterministic, offline.

The checks live in their own modules (doses, numbers, sides, negation); each reads the
transcript indexed once per text (transcript.py) and adds issues to a `Check`."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Final

from delphos.evidence.check import Check
from delphos.evidence.doses import check_drugs
from delphos.evidence.drugs import lexicon
from delphos.evidence.models import (
    Evidence,
    Issue,
    SectionName,
    Span,
    Statement,
    Support,
    summarise,
)
from delphos.evidence.negation import check_negations
from delphos.evidence.numbers import check_numbers
from delphos.evidence.sides import check_sides
from delphos.evidence.statements import split_statements
from delphos.evidence.support import support
from delphos.evidence.text import tokenize
from delphos.evidence.transcript import Transcript, index

SECTIONS: Final[tuple[SectionName, ...]] = ("subjective", "objective", "assessment", "plan")
# Support: the share of a statement's content words found in its best transcript sentences.
SUPPORTED_AT: Final = 0.5
PARTIAL_AT: Final = 0.25


@lru_cache(maxsize=8)
def indexed(text: str) -> Transcript:
    return index(text, lexicon())


def warm_up() -> None:
    """Load the drug dictionary now (seconds), not on the first note."""
    lexicon()
    indexed("warm up: lisinopril 10 mg daily.")


# A statement's verdict: its support level, evidence spans and issues.
Verdict = tuple[Support, list[Span], list[Issue]]


class TooManyStatements(Exception):
    """A note of more statements than the caller allows: refused before any is checked."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(count, limit)
        self.count = count
        self.limit = limit


def verify(
    accumulated_text: str, note: Mapping[str, str], *, max_statements: int | None = None
) -> Evidence:
    """The note's evidence. `max_statements` bounds a note's statements (a check costs
    each up to the transcript's mentions of its words): TooManyStatements beyond it."""
    places = [
        (section, section_text, start, end)
        for section in SECTIONS
        for section_text in (note.get(section, "") or "",)
        for start, end in split_statements(section_text)
    ]
    if max_statements is not None and len(places) > max_statements:
        raise TooManyStatements(len(places), max_statements)
    transcript = indexed(accumulated_text)
    statements: list[Statement] = []
    # A verdict depends on the statement's text and the transcript only, so a statement
    # repeated ("No pain." in two sections, or 10,000 times in a posted note) is checked
    # once.
    verdicts: dict[str, Verdict] = {}
    for section, section_text, start, end in places:
        text = section_text[start:end]
        verdict = verdicts.get(text)
        if verdict is None:
            verdict = verdicts[text] = _verdict(transcript, text)
        level, evidence, issues = verdict
        statements.append(
            Statement(
                section=section,
                start=start,
                end=end,
                text=text,
                support=level,
                evidence=evidence,
                issues=issues,
            )
        )
    return summarise(statements)


def _verdict(transcript: Transcript, text: str) -> Verdict:
    tokens = tokenize(text, portuguese=transcript.tokens.portuguese)
    check = Check(transcript=transcript, note=tokens)
    check_drugs(check)
    check_numbers(check)
    check_sides(check)
    check_negations(check)
    coverage, evidence = support(check)
    level: Support
    if coverage >= SUPPORTED_AT:
        level = "partial" if check.issues else "supported"
    elif coverage >= PARTIAL_AT:
        level = "partial"
    else:
        level = "unsupported"
    return level, evidence, check.issues
