"""Drugs, doses and frequencies: a drug the transcript never names; a dose or frequency
the transcript does not say for that drug. A dose belongs to one drug: the one it is
written with in the note ("40 mg of lisinopril", "lisinopril 40 mg"), and in the
transcript the doses said around a mention of the drug, up to the mention of another."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from delphos.evidence.check import Check
from delphos.evidence.drugs import is_class, lexicon, lookup
from delphos.evidence.lexicon import DOSE_UNITS
from delphos.evidence.regimen import OF, form_mentions, frequencies, fuzzy_mentions, regimen
from delphos.evidence.text import Tokens, number_key
from delphos.evidence.transcript import Transcript

# Tokens: how far a dose may stand from its drug in the note.
NOTE_AFTER: Final = 7
NOTE_BEFORE: Final = 4
# Words of a regimen that stand between a drug and its frequency without taking it
# ("metformin 500 mg by mouth twice daily", "with meals"); any other content word more
# than one ("gabapentin, reporting less pain at night") makes a word frequency another
# thing's.
_REGIMEN: Final = frozenset(
    "by mouth oral orally po tablet tablets capsule capsules take takes taking with meals "
    "food needed prn via route inhaled topically topical".split()
)
FREQ_GAP: Final = 1
# numbers.py reads the note's dose frequencies from here.
__all__ = ["check_drugs", "frequencies"]


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
        if tokens.norms[unit_k + 1] in OF:
            return after
    before = max((n for n, d in enumerate(drugs) if d[1] < k), default=-1)
    if before >= 0 and k - drugs[before][1] <= NOTE_AFTER:
        return before
    if after >= 0 and drugs[after][0] - unit_k <= NOTE_BEFORE:
        return after
    return -1


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


def _regimen(
    t: Transcript, drug: str, positions: list[int], table: Mapping[str, str]
) -> tuple[frozenset[tuple[str, str]], frozenset[float]]:
    """What the transcript says of the drug's regimen around `positions`: worked out once
    per transcript, not per statement (a note naming a drug in 200 statements, against a
    transcript saying it 1,500 times, took 33 s)."""
    key = (drug, tuple(positions))
    said = t.regimens.get(key)
    if said is None:
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
        doses, freqs = regimen(t, drug, positions, others)
        said = t.regimens[key] = (frozenset(doses), frozenset(freqs))
    return said


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
        positions = t.drug_at.get(drug) or fuzzy_mentions(t, tokens.norms[first])
        if positions:
            positions = sorted({*positions, *form_mentions(t, tokens, last, positions)})
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
        said_doses, said_freqs = _regimen(t, drug, positions, table)
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
