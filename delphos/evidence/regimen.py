"""What a transcript says of a drug's regimen: the doses and frequencies said around
its mentions (each window cut at the mention of another drug), the count or dose said
just before its name, and the mentions of it by another spelling or by its form alone.
And the dose frequencies of any text, note or speech, as times a day."""

from __future__ import annotations

from bisect import bisect_left
from typing import Final

from rapidfuzz import fuzz, process

from delphos.evidence.lexicon import (
    DOSE_UNITS,
    FREQ_MAX_WORDS,
    FREQUENCIES,
    NUM_EN,
    NUM_PT,
    ORDINALS,
    SAID_DOSES,
    UNITS,
)
from delphos.evidence.text import Tokens, number_key, stem
from delphos.evidence.transcript import Transcript

# Tokens: how far a dose may stand from its drug in speech.
SPEECH_AFTER: Final = 30
SPEECH_BEFORE: Final = 8
FREQ_BEFORE: Final = 12
BARE_AFTER: Final = 2
FUZZY_DRUG: Final = 85.0
OF: Final = frozenset({"of", "de", "do", "da"})
_TIMES: Final = frozenset({"times", "time", "x", "vezes", "vez"})
_PER: Final = frozenset({"a", "per", "each", "every", "ao", "por", "cada"})
_EVERY: Final = frozenset({"every", "cada", "q"})
_RANGE: Final = frozenset({"to", "or", "a", "ou"})
_NUMBER_WORDS: Final = NUM_EN | NUM_PT
# Tokens: how far back from a drug's name a count or dose said before it may start
# ("two hundred and fifty of amoxicillin").
COUNT_BEFORE: Final = 6
# Dosage forms a consultation names a drug by once it has been named.
_FORMS: Final = frozenset(
    "inhaler inhalers cream ointment patch patches drops spray nebulizer pen gel".split()
)
# Tokens: how far a dose's unit carries to a number said after it without one.
CARRY: Final = 10
_ALL_UNITS: Final = frozenset(UNITS.values())
_FIGURE_JOINERS: Final = frozenset({"over", "out", "sobre", "por"})
# The first word of every written frequency: a phrase joined from tokens can equal one
# only if its first word does, so the rest of a transcript's tokens skip the joins and
# lookups of every phrase length (a fifth of a note's evidence time, cProfile).
_FREQ_FIRST: Final = frozenset(key.partition(" ")[0] for key in FREQUENCIES)


def frequencies(tokens: Tokens, lo: int, hi: int) -> list[tuple[int, int, frozenset[float]]]:
    """Dose frequencies as times a day ("twice daily", "every six hours", "3 times a day",
    "de 8 em 8 horas", "every 6 to 8 hours"), numbers written either way."""
    values, stems = tokens.values, tokens.stems
    words = [number_key(values[k][0]) if k in values else tokens.norms[k] for k in range(lo, hi)]

    def num(k: int) -> float | None:
        return values[k][0] if lo <= k < hi and k in values and values[k][0] > 0 else None

    found: list[tuple[int, int, frozenset[float]]] = []
    k = lo
    while k < hi:
        hit: tuple[int, frozenset[float]] | None = None
        n = num(k)
        if n is not None and k + 2 < hi and tokens.norms[k + 1] in _TIMES:
            # "3 times a day", "2 times daily", "3 vezes ao dia", "2 times a week"
            j = k + 2 + (tokens.norms[k + 2] in _PER)
            if j < hi and stems[j] in ("day", "daily", "diaria", "diario"):
                hit = (j, frozenset({n}))
            elif j < hi and stems[j] == "week":
                hit = (j, frozenset({n / 7}))
        elif tokens.norms[k] in _EVERY or (tokens.norms[k] == "de" and num(k + 1)):
            # "every 6 hours", "every 6 to 8 hours", "a cada 8 horas", "de 8 em 8 horas"
            first = num(k + 1)
            j = k + 2
            hours = {first} if first else set()
            if first and j + 1 < hi and tokens.norms[j] in _RANGE | {"em"} and num(j + 1):
                hours.add(num(j + 1) or first)
                j += 2
            if hours and j < hi and stems[j] == "hour":
                hit = (j, frozenset(24 / h for h in hours))
        if hit is None and (
            tokens.norms[k].partition(" ")[0] in _FREQ_FIRST
            or words[k - lo].partition(" ")[0] in _FREQ_FIRST
        ):
            for size in range(min(FREQ_MAX_WORDS, hi - k), 0, -1):
                # "once daily" as written, "3 times a day" with its number as digits.
                per_day = FREQUENCIES.get(" ".join(tokens.norms[k : k + size]))
                if per_day is None:
                    per_day = FREQUENCIES.get(" ".join(words[k - lo : k - lo + size]))
                if per_day is not None:
                    hit = (k + size - 1, frozenset({per_day}))
                    break
        if hit is not None:
            found.append((k, hit[0], hit[1]))
            k = hit[0]
        k += 1
    return found


def _said_before(t: Transcript, pos: int, lo: int) -> tuple[str, str] | None:
    """A number said just before the drug's name: a count of its tablets ("two tylenol")
    or, before "of", its dose with the unit left unsaid ("five hundred of metformin",
    "two . five of norvasc"). Only the run's first reading: its digits are not doses."""
    norms, values = t.tokens.norms, t.tokens.values
    j = pos - 1
    of = j >= lo and norms[j] in OF
    if of:
        j -= 1
    first = -1
    while j >= max(lo, pos - COUNT_BEFORE) and (
        norms[j] in _NUMBER_WORDS or norms[j][:1].isdigit()
    ):
        if j in values:
            first = j
        j -= 1
    if first < 0 or norms[first] in ORDINALS:
        return None
    return number_key(values[first][0]), "" if of else "tablet"


def regimen(
    t: Transcript, drug: str, positions: list[int], others: list[int]
) -> tuple[set[tuple[str, str]], set[float]]:
    """Doses (value, unit or "") and frequencies said around a drug's mentions, each
    window cut at the mention of another drug (`others`, sorted)."""
    doses: set[tuple[str, str]] = set()
    freqs: set[float] = set()
    norms, stems, values = t.tokens.norms, t.tokens.stems, t.tokens.values
    named = SAID_DOSES.get(drug.lower(), {})
    for pos in positions:
        # "baby aspirin": a dose said by its everyday name.
        if pos > 0 and norms[pos - 1] in named:
            doses.add(named[norms[pos - 1]])
        lo, hi = max(0, pos - SPEECH_BEFORE), min(len(norms), pos + SPEECH_AFTER + 1)
        # A frequency is said before the name further back than a dose ("25 milligram
        # tablets , twice daily . okay , and that's the ferrous sulfate ?").
        early = max(0, pos - FREQ_BEFORE)
        j = bisect_left(others, pos)
        if j > 0:
            lo = max(lo, others[j - 1] + 1)
            early = max(early, others[j - 1] + 1)
        if j < len(others):
            hi = min(hi, others[j])
        before = _said_before(t, pos, lo)
        if before is not None:
            doses.add(before)
        carried, carried_at = "", -1
        for k in range(lo, hi):
            found = values.get(k)
            if found is None:
                continue
            # The unit may follow the number word run ("forty milligrams"); a bare
            # number counts only right after the drug ("lisinopril twenty").
            following = next(
                (stems[n] for n in range(k + 1, min(len(norms), k + 6)) if stems[n]), ""
            )
            unit = following if following in DOSE_UNITS else ""
            if unit:
                carried, carried_at = unit, k
            elif (
                following not in _ALL_UNITS
                and norms[k] not in ORDINALS
                and k - carried_at <= CARRY
                and not _figure(norms, k)
            ):
                # "increase it to 175 milligrams ? i'm at 140 now", "50,000 units on
                # sundays and 2000 on the other days": the unit said just before holds.
                unit = carried
            # "lisinopril twenty"; not "flexeril five milligrams three times a day".
            bare = (
                pos < k <= pos + BARE_AFTER
                and norms[k] not in ORDINALS
                and (k + 1 >= len(norms) or norms[k + 1] not in _TIMES)
            )
            if unit or bare:
                for value in found:
                    doses.add((number_key(value), unit))
        for _, _, per_day in frequencies(t.tokens, early, hi):
            freqs |= per_day
    return doses, freqs


def _figure(norms: list[str], k: int) -> bool:
    """Is the number run at `k` part of a figure ("one thirty over eighty", "three out
    of five"), not a quantity a unit could carry to?"""
    j = k + 1
    while j < len(norms) and norms[j] in _NUMBER_WORDS:
        j += 1
    return j < len(norms) and norms[j] in _FIGURE_JOINERS


def form_mentions(t: Transcript, tokens: Tokens, last: int, positions: list[int]) -> list[int]:
    """Where the transcript names the drug by its form alone ("two puffs of the inhaler"
    after "i have an albuterol inhaler"): the note writes the form after the name
    ("albuterol inhaler"), the transcript says that form with this drug and with no other."""
    if last + 1 >= len(tokens) or tokens.norms[last + 1] not in _FORMS:
        return []
    places = t.stem_at.get(tokens.stems[last + 1], [])
    own = set(positions)
    if not any(p - 1 in own or p - 2 in own for p in places):
        return []
    others = {p for d, at in t.drug_at.items() for p in at if p not in own}
    if any(p - 1 in others or p - 2 in others for p in places):
        return []
    return places


def fuzzy_mentions(t: Transcript, word: str) -> list[int]:
    """Where the transcript names a drug in another spelling (ASR: "lysinopril")."""
    if len(word) < 5 or not t.vocabulary:
        return []
    match = process.extractOne(word, t.vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_DRUG)
    if match is None:
        return []
    return t.stem_at.get(stem(match[0]), [])
