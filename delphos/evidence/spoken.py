"""Numbers speech says around its number words: halves and ranges of hundreds."""

from __future__ import annotations

from typing import Final

_SCALE_OF: Final = {"hundred": 100.0, "thousand": 1000.0}
_RANGE_WORDS: Final = frozenset({"to", "or"})


def spoken_halves_and_ranges(norms: list[str], values: dict[int, list[float]]) -> None:
    """Values speech gives in words around its numbers: "two and a half" (2.5), "a year
    and a half" (1.5, on "a"), "half a centimeter" (0.5), "three to four hundred" (its
    first end 300 too). One look at the few words around each "half" and range word."""
    count = len(norms)
    for i, word in enumerate(norms):
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
            if scale and j > i + 1 and low < 10 and low * scale < values[i + 1][0]:
                values[i - 1].append(low * scale)  # "three to four hundred": 300 to 400
