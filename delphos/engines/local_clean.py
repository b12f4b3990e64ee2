"""Make a verbatim span of a consultation read like written text, without adding a word.

The documented normalisations, the only changes the local engine makes to what was said
(``tests/test_local_faithfulness.py`` checks every note against them):

1. ASR spacing is rejoined: punctuation sticks to the word before it (" , " → ", "),
   split contractions are joined ("do n't" → "don't", "gon na" → "gonna").
2. Fillers are removed ("um", "uh", "mm-hmm", "né"; "you know" / "I mean" when set off by
   commas, ending a clause or inside one: "you know where it is" starting a clause stays).
3. Stutters are removed: a cut-off fragment before the word it starts ("an- another"),
   and a word or two-to-three-word group said twice in a row ("your, your heart").
4. Number words become digits ("four months" → "4 months", "type two" → "type 2"), with
   ``text2num`` in English or Portuguese; "one" alone stays a word ("no one"), and a
   reading that would put two numbers side by side ("one twenty over eighty") is left as
   words rather than guessed at.
5. Sentences start with a capital letter, and so does the pronoun "I".

Everything works on whitespace-separated tokens with constant look-around, so the cost
is linear in the text whatever it holds.
"""

from __future__ import annotations

import re
from typing import Final

from delphos.engines.local_numbers import Language as Language
from delphos.engines.local_numbers import numbers

_CONTRACTION_TAILS: Final = frozenset({"n't", "'s", "'re", "'ve", "'ll", "'m", "'d", "'"})
_SPLIT_PAIRS: Final[dict[tuple[str, str], str]] = {
    ("gon", "na"): "gonna",
    ("wan", "na"): "wanna",
    ("got", "ta"): "gotta",
    ("kin", "da"): "kinda",
}
_PUNCT: Final = frozenset(",.;:?!…")
_FILLERS: Final = frozenset(
    {"um", "umm", "uh", "uhh", "uhm", "hmm", "hmmm", "mm", "mm-hmm", "mhm", "er", "erm", "ah",
     "eh", "né", "ne", "hum", "ahn", "éé", "ééé", "kinda", "sorta"}
)  # fmt: skip
# "um" is Portuguese for "one"/"a".
_FILLERS_PT: Final = _FILLERS - {"um", "umm"}
# Two-word fillers, removed only where a comma or a clause end sets them off.
_PAIR_FILLERS: Final = frozenset({("you", "know"), ("i", "mean")})
_CLAUSE_ENDS: Final = frozenset(",.;:?!")
_SPOKEN_PREFIX = re.compile(r"[^\W\d_]+")
_FRAGMENT = re.compile(r"[^\W\d_][^\W\d_']{0,15}'?[^\W\d_]{0,3}-")
# "pre- and post-operative": a prefix before these is not a cut-off word.
_PREFIX_JOINERS: Final = frozenset({"and", "or", "to", "e", "ou", "a"})
# "you know where it is" is a sentence where a clause starts with it; otherwise (and
# inside a clause: "I can't get comfortable you know when I lay down") a filler.
_PAIR_KEEPERS: Final = frozenset("whether why where when who which".split())
# "let you know", "do you know", "if you know": the words are the sentence.
_PAIR_GOVERNORS: Final = frozenset("let do did does don't didn't if to".split())
# A word restarted inside one token: "y-you", "th-the".
_IN_WORD_STUTTER = re.compile(r"[^\W\d_]{1,3}-")
_WORDS_PT: Final = frozenset(
    "de que não nao com uma para está esta você voce dor tem há ha os as em dias".split()
)
_WORDS_EN: Final = frozenset("the and of to you is it that have with for in on my".split())


def _lead_ins() -> dict[str, tuple[tuple[str, ...], ...]]:
    heads = (
        "i wanna|i want to|i would like to|i'd like to|i'm gonna|i am gonna|i'm going to|"
        "i am going to|we're gonna|we are gonna|we're going to|we are going to|let's|"
        "i'll|i will|we'll|we will|i'm just gonna|i'm also gonna|i also want to|"
        "i also wanna|we're also gonna|i just wanna|i just want to|"
        "you have|you do have|you've got|i appreciate|i do appreciate|i notice|i do notice|"
        "i did notice|i did appreciate|go ahead and"
    ).split("|")
    tails = ("", "go ahead and", "just go ahead and", "go ahead and just", "also", "just")
    by_first: dict[str, list[tuple[str, ...]]] = {}
    for head in heads:
        for tail in tails:
            phrase = tuple(f"{head} {tail}".split())
            by_first.setdefault(phrase[0], []).append(phrase)
    return {first: tuple(phrases) for first, phrases in by_first.items()}


# Words that announce what follows rather than say it: dropped at the start of a clause
# (or, for "go ahead and", anywhere). Not before "be"/"see"/"know"/"talk", where they are
# the sentence ("let's see").
_LEAD_INS: Final = _lead_ins()
_LEAD_IN_NOT_BEFORE: Final = frozenset(
    {"be", "see", "know", "talk", "take", "have", "to", "been", "had", "any", "got", "that", "let",
     "this", "it", "no", "not", "you", "me", "them"}
)  # fmt: skip
_CLAUSE_OPENERS: Final = frozenset(
    {"and", "so", "but", "then", "now", "also", "well", "okay", "ok", "alright"}
)
# "you and I will ..." is one subject, not a clause opened by "and": the "I will" after it
# stays ("you and keep on ibuprofen" was left of "you and I will keep you on ibuprofen").
_PARTNERS: Final = frozenset("you he she they him her them".split())
# The patient is who the note is about: "your right knee" is "right knee".
_ADDRESSEE: Final = frozenset({"your"})
_HEDGES: Final = frozenset({"just", "actually", "basically", "literally"})
_SENTENCE_END: Final = frozenset(".?!…")
_I_FORMS: Final = frozenset({"i", "i'm", "i've", "i'd", "i'll"})


def language_of(text: str) -> Language:
    """Portuguese when its common words outnumber English ones in the first 4,000 chars."""
    words = text[:4000].lower().split()
    pt = sum(1 for w in words if w in _WORDS_PT)
    en = sum(1 for w in words if w in _WORDS_EN)
    return "pt" if pt > en else "en"


def _join_spacing(tokens: list[str]) -> list[str]:
    out: list[str] = []
    for token in tokens:
        low = token.lower()
        if out and low in _CONTRACTION_TAILS and out[-1][-1:].isalpha():
            out[-1] += token
        elif out and (out[-1].lower(), low) in _SPLIT_PAIRS:
            out[-1] = _SPLIT_PAIRS[(out[-1].lower(), low)]
        elif out and token and all(c in _PUNCT for c in token):
            # Punctuation sticks to the word before it; a run of marks keeps its strongest.
            last = out[-1]
            if last[-1] in _PUNCT:
                if token[-1] in ".?!" and last[-1] == ",":
                    out[-1] = last[:-1] + token[-1]
            else:
                out[-1] = last + token
        else:
            out.append(token)
    return out


def _bare(token: str) -> str:
    return token.rstrip(",.;:?!…").lower()


def _at_clause_start(out: list[str]) -> bool:
    """Whether the next word starts a clause: first, after a mark, or after an opener
    ("and", "so", ...), but not after "you and" ("you and I will ...": one subject)."""
    if not out or out[-1][-1] in _PUNCT:
        return True
    last = _bare(out[-1])
    if last not in _CLAUSE_OPENERS:
        return False
    return not (last == "and" and len(out) > 1 and _bare(out[-2]) in _PARTNERS)


def _drop_fillers(tokens: list[str], language: Language, stutters: bool = True) -> list[str]:
    fillers = _FILLERS_PT if language == "pt" else _FILLERS
    out: list[str] = []
    i = 0
    n = len(tokens)
    while i < n:
        token = tokens[i]
        bare = _bare(token)
        if bare in fillers:
            _carry_mark(out, token)
            i += 1
            continue
        if (
            i + 1 < n
            and token[-1] not in _CLAUSE_ENDS
            and (bare, _bare(tokens[i + 1])) in _PAIR_FILLERS
            and not (out and _bare(out[-1]) in _PAIR_GOVERNORS)
            and (
                tokens[i + 1][-1] in _CLAUSE_ENDS
                or i + 2 >= n
                or _bare(tokens[i + 2]) not in _PAIR_KEEPERS
                or not _at_clause_start(out)
            )
        ):
            _carry_mark(out, tokens[i + 1])
            i += 2
            continue
        stem = token.rstrip(",.;:?!…")
        if stutters and _FRAGMENT.fullmatch(stem):
            # The word it was cut from follows, past any filler ("mel- um ... miralax").
            j = i + 1
            while j < n and _bare(tokens[j]) in fillers:
                j += 1
            following = _bare(tokens[j]) if j < n else ""
            # "pre- and post-operative" keeps its prefix; "w- and was" does not.
            joined = following in _PREFIX_JOINERS and len(stem) > 3
            if following and (not joined or following == stem[:-1].lower()):
                _carry_mark(out, token)
                i += 1
                continue
        doubled = _IN_WORD_STUTTER.match(token)
        if (
            stutters
            and doubled is not None
            and token[doubled.end() :].lower().startswith(doubled.group()[:-1].lower())
        ):
            token = token[doubled.end() :]  # "y-you" → "you"
            if _bare(token) in fillers:
                i += 1
                continue
            tokens[i] = token
            continue  # look at it again: "y-you know," is a filler
        out.append(token)
        i += 1
    return out


def _carry_mark(out: list[str], dropped: str) -> None:
    # "pain , um . then" → "pain. then": a sentence mark on a dropped filler moves back.
    # "lumbar, um, strain" → "lumbar strain": a filler set off by commas takes them along.
    mark = dropped[-1]
    if dropped.endswith(("...", "…")):
        return  # a trailing-off "um ..." ends nothing: "I feel, um ... I feel dizzy"
    if out and mark in ".?!" and out[-1][-1] not in ".?!":
        out[-1] = out[-1].rstrip(",;:") + mark
    elif out and mark == "," and out[-1][-1] == "," and len(out[-1]) > 1:
        out[-1] = out[-1][:-1]


def _drop_repeats(tokens: list[str]) -> list[str]:
    """A group of one to three words said twice in a row is kept once ("your, your heart";
    "it it's" keeps "it's")."""
    out: list[str] = []
    bare: list[str] = []
    for token in tokens:
        word = _bare(token)
        if (
            out
            and _SPOKEN_PREFIX.fullmatch(bare[-1])
            and word.startswith(bare[-1] + "'")
            and out[-1][-1] not in ".?!…"  # "are they? they're normal": an answer
        ):
            out.pop()
            bare.pop()
        out.append(token)
        bare.append(word)
        for size in (1, 2, 3):
            if len(out) < 2 * size:
                break
            # Cheap test first: the group's last word must match the one a group earlier.
            if bare[-1] != bare[-1 - size] or not word:
                continue
            if out[-1 - size][-1] in ".?!…":
                continue  # never across a sentence mark
            if bare[-2 * size : -size] == bare[-size:]:
                del out[-2 * size : -size]
                del bare[-2 * size : -size]
                break
    return out


def _capitalise(tokens: list[str]) -> list[str]:
    start = True
    out: list[str] = []
    for token in tokens:
        low = token.lower()
        if low.rstrip(",.;:?!") in _I_FORMS and (token[:1] == "i"):
            token = "I" + token[1:]
        if start and token[:1].isalpha() and token[:1].islower():
            token = token[:1].upper() + token[1:]
        out.append(token)
        start = token[-1] in _SENTENCE_END
    return out


def _lead_in_at(tokens: list[str], i: int) -> int:
    """How many tokens from ``i`` form a spoken lead-in ("I wanna go ahead and"), or 0."""
    longest = 0
    for phrase in _LEAD_INS.get(tokens[i].lower(), ()):
        size = len(phrase)
        if i + size >= len(tokens) or size <= longest:
            continue
        if all(
            tokens[i + k] == tokens[i + k].rstrip(",.;:?!…") and tokens[i + k].lower() == phrase[k]
            for k in range(size)
        ):
            following = _bare(tokens[i + size])
            if following.isalpha() and following not in _LEAD_IN_NOT_BEFORE:
                longest = size
    return longest


def _drop_restart(out: list[str], dropped: list[str]) -> None:
    """The start of a dropped lead-in said just before it too ("let's, let's increase"):
    the restart goes with it. Repeats are dropped later, when it is already split."""
    for size in range(len(dropped), 0, -1):
        said = [t.lower().rstrip(",;:-") for t in out[-size:]]
        if len(said) == size and said == [t.lower() for t in dropped[:size]]:
            del out[-size:]
            return


def _drop_lead_ins(tokens: list[str]) -> list[str]:
    """Drop the announcing words of a clause ("I'm gonna go ahead and order" → "order")
    and hedging adverbs ("just", "actually", "basically")."""
    out: list[str] = []
    i = 0
    n = len(tokens)
    while i < n:
        token = tokens[i]
        low = token.lower()
        if low in _LEAD_INS and (low == "go" or _at_clause_start(out)):
            skip = _lead_in_at(tokens, i)
            if skip:
                _drop_restart(out, tokens[i : i + skip])
                i += skip
                continue
        if low in _HEDGES or low.rstrip(",.;:?!…") in _ADDRESSEE:
            _carry_mark(out, token)
            i += 1
            continue
        out.append(token)
        i += 1
    return out


def clean(text: str, language: Language = "en", drop_stutters: bool = True) -> str:
    """``text`` with the documented normalisations applied; may be empty.

    ``drop_stutters=False`` keeps repeats and cut-off words: a line cut inside a repeat
    ("it's and it's on my foot" out of "and it's and it's on my foot") or just after a
    cut-off word keeps them, so checking a note against its transcript reads the
    transcript both ways.
    """
    tokens = _join_spacing(text.split())
    tokens = _drop_fillers(tokens, language, drop_stutters)
    if language == "en":
        tokens = _drop_lead_ins(tokens)
    if drop_stutters:
        tokens = _drop_repeats(tokens)
    while tokens and all(c in _PUNCT for c in tokens[0]):
        tokens.pop(0)
    if not tokens:
        return ""
    tokens[0] = tokens[0].lstrip(",;:")
    return " ".join(_capitalise(numbers(tokens, language)))
