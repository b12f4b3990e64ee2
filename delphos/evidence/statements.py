"""Split a section of a note into statements: sentences and list items, with their
offsets (code points) in the section's text. Header lines ("PHYSICAL EXAMINATION",
"Plan:", a "Respiratory" over its findings) are not statements: there is nothing in them
to support."""

from __future__ import annotations

import re
from typing import Final

from delphos.evidence.lexicon import HEADING_VOCABULARY

# A sentence ends at . ! ? followed by space and a capital, digit, bullet or quote.
_SENTENCE_END: Final = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý0-9•\-*\"'(])")
_LIST_MARKER: Final = re.compile(r"^\s*(?:[-•*▪◦·]|\d{1,2}[.)](?!\d))\s*")
# A statement longer than this is checked in pieces of at most this many characters, cut
# at a space. Several checks weigh each of a statement's words against the others (its
# sides against its findings, its cues against its items), so a statement that never
# ends (100,000 characters of run-on text) cost the checker a minute, and every note's
# evidence waited behind it. The longest statement in ACI-Bench's notes is ~1,000.
MAX_STATEMENT_CHARS: Final = 1_500
# A heading in Title Case: at most this many words, no figure, no closing punctuation.
HEADING_WORDS: Final = 6
_HEADING_JOINERS: Final = frozenset({"and", "of", "&"})
_ABBREVIATIONS: Final = frozenset(
    "dr mr mrs ms st vs approx e.g i.e etc no sr sra dra pt fig".split()
)


def _is_header(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    if not letters:
        return True
    if line.rstrip().endswith(":") and len(line.split()) <= 6:
        return True
    # ALL-CAPS short line with no figure and no full stop: a heading ("VITALS", not "BP 120/80.").
    return (
        all(c.isupper() for c in letters)
        and len(line.split()) <= 8
        and not any(c.isdigit() for c in line)
        and not line.rstrip().endswith(".")
    )


def _is_heading(line: str, following: str) -> bool:
    """ "Respiratory" or "Past Surgical History" right above "- Auscultation …: Clear." or
    "Hysterectomy, 1996.": a short Title Case line of heading words (a body system, a
    kind of history), unpunctuated, heading a line written differently (a list item or
    a punctuated line). A problem's name over its plan ("Depression") is a claim."""
    words = line.split()
    if not words or len(words) > HEADING_WORDS or any(c.isdigit() for c in line):
        return False
    if not all(w in HEADING_VOCABULARY for w in re.findall(r"[a-z]+", line.lower())):
        return False
    if line.rstrip()[-1] in ".!?;,)" or not all(
        w[0].isupper() or w in _HEADING_JOINERS for w in words
    ):
        return False
    following = following.strip()
    return bool(following) and (_LIST_MARKER.match(following) is not None or following[-1] in ".!?")


def split_statements(section: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    offset = 0
    lines = section.splitlines(keepends=True)
    # The next non-blank line after each line, from one pass backwards: looked for line by
    # line, a section of many blank lines cost their number squared.
    nexts = [""] * len(lines)
    after = ""
    for n in range(len(lines) - 1, -1, -1):
        nexts[n] = after
        if lines[n].strip():
            after = lines[n]
    for n, line in enumerate(lines):
        line_start = offset
        offset += len(line)
        body = line.rstrip("\r\n")
        marker = _LIST_MARKER.match(body)
        first = marker.end() if marker else 0
        following = nexts[n]
        if (
            not body[first:].strip()
            or _is_header(body[first:])
            or (not marker and _is_heading(body, following))
        ):
            continue
        pieces: list[tuple[int, int]] = []
        cursor = first
        for match in _SENTENCE_END.finditer(body, first):
            before = body[cursor : match.start()].rsplit(None, 1)
            last_word = before[-1].rstrip(".").lower() if before else ""
            if last_word in _ABBREVIATIONS:
                continue
            pieces.append((cursor, match.start()))
            cursor = match.end()
        pieces.append((cursor, len(body)))
        if len(pieces) > 1 and _is_heading(body[cursor:], following):
            pieces.pop()  # "Clear bilaterally. Cardiovascular": a heading run on a line
        for start, end in pieces:
            text = body[start:end]
            stripped_start = start + (len(text) - len(text.lstrip()))
            stripped_end = start + len(text.rstrip())
            # A statement (or a piece of a long one) has a letter or digit to check.
            spans.extend(
                (line_start + a, line_start + b)
                for a, b in _pieces(body, stripped_start, stripped_end)
                if any(c.isalnum() for c in body[a:b])
            )
    return spans


def _pieces(body: str, start: int, end: int) -> list[tuple[int, int]]:
    """body[start:end] in pieces of at most MAX_STATEMENT_CHARS, each cut after its last
    space (hard at the limit if it has none) and without the spaces around the cut."""
    pieces: list[tuple[int, int]] = []
    while end - start > MAX_STATEMENT_CHARS:
        limit = start + MAX_STATEMENT_CHARS
        cut = body.rfind(" ", start + 1, limit + 1)
        if cut <= start:
            cut = limit
        stop = cut
        while body[stop - 1].isspace():
            stop -= 1
        pieces.append((start, stop))
        start = cut
        while start < end and body[start].isspace():
            start += 1
    if end > start:
        pieces.append((start, end))
    return pieces
