"""What the transcript counts with each word: for every content word, the values that
all the numbers said beside it share ("see you in two weeks" and nothing else said with
"weeks": 2). A note's number with the same head word is then the transcript's, however
the scribe words the rest ("will follow up in 2 weeks").

Built once per transcript, on first use, in one pass over its numbers: linear."""

from __future__ import annotations

from typing import Final

from delphos.evidence.text import Tokens, number_key

# Tokens between two numbers said as one mention ("six to eight", "ninety eight . seven").
_JOINED: Final = 2
# Tokens one mention spans at most: a run of numbers with no word between ("1 2 3 4 …")
# is many mentions, so joining stays constant work.
_MENTION_MOST: Final = 6


def shared_counts(tokens: Tokens, reach: int) -> dict[str, frozenset[str]]:
    """Stem → the number keys every mention of a number within `reach` tokens of that
    stem has (empty: the transcript says different numbers with it)."""
    values, stems = tokens.values, tokens.stems
    common: dict[str, frozenset[str]] = {}
    mentions: list[tuple[int, int, set[str]]] = []
    for p in sorted(values):
        keys = {number_key(v) for v in values[p]}
        if mentions:
            first, last, joined = mentions[-1]
            if (
                p - last <= _JOINED
                and p - first <= _MENTION_MOST
                and not any(stems[q] for q in range(last + 1, p))
            ):
                mentions[-1] = (first, p, joined | keys)
                continue
        mentions.append((p, p, keys))
    count = len(stems)
    for first, last, keys in mentions:
        frozen = frozenset(keys)
        for j in range(max(0, first - reach), min(count, last + reach + 1)):
            word = stems[j]
            if word:
                known = common.get(word)
                if known is None:
                    common[word] = frozen
                elif known:
                    common[word] = known & frozen
    return common
