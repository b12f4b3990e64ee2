"""The errors bench/faithfulness.py puts into reference notes, one at a time, and where
each may go (see that module's docstring for the rules): general rules, never written for
particular notes."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.aci import SPLITS, encounters
from delphos.evidence.drugs import lexicon, lookup
from delphos.evidence.lexicon import DOSE_UNITS, STOPWORDS
from delphos.evidence.text import tokenize

# Common drugs, one of which the dialogue does not name, for "drug" injections.
OTHER_DRUGS = (
    "metoprolol", "atorvastatin", "amlodipine", "warfarin", "sertraline", "gabapentin",
    "omeprazole", "levothyroxine", "prednisone", "hydrochlorothiazide", "clopidogrel",
    "tramadol",
)  # fmt: skip
_FLIP_SIDE = {
    "left": "right", "right": "left", "Left": "Right", "Right": "Left",
    "LEFT": "RIGHT", "RIGHT": "LEFT",
}  # fmt: skip
_SIDE = re.compile(r"\b(?:left|right|Left|Right|LEFT|RIGHT)\b(?! (?:now|away)\b)")
_CONTENT = re.compile(r"[a-z]{3,}")
_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE = re.compile(r"[.!?]+\s|\n")
_NEGATED = re.compile(r"\b(?:[Dd]enies(?: any)?|[Nn]o|[Nn]egative for|[Ww]ithout)\s+")
_AFFIRMED = re.compile(
    r"\b(?:[Rr]eports|[Ee]ndorses|[Cc]omplains of|[Hh]as been experiencing|[Hh]as had)\s+"
)


@dataclass
class Case:
    dialogue: str
    note: dict[str, str]
    # The dialogue's sentences as lists of lowercase words (for choosing injection sites).
    sentences: list[list[str]] = field(default_factory=list)


def load() -> list[Case]:
    return [
        Case(dialogue=e.dialogue, note=e.sections, sentences=_sentences(e.dialogue))
        for split in SPLITS
        for e in encounters(split)
    ]


def _sentences(dialogue: str) -> list[list[str]]:
    return [_WORD.findall(s.lower()) for s in _SENTENCE.split(dialogue)]


# --- injections: (new statement text, offset of the change in it) or None ------------------

Injector = Callable[[str, Case, random.Random], tuple[str, int] | None]


def _number_tokens(text: str) -> list[tuple[int, int, float, bool]]:
    """(start, end, value, is a dose) of the digit numbers of a statement."""
    tokens = tokenize(text)
    out = []
    for k, values in tokens.values.items():
        if not tokens.norms[k][0].isdigit():
            continue
        dose = k + 1 < len(tokens) and tokens.stems[k + 1] in DOSE_UNITS
        out.append((tokens.starts[k], tokens.ends[k], values[0], dose))
    return out


def _changed(value: float, rng: random.Random) -> str:
    if value != int(value):
        return f"{value + rng.choice([-1, 1]) * max(0.1, round(value * 0.3, 1)):g}"
    v = int(value)
    step = rng.randint(1, max(2, v // 3))
    new = v + step if rng.random() < 0.5 or v - step <= 0 else v - step
    return str(new)


def inject_number(text: str, case: Case, rng: random.Random) -> tuple[str, int] | None:
    numbers = _number_tokens(text)
    found = [n for n in numbers if not n[3]]
    if not found:
        return None
    start, end, value, _ = rng.choice(found)
    new = _changed(value, rng)
    # Not a value the statement itself gives next to it ("1-2 cm" → "2-2 cm", "4/5 on
    # the right and 5/5 on the left" → "5/5 … 5/5"): the change must be a new number.
    if any(f"{n[2]:g}" == new for n in numbers):
        return None
    return text[:start] + new + text[end:], start


def inject_dose(text: str, case: Case, rng: random.Random) -> tuple[str, int] | None:
    table = lexicon()
    tokens = tokenize(text)
    if not any(lookup(w, table) for w in tokens.norms):
        return None
    found = [n for n in _number_tokens(text) if n[3]]
    if not found:
        return None
    start, end, value, _ = rng.choice(found)
    new = f"{value * rng.choice([2, 0.5]):g}" if rng.random() < 0.5 else _changed(value, rng)
    return text[:start] + new + text[end:], start


def inject_drug(text: str, case: Case, rng: random.Random) -> tuple[str, int] | None:
    table = lexicon()
    said = {lookup(w, table) for w in tokenize(case.dialogue).norms}
    absent = [d for d in OTHER_DRUGS if lookup(d, table) not in said]
    drug = rng.choice(absent)
    tokens = tokenize(text)
    for k, word in enumerate(tokens.norms):
        if len(word) >= 4 and lookup(word, table):
            return text[: tokens.starts[k]] + drug + text[tokens.ends[k] :], tokens.starts[k]
    return None


def _said_together(case: Case, words: list[str]) -> bool:
    """Does one sentence of the dialogue hold all these words (by their first five
    letters: "knees" is "knee", "swelling" is "swell")?"""
    stems = {w[:5] for w in words}
    return any(stems <= {w[:5] for w in sentence} for sentence in case.sentences)


def _side_stated(case: Case, text: str, m: re.Match[str]) -> bool:
    """Does the dialogue name this side of this body part? The part is the word after the
    side ("right knee", "left side"), else the word before it ("tenderness on the
    right"); the dialogue must say the same side within four words of it."""
    after = [w for w in _CONTENT.findall(text[m.end() :].lower()) if w not in STOPWORDS][:1]
    before = [w for w in _CONTENT.findall(text[: m.start()].lower()) if w not in STOPWORDS][-1:]
    part = (after or before or [""])[0][:5]
    if not part:
        return False
    side = m.group().lower()
    for sentence in case.sentences:
        for i, word in enumerate(sentence):
            if word == side and any(w[:5] == part for w in sentence[max(0, i - 4) : i + 5]):
                return True
    return False


def inject_side(text: str, case: Case, rng: random.Random) -> tuple[str, int] | None:
    """Flip a side the dialogue states for that body part (a side the dialogue never
    states for it is not an error a reader of the dialogue could see)."""
    found = [m for m in _SIDE.finditer(text) if _side_stated(case, text, m)]
    if not found:
        return None
    m = rng.choice(found)
    return text[: m.start()] + _FLIP_SIDE[m.group()] + text[m.end() :], m.start()


def inject_negation(text: str, case: Case, rng: random.Random) -> tuple[str, int] | None:
    """Flip the polarity of a finding the dialogue talks about: its first three content
    words said in one sentence of the dialogue ("suicidal ideation" when the dialogue
    asks about "hurting yourself" cannot be checked by words)."""
    negated = list(_NEGATED.finditer(text))
    affirmed = list(_AFFIRMED.finditer(text))
    options = [("neg", m) for m in negated] + [("aff", m) for m in affirmed]
    options = [
        (kind, m)
        for kind, m in options
        if (words := _finding(text[m.end() :])) and _said_together(case, words)
    ]
    if not options:
        return None
    kind, m = rng.choice(options)
    word = m.group().strip()
    if kind == "neg":
        new = "reports " if word[0].islower() else "Reports "
        if word.lower() in ("no", "without"):
            new = "with " if word[0].islower() else "Has "
    else:
        new = "denies " if word[0].islower() else "Denies "
    return text[: m.start()] + new + text[m.end() :], m.start()


def _finding(rest: str) -> list[str]:
    """The first three content words of the finding a cue scopes over (up to a
    punctuation mark, "or", "and", "but")."""
    clause = re.split(r"[,;:.()]|\b(?:or|and|but|nor)\b", rest.lower(), maxsplit=1)[0]
    return [w for w in _CONTENT.findall(clause) if w not in STOPWORDS][:3]


INJECTORS: dict[str, Injector] = {
    "number": inject_number,
    "dose": inject_dose,
    "drug": inject_drug,
    "laterality": inject_side,
    "negation": inject_negation,
}
