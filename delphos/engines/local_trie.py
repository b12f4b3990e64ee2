"""The lexicon (``local_lexicon``) compiled once, at import, into lookup tables.

Phrases are stored in tries keyed by their first word (exact, by stem, by ending, by
number kind, or case-sensitive), so the cue reader (``local_cues``) costs a dictionary
lookup per word rather than a regular-expression alternation of hundreds of phrases.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Final, Literal

from delphos.engines.local_lexicon import CASE_SENSITIVE, LEXICON

Section = Literal["S", "O", "A", "P"]
SECTIONS: Final[tuple[Section, ...]] = ("S", "O", "A", "P")
SECTION_INDEX: Final[dict[str, int]] = {s: i for i, s in enumerate(SECTIONS)}

CLIN: Final = 1
COND: Final = 2
DROP: Final = 4
TO_O: Final = 8
TO_AP: Final = 16
TEST: Final = 32
RESULT: Final = 64
_FLAG_NAMES: Final[dict[str, int]] = {
    "test": TEST,
    "result": RESULT,
    "clin": CLIN,
    "cond": COND,
    "drop": DROP,
    "to_o": TO_O,
    "to_ap": TO_AP,
}


# A phrase token after the first: ("=", word) exact, ("^", stem) prefix, ("#", kind)
# number, ("*", "") any word.
Spec = tuple[str, str]
Signal = tuple[tuple[int, int, int, int], int]


def _signal(names: str) -> Signal:
    weights = [0, 0, 0, 0]
    flags = 0
    for name in names.split():
        if name in _FLAG_NAMES:
            flags |= _FLAG_NAMES[name]
        else:
            weights[SECTION_INDEX[name[0]]] = int(name[1:])
    return (weights[0], weights[1], weights[2], weights[3]), flags


def merge(old: Signal | None, new: Signal) -> Signal:
    if old is None:
        return new
    (a0, a1, a2, a3), fa = old
    (b0, b1, b2, b3), fb = new
    return (
        (
            a0 if a0 > b0 else b0,
            a1 if a1 > b1 else b1,
            a2 if a2 > b2 else b2,
            a3 if a3 > b3 else b3,
        ),
        fa | fb,
    )


def _spec(token: str) -> Spec:
    if token == "*":
        return ("*", "")
    if token.startswith("#"):
        return ("#", token[1:] or "any")
    if token.endswith("*"):
        return ("^", token[:-1])
    return ("=", token)


def _expand(phrase: str) -> list[list[str]]:
    """Every token sequence a phrase stands for (``a/b`` choices, ``[x]`` optional)."""
    choices: list[list[str | None]] = []
    for token in phrase.split():
        if token.startswith("[") and token.endswith("]"):
            choices.append([None, *token[1:-1].split("/")])
        else:
            choices.append(list(token.split("/")))
    return [[t for t in combo if t is not None] for combo in itertools.product(*choices)]


class Node:
    """A trie node: phrases continue through ``exact`` words or ``special`` specs."""

    __slots__ = ("exact", "signal", "special")

    def __init__(self) -> None:
        self.exact: dict[str, Node] = {}
        self.special: list[tuple[Spec, Node]] = []
        self.signal: Signal | None = None

    def child(self, spec: Spec) -> Node:
        if spec[0] == "=":
            node = self.exact.get(spec[1])
            if node is None:
                node = self.exact[spec[1]] = Node()
            return node
        for known, node in self.special:
            if known == spec:
                return node
        node = Node()
        self.special.append((spec, node))
        return node


@dataclass(frozen=True, slots=True)
class Tables:
    first: dict[str, Node]  # by the first word, folded
    prefix: dict[str, Node]  # by the stem the first word starts with
    prefix_lengths: tuple[int, ...]
    suffix: dict[str, Signal]  # one-word entries by ending
    suffix_lengths: tuple[int, ...]
    number_first: list[tuple[str, Node]]  # phrases opening with a number, by number kind
    case_first: dict[str, Node]  # by the first word exactly as written


def _compile() -> Tables:
    first: dict[str, Node] = {}
    prefix: dict[str, Node] = {}
    suffix: dict[str, Signal] = {}
    number_first: dict[str, Node] = {}
    case_first: dict[str, Node] = {}
    for names, phrases, case_sensitive in itertools.chain(
        ((n, p, False) for n, p in LEXICON), ((n, p, True) for n, p in CASE_SENSITIVE)
    ):
        signal = _signal(names)
        for phrase in phrases.split("|"):
            for tokens in _expand(phrase):
                head = tokens[0]
                if head.startswith("*"):
                    # Suffix entries are single words (drug classes, "-itis").
                    suffix[head[1:]] = merge(suffix.get(head[1:]), signal)
                    continue
                if case_sensitive:
                    table, key = case_first, head
                elif head.startswith("#"):
                    table, key = number_first, head[1:] or "any"
                elif head.endswith("*"):
                    table, key = prefix, head[:-1]
                else:
                    table, key = first, head
                node = table.get(key)
                if node is None:
                    node = table[key] = Node()
                for token in tokens[1:]:
                    node = node.child(_spec(token))
                node.signal = merge(node.signal, signal)
    return Tables(
        first=first,
        prefix=prefix,
        prefix_lengths=tuple(sorted({len(p) for p in prefix})),
        suffix=suffix,
        suffix_lengths=tuple(sorted({len(s) for s in suffix})),
        number_first=list(number_first.items()),
        case_first=case_first,
    )


TABLES: Final = _compile()
