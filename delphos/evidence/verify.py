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
from delphos.evidence.models import Evidence, SectionName, Statement, Support, summarise
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


def verify(accumulated_text: str, note: Mapping[str, str]) -> Evidence:
    transcript = indexed(accumulated_text)
    statements: list[Statement] = []
    for section in SECTIONS:
        text = note.get(section, "") or ""
        for start, end in split_statements(text):
            statements.append(_statement(transcript, section, text, start, end))
    return summarise(statements)


def _statement(
    transcript: Transcript, section: SectionName, section_text: str, start: int, end: int
) -> Statement:
    text = section_text[start:end]
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
    return Statement(
        section=section,
        start=start,
        end=end,
        text=text,
        support=level,
        evidence=evidence,
        issues=check.issues,
    )
