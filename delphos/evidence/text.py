"""Tokens with offsets, normalised for comparison: lowercase, accents stripped, a crude
stem, units canonical, numbers (digits or words, English and Portuguese) as values.

One regex pass and one loop over the tokens: linear in the text, no model."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

from text_to_num import text2num

from delphos.evidence.lexicon import (
    MONTHS,
    NUM_EN,
    NUM_PT,
    ORDINALS,
    PT_ACCENTED,
    STOPWORDS,
    UNITS,
)
from delphos.evidence.spoken import spoken_forms, spoken_halves_and_ranges
from delphos.text import fold

_TOKEN: Final = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+|[%°]")
# The same tokens in lowercased ASCII text (nearly every transcript), where letters are
# a-z and digits 0-9: Python's regex engine tests a plain character range much faster
# than a Unicode class (a 100,000-character transcript: 9 ms against 15). Letters first:
# they start most tokens.
_TOKEN_ASCII: Final = re.compile(r"[a-z]+|[0-9]+(?:[.,][0-9]+)*|%")
_ORDINAL_SUFFIX: Final = frozenset({"st", "nd", "rd", "th", "s", "x", "o", "a", "yo"})
_NUMBER_WORDS: Final = NUM_EN | NUM_PT
_JOINERS: Final = frozenset({"and", "e"})
_DECIMAL_POINT: Final = frozenset({"point", "virgula", "ponto"})
_SCALES: Final = frozenset({"hundred", "thousand"})
# "at this point 5 mg": the noun, not a decimal point.
_POINT_NOUN: Final = frozenset("this that the a one some any what which no each".split())
_PAUSE: Final = re.compile(r"[,.;:?!]")
_PT_ARTICLES: Final = frozenset({"um", "uma"})


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Crude suffix stripping, enough to meet "pains"/"pain", "swelling"/"swell",
    "hypertension"/"hypertensive", "dores"/"dor" across a note and its transcript."""
    unit = UNITS.get(word)
    if unit is not None:
        return unit
    if len(word) > 4:
        for suffix in ("ing", "ed", "es", "s"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
    return word[:6]


def number_key(value: float) -> str:
    return f"{value:g}"


def _digits_value(raw: str) -> float | None:
    if "," in raw:
        head, _, tail = raw.rpartition(",")
        # "1,000" is a thousand; "2,5" is Portuguese for 2.5.
        raw = (
            raw.replace(",", "")
            if len(tail) == 3 and "." not in raw
            else head.replace(",", "") + "." + tail
        )
    if raw.count(".") > 1:
        return None
    try:
        return float(raw)
    except ValueError:
        return None


def _words_value(words: list[str]) -> float | None:
    if words[0] in _SCALES:
        words = ["one", *words]  # "a hundred", "thousand": one of them
    lang = "pt" if any(w in NUM_PT and w not in NUM_EN for w in words) else "en"
    phrase = " ".join(PT_ACCENTED.get(w, w) for w in words)
    try:
        return float(text2num(phrase, lang))
    except (ValueError, TypeError):
        return None


@dataclass(slots=True)
class Tokens:
    """Parallel arrays, one entry per token of `text`."""

    text: str
    norms: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    # Content stem, "" for stopwords, punctuation and the inner words of a number.
    stems: list[str] = field(default_factory=list)
    # Numeric values a token stands for (a run of number words: on its first token).
    values: dict[int, list[float]] = field(default_factory=dict)

    # Portuguese text: "no" is "em o" there, not a negation.
    portuguese: bool = False

    def __len__(self) -> int:
        return len(self.norms)


_PT_MARKERS: Final = frozenset(
    "nao de que com para os uma do da em na esta voce ha tem dor".split()
)
_EN_MARKERS: Final = frozenset("the and of to is you with for have it my your has".split())


def _is_portuguese(norms: list[str], default: bool) -> bool:
    sample = norms[:400]
    pt = sum(w in _PT_MARKERS for w in sample)
    en = sum(w in _EN_MARKERS for w in sample)
    # A short statement often has no marker of either language ("Derrame no joelho
    # esquerdo."): it is then in its transcript's language (`default`).
    return default if pt == en else pt > en


def _is_code(text: str, start: int, end: int, next_norm: str | None, next_start: int) -> bool:
    """Digits that are part of a name ("B12", "COVID-19", "A1c"), not a quantity."""
    if start > 0:
        before = text[start - 1]
        if before.isalpha():
            return True
        if before == "-" and start > 1 and text[start - 2].isalpha():
            return True
        if before == "-" and _after_code(text, start - 1):
            return True  # "C5-6", "L4-5": a range of spinal levels, names
    return (
        next_norm is not None
        and next_start == end
        and next_norm.isalpha()
        and next_norm not in UNITS
        and next_norm not in _ORDINAL_SUFFIX
    )


def _after_code(text: str, end: int) -> bool:
    """Do the characters before `end` read letter-digits ("C5" of "C5-6")? At most a
    few characters back: constant work."""
    k = end - 1
    while k >= 0 and end - k <= 3 and text[k].isdigit():
        k -= 1
    return k < end - 1 and k >= 0 and text[k].isalpha() and (k == 0 or not text[k - 1].isalpha())


# Per distinct word: PLAIN, DIGITS, NUMBER_WORD, or MARKED (a plain word that may stand
# for a number: "point", an ordinal, a month). With its stem. Words repeat, so this memo
# stays small, and the loop below visits only the tokens that are not PLAIN.
PLAIN: Final = 0
DIGITS: Final = 1
NUMBER_WORD: Final = 2
MARKED: Final = 3
_KIND: dict[str, tuple[int, str]] = {}
_MEMO_LIMIT: Final = 200_000


def _word_kind(word: str) -> tuple[int, str]:
    if word[0].isdigit():
        found = (DIGITS, "")
    elif word in _NUMBER_WORDS:
        found = (NUMBER_WORD, "")
    else:
        word_stem = "" if word in STOPWORDS else stem(word)
        marked = word in _DECIMAL_POINT or word in ORDINALS or word in MONTHS
        found = (MARKED if marked else PLAIN, word_stem)
    if len(_KIND) < _MEMO_LIMIT:
        _KIND[word] = found
    return found


_MATCH: Final = re.Match


def tokenize(text: str, *, months: bool = False, portuguese: bool = False) -> Tokens:
    """`months`: the text is speech (a transcript): count month names as their number
    ("march third") and read the numbers speech says without number words
    (spoken.spoken_forms: "in a week", "ninety eight . seven"). `portuguese`: the
    language to assume when the text's own words do not tell (a note statement takes
    its transcript's)."""
    out = Tokens(text=text)
    lowered = text.lower()
    if len(lowered) != len(text):  # a rare letter whose lowercase is longer ("İ")
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    # Method descriptors mapped over the matches: no Python frame per token.
    ascii_text = lowered.isascii()
    matches = list((_TOKEN_ASCII if ascii_text else _TOKEN).finditer(lowered))
    norms = list(map(_MATCH.group, matches))
    if not ascii_text:
        norms = [w if w.isascii() else fold(w) for w in norms]
    out.norms = norms
    out.portuguese = _is_portuguese(norms, portuguese)
    out.starts = starts = list(map(_MATCH.start, matches))
    out.ends = ends = list(map(_MATCH.end, matches))
    count = len(norms)
    get = _KIND.get
    kinds = [get(w) or _word_kind(w) for w in norms]
    # Every token's stem as a plain word; the loop below blanks the words of numbers.
    out.stems = stems = [s for _, s in kinds]
    values = out.values
    special = [k for k, (kind, _) in enumerate(kinds) if kind]
    i = 0  # the first token not yet read as part of a number
    for k in special:
        if k < i:
            continue  # inside a number read from an earlier token
        i = k
        word = norms[i]
        kind = kinds[i][0]
        if kind == NUMBER_WORD and word in _PT_ARTICLES and not out.portuguese:
            continue  # English "um" is a filler, not Portuguese "one"
        if kind == MARKED:
            if (
                word in _DECIMAL_POINT
                and i + 1 < count
                and (i == 0 or (i - 1 not in values and norms[i - 1] not in _POINT_NOUN))
                and (fraction := _fraction(norms, i + 1))
            ):
                # "point five centimeters": 0.5; its digit words are no numbers of their own.
                values[i] = [float("0." + fraction)]
                # Digits written as such ("point 25") are one token, however many digits.
                used = 1 if norms[i + 1].isdigit() else len(fraction)
                for m in range(i + 1, i + 1 + used):
                    stems[m] = ""
                i += 1 + used
                continue
            if word in ORDINALS:
                values[i] = [ORDINALS[word]]
            elif months and word in MONTHS:
                values[i] = [float(MONTHS[word])]
            i += 1
            continue
        if kind == DIGITS:
            nxt = i + 1 < count
            if not _is_code(
                text,
                starts[i],
                ends[i],
                norms[i + 1] if nxt else None,
                starts[i + 1] if nxt else -1,
            ):
                value = _digits_value(word)
                if value is not None:
                    values[i] = [value]
            i += 1
            continue
        # The longest run of number words ("one hundred and twenty", "cento e vinte").
        # A comma or full stop between number words ends the number: "three hundred,
        # twenty" is two numbers said in a row, not 320.
        j = i + 1
        while (
            j < count
            and not _PAUSE.search(text, ends[j - 1], starts[j])
            and (
                norms[j] in _NUMBER_WORDS
                or (norms[j] in _JOINERS and j + 1 < count and norms[j + 1] in _NUMBER_WORDS)
            )
        ):
            j += 1
        _number_run(norms, i, j, values)
        for m in range(i, j):
            stems[m] = ""
        # "ninety nine point seven", "seis vírgula sete": a decimal said in words.
        if j + 1 < count and norms[j] in _DECIMAL_POINT and norms[j + 1] in _NUMBER_WORDS:
            m = j + 1
            while m < count and norms[m] in _NUMBER_WORDS:
                m += 1
            fraction = "".join(str(int(v)) for w in norms[j + 1 : m] if (v := _digit(w)) >= 0)
            if i in values and len(fraction) == m - j - 1:
                values[i].append(float(f"{number_key(values[i][0])}.{fraction}"))
            for n in range(j, m):
                stems[n] = ""
            j = m
        i = j
    spoken_forms(text, norms, (starts, ends), values, speech=months)
    spoken_halves_and_ranges(norms, values)
    return out


def _fraction(norms: list[str], start: int) -> str:
    """The digits of the digit words from `start` ("five" → "5"), "" if none; digits
    written as such ("point 5", as a transcriber may) count as they are."""
    if norms[start].isdigit():
        return norms[start]
    digits = ""
    for word in norms[start:]:
        value = _digit(word) if word in _NUMBER_WORDS else -1
        if value < 0:
            break
        digits += str(int(value))
    return digits


def _digit(word: str) -> float:
    value = _words_value([word])
    return value if value is not None and 0 <= value <= 9 else -1


def _number_run(norms: list[str], i: int, j: int, values: dict[int, list[float]]) -> None:
    """Values of number words norms[i:j]: the whole run if it is one number, else its
    longest parts; "one twenty" (a spoken 120) also counts as 100·a + b."""
    words = norms[i:j]
    whole = _words_value(words)
    if whole is not None:
        values[i] = [whole]
        return
    k = 0
    groups: list[tuple[int, float]] = []
    while k < len(words):
        for end in range(len(words), k, -1):
            if words[end - 1] in _JOINERS:
                continue
            value = _words_value(words[k:end])
            if value is not None:
                groups.append((i + k, value))
                k = end
                break
        else:
            k += 1
    for n, (pos, value) in enumerate(groups):
        found = values.setdefault(pos, [])
        found.append(value)
        if n + 1 < len(groups):
            nxt = groups[n + 1][1]
            if value in (1.0, 2.0) and 10 <= nxt <= 99:
                found.append(100 * value + nxt)


# Between the numbers of one figure: "120/80", "one twenty over eighty", "3 out of 6".
_JOINED_BY: Final = frozenset({"over", "out of"})
_MAX_KEYS: Final = 16
_FIGURE_GAP: Final = 4  # tokens: "three out of six", "eight over seventy"


def figures(tokens: Tokens) -> list[tuple[list[int], set[str]]]:
    """Figures of two or more numbers ("120/80", "4/24/2021", "three out of six"): their
    number tokens and the keys ("120/80") they may read as, however they were written."""
    found: list[tuple[list[int], set[str]]] = []
    run: list[int] = []
    last = -2
    for k in sorted(tokens.values):
        gap = tokens.text[tokens.ends[last] : tokens.starts[k]] if last >= 0 else ""
        # The words between, without the inner words of a spoken number ("eight").
        if run and k - last > _FIGURE_GAP:
            between = "-"  # too far apart to be one figure
        else:
            between = " ".join(w for w in tokens.norms[last + 1 : k] if w not in _NUMBER_WORDS)
        if (run and not between and gap.replace(" ", "").isalpha()) or (run and not gap.strip()):
            last = k  # "one twenty eight": one spoken number, its values on its first token
            continue
        if run and (gap.strip() == "/" or between in _JOINED_BY):
            run.append(k)
        else:
            if len(run) > 1:
                found.append((run, _keys(tokens, run)))
            run = [k]
        last = k
    if len(run) > 1:
        found.append((run, _keys(tokens, run)))
    return found


def _keys(tokens: Tokens, run: list[int]) -> set[str]:
    keys = [""]
    for k in run:
        keys = [
            f"{key}/{number_key(v)}" if key else number_key(v)
            for key in keys
            for v in tokens.values[k]
        ][:_MAX_KEYS]
    return set(keys)
