"""Numbers: a number the transcript never states, or states only about something else.
A number is placed by its head — the word it counts ("4 days", "grade 3", "3/6 murmur")
— and, when the transcript never uses that word, by the words around it."""

from __future__ import annotations

import itertools
import re
from bisect import bisect_left, bisect_right
from typing import Final

from delphos.evidence.check import Check
from delphos.evidence.copied import align, place
from delphos.evidence.doses import frequencies
from delphos.evidence.heads import shared_counts
from delphos.evidence.lexicon import ABBREVIATIONS, DOSE_UNITS, ORDINALS
from delphos.evidence.models import IssueKind
from delphos.evidence.text import Tokens, figures, number_key
from delphos.evidence.transcript import Transcript

# Tokens: how close a number must be to the words around it in the note (context) and,
# in the transcript, to those words (reach) or to its head (head reach).
NUMBER_CONTEXT: Final = 4
NUMBER_REACH: Final = 8
HEAD_SPAN: Final = 2
HEAD_REACH: Final = 6
HEAD_MIN: Final = 3  # letters: "c" of "A1c" is no head
# Mentions of a word looked at for another number said by it.
CONTEST_MOST: Final = 32
# Tokens: a number said with its head ("about four days ago ?") a question or an answer
# away from the words the note puts around it ("how long ago did this happen ?").
EXCHANGE_REACH: Final = 48
# Articles, not quantities, in a note ("one of", "uma dor").
_ARTICLE_NUMBERS: Final = frozenset({"one", "um", "uma"})
# "once the results are back", "once he is better": "once" opening a clause.
_CLAUSE: Final = frozenset(
    "the this that these those it he she they we you i his her their your my".split()
)
# Tokens: how close together the transcript must say the parts of a figure written as
# one ("10/2020" said "early october ... of 2020", "01/20/2020" "january 20th , 2020").
FIGURE_REACH: Final = 8
YEARS: Final = (1900.0, 2100.0)
# A rating's scale ("6/10", "8 out of 10"): said once for the whole consultation, or not
# at all ("my pain is a three").
_SCALES: Final = frozenset({10.0})
# "the patient will follow up": the transcript's speaker tags ("[patient]") put that word
# by every number, so it places none.
_SPEAKERS: Final = frozenset({"doctor", "patien", "medico", "pacien"})
# Units of a measurement (not of time, whose number changes with the unit, nor doses).
_MEASURES: Final = frozenset({"lb", "kg", "cm", "%", "bpm", "mmhg", "deg"})
# A label speech gives as another word ("a fever of a hundred . four").
_LABELS: Final = {"temper": ("fever",)}
_TIME_UNITS: Final = frozenset({"hour", "day", "week", "month", "year"})
_COUNTS: Final = _TIME_UNITS | {"tim", "time", "minut"}  # stems: "times", "minutes"
_LIST_BREAK: Final = re.compile(r"[,;]")
# "6 to 8 hours", "4 or 5 years old", "1-2 weeks": a range, said as one ("six to eight").
_RANGE_JOINERS: Final = frozenset({"-", "\u2013", "to", "or"})
# Tokens between the two ends of a range as the transcript says them ("six to eight",
# "four , five", "one or two weeks").
RANGE_REACH: Final = 4


def _head(check: Check, k: int) -> str:
    """The content word a number counts, if the transcript uses it: the first after it,
    else the last before it (within HEAD_SPAN tokens)."""
    note = check.note
    stems = note.stems

    def candidate(j: int) -> bool:
        # "Magnesium 1.7, hemoglobin WNL": a word past a comma is the next item's.
        lo, hi = (note.ends[k], note.starts[j]) if j > k else (note.ends[j], note.starts[k])
        return len(stems[j]) >= HEAD_MIN and not _LIST_BREAK.search(note.text, lo, hi)

    return check.word_beside(k, HEAD_SPAN, candidate)


def _unsaid_head(check: Check, k: int) -> bool:
    """Does the word right after the number ("3 views") go unsaid in the transcript? Then
    nothing tells what the transcript counts where it says the value. Not a time unit:
    speech leaves those to the question ("how old were you ? fourteen")."""
    stems = check.note.stems
    word = stems[k + 1] if k + 1 < len(stems) else ""
    return bool(word) and word not in _TIME_UNITS and word not in check.transcript.stem_at


def check_numbers(check: Check) -> None:
    t, tokens = check.transcript, check.note
    # "once daily", "twice a day" without a drug: a frequency, not a count to place.
    for k0, k1, _ in frequencies(tokens, 0, len(tokens)):
        check.consumed.update(k for k in range(k0, k1 + 1) if tokens.norms[k] in ORDINALS)
    # A figure the transcript states as a whole ("120/80" said "one twenty over eighty",
    # a date, "3/6" said "three out of six") or all of whose parts it says together (a
    # date said with its month's name) is placed; its parts need no other check. A
    # rating's scale ("/10") is the scale the transcript uses anywhere.
    for run, keys in figures(tokens):
        if keys & t.figures or (_dated(tokens, run) and _said_together(check, run)):
            check.consumed.update(run)
        elif _dated(tokens, run) and all(_places(t.number_at, tokens, k) for k in run):
            # Every part said, but never together: a date made of the transcript's
            # numbers ("1/03/2021" where it says "3/1/21"), not one it gives.
            shown = check.snippet(run[0], run[-1])
            check.flag(
                "number",
                shown,
                f'The note says "{shown}"; the transcript never states this date.',
            )
            check.consumed.update(run)
        last = run[-1]
        # A rating's "/10" ("6/10", "7-8/10") is the convention, said or not.
        if set(tokens.values[last]) & _SCALES and (
            len(run) == 2 or any(t.number_at.get(number_key(v)) for v in tokens.values[last])
        ):
            check.consumed.add(last)
    _check_ranges(check)
    copied: list[tuple[int, int]] | None = None
    for k, values in sorted(tokens.values.items()):
        if k in check.consumed or tokens.norms[k] in _ARTICLE_NUMBERS:
            continue
        if tokens.norms[k] == "once" and k + 1 < len(tokens) and tokens.norms[k + 1] in _CLAUSE:
            continue  # "once the results are back": when, not how often
        positions = sorted(p for v in values for p in t.number_at.get(number_key(v), []))
        head = _head(check, k)
        shown = check.snippet(k, k)
        # A quantity in a dose unit whose drug the checker did not place is still a dose.
        dose = k + 1 < len(tokens) and tokens.stems[k + 1] in DOSE_UNITS
        kind: IssueKind = "dose" if dose else "number"
        if not positions:
            check.flag(
                kind, shown, f'The note says "{shown}"; the transcript never states this number.'
            )
            continue
        lo, hi = max(0, k - NUMBER_CONTEXT), min(len(tokens), k + NUMBER_CONTEXT + 1)
        # Only words the transcript uses can place a number ("BP" is never said).
        context = {
            w
            for j in range(lo, hi)
            for w in (tokens.stems[j], *ABBREVIATIONS.get(tokens.norms[j], ()))
            if w and w in t.stem_at and w != head and w not in _SPEAKERS
        }
        # Nothing to place it by: let it be, unless the word it counts goes unsaid ("3
        # views" where the transcript never speaks of views).
        if not head and not context and not _unsaid_head(check, k):
            continue
        # Placed when one mention of the value has the head right by it and, if the
        # statement has other words the transcript uses, one of them around it.
        if head:
            heads = (head, *_LABELS.get(head, ()))
            by_head = [p for p in positions if any(check.near(h, [p], HEAD_REACH) for h in heads)]
            # "heart rate was fifty eight": speech leaves a measurement's unit out, so
            # a unit said nowhere by the value leaves the statement's words to place it.
            if by_head or head not in _MEASURES or not context:
                # "pulse ox was ninety eight percent on room air" for "Oxygen saturation:
                # 98% on room air": the label said otherwise, two of the other words by
                # the value place it.
                # Not a count of time or times: "began 3 weeks ago" is not placed by
                # "arm pain" said by a "three" of something else.
                if not by_head and head not in _COUNTS and _two_near(check, context, positions):
                    continue
                positions = by_head
            else:
                head = ""
        keys = {number_key(v) for v in values}
        if (
            positions
            and (head or context)
            and (not context or any(check.near(w, positions, NUMBER_REACH) for w in context))
        ):
            continue
        if head and positions and _uncontested(check, head, values, positions, context):
            continue
        # Placed when every number the transcript says with the head is this one ("see
        # you in two weeks", and no other number of weeks): another number with that
        # head would be said with it somewhere. Not where the statement's other words
        # are said right by another number: the statement is about that one.
        if head and _counted(t, head) & keys and not _said_of_another(check, keys, context):
            continue
        positions = positions or sorted(
            p for v in values for p in t.number_at.get(number_key(v), [])
        )
        # A number copied with the words around it ("if you try those two") is placed
        # where it was said, however the note words the rest.
        if copied is None:
            copied = align(t, tokens)
        if copied:
            lo, hi = place(copied, k)
            if any(lo < p < hi for p in positions):
                continue
        lo, hi = max(0, k - NUMBER_CONTEXT), min(len(tokens), k + NUMBER_CONTEXT + 1)
        words = check.snippet(lo, hi - 1)
        check.flag(
            kind,
            shown,
            f'The note says "{words}"; the transcript states {shown} only elsewhere '
            f'(e.g. "{check.said(positions[0])}").',
        )


def _two_near(check: Check, context: set[str], positions: list[int]) -> bool:
    """Are two of the statement's words said around one mention of the value? Looked at
    by the first CONTEST_MOST mentions: bounded work."""
    if len(context) < 2:
        return False
    return any(
        sum(check.near(w, [p], NUMBER_REACH) for w in context) >= 2
        for p in positions[:CONTEST_MOST]
    )


def _said_of_another(check: Check, keys: set[str], context: set[str]) -> bool:
    """Is one of the statement's other words said right by another number ("ecog
    performance status today is zero", for "ECOG performance status today is grade 2"
    where only the pathology's "grade two" has the head)? Looked for by the first
    CONTEST_MOST mentions of each word: bounded work."""
    t = check.transcript
    numbers = t.tokens.values
    for w in context:
        for m in t.stem_at.get(w, [])[:CONTEST_MOST]:
            for j in range(max(0, m - HEAD_REACH), m + HEAD_REACH + 1):
                other = numbers.get(j)
                if other and not keys & {number_key(v) for v in other}:
                    return True
    return False


def _counted(t: Transcript, head: str) -> frozenset[str]:
    if t.counts is None:
        t.counts = shared_counts(t.tokens, HEAD_REACH)
    return t.counts.get(head, frozenset())


def _uncontested(
    check: Check, head: str, values: list[float], positions: list[int], context: set[str]
) -> bool:
    """Is the number, said with its head, said an exchange away from the note's words
    around it, with no other number said with that head nearer the place where they are
    said? The scribe words the question and the answer their own way ("began 7 days ago"
    for "how long ago did this start ? ... seven days ago"); a changed number is still
    caught where the transcript says another one for the same head nearer ("four days
    ago" where the note says 5 days). A bounded look around one place: constant work."""
    own, place = _nearest(check, context, positions)
    if own > EXCHANGE_REACH:
        return False
    t = check.transcript
    keys = {number_key(v) for v in values}
    numbers, stems = t.tokens.values, t.tokens.stems
    for j in range(max(0, place - own), min(len(stems), place + own + 1)):
        other = numbers.get(j)
        if other and not keys & {number_key(v) for v in other}:
            window = range(max(0, j - HEAD_REACH), min(len(stems), j + HEAD_REACH + 1))
            if any(stems[q] == head for q in window):
                return False
    return True


def _nearest(check: Check, words: set[str], positions: list[int]) -> tuple[int, int]:
    """The fewest tokens from one of `positions` to a mention of one of `words`, and
    that mention's position (a distance past the transcript's end if none)."""
    best, place = len(check.transcript.tokens) + 1, -1
    for w in words:
        found = check.transcript.stem_at.get(w, [])
        for p in positions:
            i = bisect_left(found, p)
            for m in found[max(0, i - 1) : i + 1]:
                if abs(m - p) < best:
                    best, place = abs(m - p), m
    return best, place


def _ranges(tokens: Tokens) -> list[tuple[int, int]]:
    """Adjacent number tokens joined as a range ("6 to 8", "4 or 5", "1-2")."""
    keys = sorted(tokens.values)
    return [
        (a, b)
        for a, b in itertools.pairwise(keys)
        if tokens.text[tokens.ends[a] : tokens.starts[b]].strip().lower() in _RANGE_JOINERS
    ]


def _check_ranges(check: Check) -> None:
    """A range's two ends are said together ("six to eight hours"): each end said only
    apart from the other ("six weeks", "eight hours") is a range the transcript never
    gives — a changed end that, alone, the transcript happens to say elsewhere."""
    t, tokens = check.transcript, check.note
    for a, b in _ranges(tokens):
        if a in check.consumed or b in check.consumed:
            continue
        first, second = _places(t.number_at, tokens, a), _places(t.number_at, tokens, b)
        # An end never said is flagged as such by the number check.
        if not first or not second or any(_within(second, p, RANGE_REACH) for p in first):
            continue
        shown = check.snippet(a, b)
        check.flag(
            "number",
            shown,
            f'The note says "{shown}"; the transcript never states these numbers together.',
        )
        check.consumed.update((a, b))


def _dated(tokens: Tokens, run: list[int]) -> bool:
    """A figure with a year in it: a date ("10/2020", "01/20/2020")."""
    return any(YEARS[0] <= v <= YEARS[1] for k in run for v in tokens.values[k])


def _said_together(check: Check, run: list[int]) -> bool:
    """Does the transcript say the numbers of the figure `run` in its order, each within
    FIGURE_REACH tokens of the first ("september 9th , 2019" for 09/09/2019; the "eight"
    said after the year is no day of 09/08/2019)?"""
    t, tokens = check.transcript, check.note
    places = [_places(t.number_at, tokens, k) for k in run]
    if not all(places):
        return False
    for first in places[0]:
        at = first
        for others in places[1:]:
            i = bisect_right(others, at)
            if i == len(others) or others[i] > first + FIGURE_REACH:
                break
            at = others[i]
        else:
            return True
    return False


def _within(sorted_positions: list[int], p: int, reach: int) -> bool:
    i = bisect_left(sorted_positions, p - reach)
    return i < len(sorted_positions) and sorted_positions[i] <= p + reach


def _places(number_at: dict[str, list[int]], tokens: Tokens, k: int) -> list[int]:
    return sorted(p for v in tokens.values[k] for p in number_at.get(number_key(v), []))
