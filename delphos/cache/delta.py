"""How far a new consultation text is from the text a cached note was made from.

Definition. Both texts are normalised (Unicode NFC, split on any whitespace — so
spacing/newline changes are free; case and punctuation attached to words count), giving
word sequences A (cached) and B (new). The delta is the minimum number of word
insertions + deletions + replacements turning A into B (word-level Levenshtein
distance).

``word_delta(a_words, b_words, limit)`` returns the exact distance if it is < limit,
otherwise ``limit`` (the contract only promises "some value >= limit": callers must
compare with ``< limit`` and never read the value as a distance once it reaches limit).

Algorithm. The common prefix and suffix are stripped first (the usual case — "the
text grew at the end" — leaves nothing of A, so the answer is the number of appended
words). A length difference of ``limit`` or more is already ``>= limit``. What is left
goes through the Landau-Vishkin form of Levenshtein: for each edit count ``e < limit``
and each of the ``2e + 1`` diagonals it keeps the furthest point reachable with ``e``
edits and then slides along matching words. Every run of equal words (prefix, suffix,
slides) is measured with list-slice comparisons, which run at C speed; the Python-level
work is O(limit²) slides, so a 100,000-character text decides in about the time it
takes to split it into words, whatever the edit pattern.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

__all__ = ["normalise_words", "word_delta"]

# A run of matching words is measured by comparing list slices of growing length (C
# speed) and only the last few words one by one; below this size a Python loop is cheaper
# than building slices.
_LINEAR_RUN = 8


def normalise_words(text: str) -> list[str]:
    """The word sequence a text is compared by: NFC, split on any Unicode whitespace."""
    return unicodedata.normalize("NFC", text).split()


def _common_run(a: Sequence[str], i: int, b: Sequence[str], j: int) -> int:
    """Number of equal words in ``a[i:]`` and ``b[j:]`` from their start.

    Galloping over slices: a matching chunk doubles the next chunk, a mismatching one
    halves it, so a run of r words costs O(r) C-level comparisons plus O(log r) slices.
    """
    available = min(len(a) - i, len(b) - j)
    matched = 0
    step = 2 * _LINEAR_RUN
    while True:
        size = min(step, available - matched)
        if size <= _LINEAR_RUN:
            while matched < available and a[i + matched] == b[j + matched]:
                matched += 1
            return matched
        start_a = i + matched
        start_b = j + matched
        if a[start_a : start_a + size] == b[start_b : start_b + size]:
            matched += size
            step = size * 2
        else:
            step = size // 2


def _strip_common_ends(a: Sequence[str], b: Sequence[str]) -> tuple[list[str], list[str]]:
    """A and B without their common prefix and suffix (edit distance is unchanged)."""
    prefix = _common_run(a, 0, b, 0)
    rest_a = list(a[prefix:])
    rest_b = list(b[prefix:])
    # Reversed copies are O(n) pointer copies; they let the suffix reuse _common_run.
    suffix = _common_run(rest_a[::-1], 0, rest_b[::-1], 0)
    if suffix:
        del rest_a[len(rest_a) - suffix :]
        del rest_b[len(rest_b) - suffix :]
    return rest_a, rest_b


def word_delta(a_words: Sequence[str], b_words: Sequence[str], limit: int) -> int:
    """Word-level Levenshtein distance of A and B if it is < ``limit``, else ``limit``."""
    if limit < 0:
        raise ValueError("limit must be >= 0")
    if limit == 0:
        return 0
    a, b = _strip_common_ends(a_words, b_words)
    m, n = len(a), len(b)
    # Every edit changes the length by at most one word.
    if abs(m - n) >= limit:
        return limit
    if m == 0 or n == 0:
        return max(m, n)

    target = n - m  # the diagonal (j - i) on which the end point (m, n) lies
    unreachable = -(m + n + 2)
    # furthest[d + offset] = furthest row i on diagonal d (column j = i + d) reachable
    # with the current number of edits; diagonals run from -limit to +limit.
    offset = limit + 1
    furthest = [unreachable] * (2 * limit + 3)
    furthest[offset] = _common_run(a, 0, b, 0)
    if target == 0 and furthest[offset] >= m:
        return 0
    for edits in range(1, limit):
        previous = furthest[:]
        for diagonal in range(max(-edits, -m), min(edits, n) + 1):
            k = diagonal + offset
            row = max(
                previous[k] + 1,  # replace a[i] by b[j]
                previous[k - 1],  # insert b[j]
                previous[k + 1] + 1,  # delete a[i]
            )
            # Neighbouring cells differ by at most one edit, so clipping a step that left
            # the grid back onto its edge stays within `edits`.
            row = min(row, m, n - diagonal)
            if row < max(0, -diagonal):
                continue
            row += _common_run(a, row, b, row + diagonal)
            furthest[k] = row
        if furthest[target + offset] >= m:
            return edits
    return limit
