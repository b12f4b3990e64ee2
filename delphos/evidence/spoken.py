"""Numbers speech says around its number words: halves, ranges of hundreds, decimals a
transcriber wrote with a full stop, years said in pairs or with an apostrophe, decades,
and the quantities "a week", "a couple of", "a beer or two" say without a number word.

Each rule looks at the few tokens around one number or one trigger word: linear."""

from __future__ import annotations

from typing import Final

from delphos.evidence.lexicon import NUM_EN, NUM_PT, UNITS

_NUMBER_WORDS: Final = NUM_EN | NUM_PT
_SCALE_OF: Final = {"hundred": 100.0, "thousand": 1000.0, "hundreds": 100.0, "thousands": 1000.0}
_RANGE_WORDS: Final = frozenset({"to", "or"})
_HALF_OR_RANGE: Final = _RANGE_WORDS | {"half"}
_DIGIT_WORDS: Final = {
    w: float(i) for i, w in enumerate("zero one two three four five six seven eight nine".split())
}
# "in the sixties", "the low hundreds": a decade or a scale said as a plural.
_PLURALS: Final = {
    **{
        w + "ies": 10.0 * n
        for n, w in enumerate("twent thirt fort fift sixt sevent eight ninet".split(), 2)
    },
    "hundreds": 100.0,
    "thousands": 1000.0,
}
# Units a count of one is said of with an article ("in a week", "an hour").
_TIME_UNITS: Final = frozenset({"hour", "day", "week", "month", "year"})
# Words after which "a week" is a count ("in a week", "about a year"), not a rate ("twice
# a day", "a pack a day"): prepositions and hedges.
_COUNT_BEFORE: Final = frozenset(
    """in for about around over within after than past last nearly almost just only like
    maybe probably roughly approximately under least""".split()
)
# "a week ago", "a day or two": a count whatever comes before.
_COUNT_AFTER: Final = frozenset({"ago", "later", "earlier", "or", "and"})
# A spoken ". five" after these words is a decimal, not a new sentence ("a . five cm").
# Decimals read after a spoken point at most ("zero . zero five"): constant work.
_DECIMALS_MOST: Final = 4
_BEFORE_DECIMAL: Final = frozenset("a an at is was of about".split())


_TRIGGERS: Final = frozenset({*_PLURALS, "couple", "a", "an", "par"})


def spoken_halves_and_ranges(norms: list[str], values: dict[int, list[float]]) -> None:
    """Values speech gives in words around its numbers: "two and a half" (2.5), "a year
    and a half" (1.5, on "a"), "half a centimeter" (0.5), "three to four hundred" (its
    first end 300 too). One look at the few words around each "half" and range word."""
    count = len(norms)
    # Only "half" and the range words between two numbers: one set lookup per other token.
    found = [i for i, word in enumerate(norms) if word in _HALF_OR_RANGE]
    for i in found:
        word = norms[i]
        if word == "half":
            if i + 1 < count and norms[i + 1] in ("a", "an") and i not in values:
                values[i] = [0.5]  # "half a centimeter"
            if i >= 2 and norms[i - 1] == "a" and norms[i - 2] == "and":
                k = i - 3  # "two and a half"; "a year and a half", "two years and a half"
                for at in (k, k - 1):
                    if at < 0:
                        continue
                    if at in values:
                        values[at].append(values[at][0] + 0.5)
                        break
                    if at == k - 1 and norms[at] in ("a", "an", "one"):
                        values[at] = [1.5]
                        break
        elif word in _RANGE_WORDS and 0 < i < count - 1 and i - 1 in values and i + 1 in values:
            j = i + 1
            while j + 1 < count and norms[j + 1] in _SCALE_OF:
                j += 1
            scale = _SCALE_OF.get(norms[j])
            low = values[i - 1][0]
            if scale and j > i + 1 and low < 10 and low * scale < max(values[i + 1]):
                values[i - 1].append(low * scale)  # "three to four hundred": 300 to 400


def spoken_forms(
    text: str,
    norms: list[str],
    spans: tuple[list[int], list[int]],
    values: dict[int, list[float]],
    *,
    speech: bool,
) -> None:
    """Values a text gives without writing the number as one: ".7" (0.7), "2:00" (the
    hour alone), "'21" and the "20" of "01/20/20" (2021, 2020); in speech also "seven .
    three" (7.3, the point written as a full stop), "a . five" (0.5), "twenty eighteen"
    (2018), "the sixties" (60), "four hundreds" (400), "in a week" (1), "a couple of
    weeks" (2), "a beer or two" (1 to 2). Run before spoken_halves_and_ranges, which
    reads the values set here."""
    starts, ends = spans
    count = len(norms)
    # Only numbers and the words that start a rule: one set lookup per other token.
    at = set(values)
    if speech:
        at.update(i for i, word in enumerate(norms) if word in _TRIGGERS)
    for i in sorted(at):
        word = norms[i]
        if word[0].isdigit():
            if i in values:
                _digits(text, starts[i], word, values[i])
                if not values[i]:
                    del values[i]
            continue
        if not speech:
            continue
        plural = _PLURALS.get(word)
        if plural is not None:
            if i and i - 1 in values and plural >= 100:
                values[i - 1].append(values[i - 1][0] * plural)  # "four hundreds"
            else:
                values.setdefault(i, []).append(plural)  # "in the sixties"
        elif word in _DIGIT_WORDS and i and text[ends[i - 1] : starts[i]].strip() == ".":
            # "two. Three days ago": a capital after the stop starts a sentence.
            if i in values and text[starts[i]].islower():
                _dotted(norms, i, values)
        elif word == "couple" and i not in values and i and norms[i - 1] == "a":
            # "a couple of weeks", "a couple beers": two. Not "the next couple of weeks",
            # said of a span as often as of a count.
            values[i] = [2.0]
        elif word in ("a", "an") and i + 1 < count and i not in values:
            after = norms[i + 2] if i + 2 < count else ""
            if UNITS.get(norms[i + 1]) in _TIME_UNITS and (
                i == 0 or norms[i - 1] in _COUNT_BEFORE or after in _COUNT_AFTER
            ):
                values[i] = [1.0]  # "in a week", "a year ago"
            elif after == "or" and i + 3 < count and 2.0 in values.get(i + 3, ()):
                values[i] = [1.0]  # "a beer or two": one to two
        elif (
            word == "par" and i and norms[i - 1] in ("um", "uma") and norms[i + 1 : i + 2] == ["de"]
        ):
            values[i] = [2.0]  # "um par de semanas"
        _year_pair(norms, i, values)


def _digits(text: str, start: int, word: str, found: list[float]) -> None:
    before = text[start - 1] if start else ""
    ahead = text[start - 2] if start > 1 else " "
    if before == "-" and ahead.isspace() and not _digit_before(text, start - 2):
        found[:] = [-v for v in found]  # " -0.05": a minus sign, not a range's dash
        return
    if before == "." and not ahead.isalnum() and ahead != "." and word.isdigit():
        found[:] = [float("0." + word)]  # ".7": a decimal point with no zero before it
    elif (
        len(word) == 2
        and word.isdigit()
        and (
            before in ("'", "\u2019")
            or (before == "/" and text.count("/", max(0, start - 7), start) == 2)
        )
    ):
        # "'21", the year of "01/20/20": a year said by its last two digits.
        found.extend((2000.0 + found[0], 1900.0 + found[0]))
    elif word == "00" and before == ":":
        found.clear()  # "2:00": the hour, said as "two o'clock"


def _digit_before(text: str, k: int) -> bool:
    """Is the last character before the spaces ending at `k` a digit ("1 - 2")? A few
    characters back at most."""
    stop = max(-1, k - 4)
    while k > stop and text[k].isspace():
        k -= 1
    return k > stop and text[k].isdigit()


def _dotted(norms: list[str], i: int, values: dict[int, list[float]]) -> None:
    """ "ninety eight . seven": the digit words after a written full stop are the
    decimals of the number before it; after an article or a copula they are a decimal of
    their own ("a . five centimeter")."""
    digits = ""
    j = i
    while j < len(norms) and norms[j] in _DIGIT_WORDS and len(digits) < _DECIMALS_MOST:
        digits += str(int(_DIGIT_WORDS[norms[j]]))
        j += 1
    before = i - 1
    stop = max(0, i - _DECIMALS_MOST)
    while before > stop and before not in values and norms[before] in _NUMBER_WORDS:
        before -= 1  # the first token of the number before: its values live there
    if before in values and norms[before] in _NUMBER_WORDS:
        whole = values[before][0]
        if whole == int(whole):
            values[before].append(float(f"{int(whole)}.{digits}"))
    elif before >= 0 and norms[before] in _BEFORE_DECIMAL:
        values[i].append(float("0." + digits))


def _year_pair(norms: list[str], i: int, values: dict[int, list[float]]) -> None:
    """ "twenty eighteen", "nineteen ninety": a year said as two pairs of digits (the
    second pair already its own number, "twenty twenty one" as 20 and 21)."""
    first = values.get(i)
    if not first or first[0] not in (19.0, 20.0) or norms[i] not in NUM_EN:
        return
    second = values.get(i + 1)
    if second and 10 <= second[0] <= 99 and second[0] == int(second[0]):
        first.append(100 * first[0] + second[0])
