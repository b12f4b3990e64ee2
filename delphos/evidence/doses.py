"""Drugs, doses and frequencies: a drug the transcript never names; a dose or frequency
the transcript does not say for that drug. A dose belongs to one drug: the one it is
written with in the note ("40 mg of lisinopril", "lisinopril 40 mg"), and in the
transcript the doses said around a mention of the drug, up to the mention of another."""

from __future__ import annotations

from bisect import bisect_left
from typing import Final

from rapidfuzz import fuzz, process

from delphos.evidence.check import Check
from delphos.evidence.drugs import is_class, lexicon, lookup
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

# Tokens: how far a dose may stand from its drug, in the note and in speech.
NOTE_AFTER: Final = 7
NOTE_BEFORE: Final = 4
SPEECH_AFTER: Final = 30
SPEECH_BEFORE: Final = 8
FREQ_BEFORE: Final = 12
BARE_AFTER: Final = 2
FUZZY_DRUG: Final = 85.0
_OF: Final = frozenset({"of", "de", "do", "da"})
_TIMES: Final = frozenset({"times", "time", "x", "vezes", "vez"})
_PER: Final = frozenset({"a", "per", "each", "every", "ao", "por", "cada"})
_EVERY: Final = frozenset({"every", "cada", "q"})
_RANGE: Final = frozenset({"to", "or", "a", "ou"})
_NUMBER_WORDS: Final = NUM_EN | NUM_PT
# Tokens: how far back from a drug's name a count or dose said before it may start
# ("two hundred and fifty of amoxicillin").
COUNT_BEFORE: Final = 6
# Words of a regimen that stand between a drug and its frequency without taking it
# ("metformin 500 mg by mouth twice daily", "with meals"); any other content word more
# than one ("gabapentin, reporting less pain at night") makes a word frequency another
# thing's.
_REGIMEN: Final = frozenset(
    "by mouth oral orally po tablet tablets capsule capsules take takes taking with meals "
    "food needed prn via route inhaled topically topical".split()
)
FREQ_GAP: Final = 1
# Dosage forms a consultation names a drug by once it has been named.
_FORMS: Final = frozenset(
    "inhaler inhalers cream ointment patch patches drops spray nebulizer pen gel".split()
)
# Tokens: how far a dose's unit carries to a number said after it without one.
CARRY: Final = 10
_ALL_UNITS: Final = frozenset(UNITS.values())


def _note_drugs(tokens: Tokens, table: dict[str, str]) -> list[tuple[int, int, str]]:
    """(first token, last token, generic name) of each drug the statement names."""
    found: list[tuple[int, int, str]] = []
    norms = tokens.norms
    i = 0
    while i < len(norms):
        if len(norms[i]) >= 4 or (i + 1 < len(norms) and len(norms[i]) >= 3):
            pair = norms[i] + " " + norms[i + 1] if i + 1 < len(norms) else ""
            if pair and pair in table:
                found.append((i, i + 1, table[pair]))
                i += 2
                continue
            drug = lookup(norms[i], table) if len(norms[i]) >= 4 else None
            if drug is not None:
                found.append((i, i, drug))
        i += 1
    return found


def _doses(tokens: Tokens) -> list[tuple[int, int, str]]:
    """(number token, unit token, unit) of every "<number> <dose unit>" of a statement."""
    return [
        (k, k + 1, tokens.stems[k + 1])
        for k in sorted(tokens.values)
        if k + 1 < len(tokens) and tokens.stems[k + 1] in DOSE_UNITS
    ]


def _owner(drugs: list[tuple[int, int, str]], tokens: Tokens, k: int, unit_k: int) -> int:
    """Index in `drugs` of the drug a dose belongs to, or -1: "<dose> of <drug>" is the
    next drug's; otherwise the nearest drug before it, else just after it."""
    after = next((n for n, d in enumerate(drugs) if d[0] > unit_k), -1)
    if after >= 0 and drugs[after][0] <= unit_k + 3 and unit_k + 1 < len(tokens):
        if tokens.norms[unit_k + 1] in _OF:
            return after
    before = max((n for n, d in enumerate(drugs) if d[1] < k), default=-1)
    if before >= 0 and k - drugs[before][1] <= NOTE_AFTER:
        return before
    if after >= 0 and drugs[after][0] - unit_k <= NOTE_BEFORE:
        return after
    return -1


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
        if hit is None:
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
    of = j >= lo and norms[j] in _OF
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


def _regimen(
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
                following not in _ALL_UNITS and norms[k] not in ORDINALS and k - carried_at <= CARRY
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


def _takes(tokens: Tokens, last: int, k0: int, k1: int) -> bool:
    """Is the frequency at `k0`..`k1` the drug's (named up to token `last`)? One with a
    number ("twice daily", "every 6 hours") always is, as before; a word frequency ("at
    night", "daily") only with at most one content word between, the regimen's own words
    aside ("prednisone, reporting improvement of pain at night" says when the pain is)."""
    if any(k in tokens.values for k in range(k0, k1 + 1)):
        return True
    between = [
        k
        for k in range(last + 1, k0)
        if tokens.stems[k]
        and k not in tokens.values
        and tokens.stems[k] not in DOSE_UNITS
        and tokens.norms[k] not in _REGIMEN
    ]
    return len(between) <= FREQ_GAP


def _form_mentions(t: Transcript, tokens: Tokens, last: int, positions: list[int]) -> list[int]:
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


def _fuzzy_mentions(t: Transcript, word: str) -> list[int]:
    """Where the transcript names a drug in another spelling (ASR: "lysinopril")."""
    if len(word) < 5 or not t.vocabulary:
        return []
    match = process.extractOne(word, t.vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_DRUG)
    if match is None:
        return []
    return t.stem_at.get(stem(match[0]), [])


def check_drugs(check: Check) -> None:
    t, tokens = check.transcript, check.note
    table = lexicon()
    drugs = _note_drugs(tokens, table)
    if not drugs:
        return
    owned: list[list[tuple[int, int, str]]] = [[] for _ in drugs]
    for k, unit_k, unit in _doses(tokens):
        n = _owner(drugs, tokens, k, unit_k)
        if n >= 0:
            owned[n].append((k, unit_k, unit))
    for n, (first, last, drug) in enumerate(drugs):
        name = check.snippet(first, last)
        positions = t.drug_at.get(drug) or _fuzzy_mentions(t, tokens.norms[first])
        if positions:
            positions = sorted({*positions, *_form_mentions(t, tokens, last, positions)})
        limit = drugs[n + 1][0] if n + 1 < len(drugs) else len(tokens)
        freqs = [
            f
            for f in frequencies(tokens, last + 1, min(limit, last + 14))
            if _takes(tokens, last, f[0], f[1])
        ]
        for k, unit_k, _ in owned[n]:
            check.consumed.update((k, unit_k))
        if not positions:
            if is_class(drug):
                continue
            check.flag(
                "drug", name, f'The note names "{name}", which the transcript never mentions.'
            )
            continue
        # Another drug's mention cuts a window, but not the second word of this drug's
        # own name ("sulfate" of "ferrous sulfate" is also a drug on its own).
        own = set(positions)
        norms = t.tokens.norms
        # Nor is the drug's own mention another's: a name found by spelling
        # ("lidocaine" for the note's "lidocaine viscous") is indexed as its own drug.
        others = sorted(
            p
            for d, at in t.drug_at.items()
            if d != drug
            for p in at
            if p not in own
            and not (p - 1 in own and table.get(f"{norms[p - 1]} {norms[p]}") == drug)
        )
        said_doses, said_freqs = _regimen(t, drug, positions, others)
        heard = check.said(positions[0])
        for k, unit_k, unit in owned[n]:
            keys = {number_key(v) for v in tokens.values[k]}
            if any((key, unit) in said_doses or (key, "") in said_doses for key in keys):
                continue
            dose = check.snippet(k, unit_k)
            check.flag(
                "dose",
                dose,
                f'The note gives {name} as "{dose}"; the transcript does not say that dose '
                f'for it (it says: "{heard}").',
            )
        for k0, k1, per_day in freqs:
            check.consumed.update(range(k0, k1 + 1))
            # A range ("every 6 to 8 hours") is said when both its ends are: one end said
            # is not the other end changed ("every 4 to 8 hours").
            if per_day <= said_freqs:
                continue
            words = check.snippet(k0, k1)
            check.flag(
                "dose",
                words,
                f'The note gives {name} "{words}"; the transcript does not say that '
                f'frequency for it (it says: "{heard}").',
            )
