"""Number words as digits, the one normalisation that reads a run of words as a whole:
"four months" → "4 months", "type two" → "type 2", "vinte e cinco" → "25" (``text2num``,
English or Portuguese). "one" alone stays a word ("no one"), and a reading that would put
two numbers side by side ("one twenty over eighty") is left as words rather than guessed.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from text_to_num import alpha2digit

Language = Literal["en", "pt"]

_BELOW_THRESHOLD: Final = frozenset({"one", "um", "uma", "a", "an", "and", "e", "point"})
_JOINERS_EN: Final = frozenset({"and", "point"})
_JOINERS_PT: Final = frozenset({"e", "vírgula", "virgula"})
# "one hundred and twenty", "seven point two"; "vinte e cinco", "um vírgula cinco".
_JOIN_AFTER_EN: Final = frozenset(
    "hundred thousand zero one two three four five six seven eight nine ten".split()
)
_JOIN_AFTER_PT: Final = frozenset(
    "vinte trinta quarenta cinquenta sessenta setenta oitenta noventa cento mil zero um uma "
    "dois duas três tres quatro cinco seis sete oito nove".split()
)
_RUN_WORDS_EN: Final = _JOINERS_EN | frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
    "eighty ninety hundred thousand".split()
)
_RUN_WORDS_PT: Final = _JOINERS_PT | frozenset(
    "zero um uma dois duas três tres quatro cinco seis sete oito nove dez onze doze treze "
    "quatorze catorze quinze dezesseis dezessete dezoito dezenove vinte trinta quarenta "
    "cinquenta sessenta setenta oitenta noventa cem cento duzentos trezentos mil".split()
)
_ADJACENT_NUMBERS = re.compile(r"\d[\d.,]* +\d")
# "zero five" reads "05": digits a clinician would misread are not written.
_LEADING_ZERO = re.compile(r"(?<![\d.,])0\d")


def _bare(token: str) -> str:
    return token.rstrip(",.;:?!…").lower()


def numbers(tokens: list[str], language: Language) -> list[str]:
    """Each run of number words becomes digits on its own ("for four months" → "for 4
    months"), so a run converts the same way wherever the line around it was cut."""
    vocabulary = _RUN_WORDS_PT if language == "pt" else _RUN_WORDS_EN
    if not any(t.lower().rstrip(",.;:?!…").split("-")[0] in vocabulary for t in tokens):
        return tokens
    joiners = _JOINERS_PT if language == "pt" else _JOINERS_EN
    after = _JOIN_AFTER_PT if language == "pt" else _JOIN_AFTER_EN
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        tail: list[str] = []
        while run and _bare(run[-1]) in joiners:
            tail.insert(0, run.pop())  # "and" after the last number is not part of it
        if run:
            out.extend(_convert_run(run, language))
        out.extend(tail)
        run.clear()

    for token in tokens:
        word = _bare(token)
        parts = word.split("-")
        if all(p in vocabulary for p in parts) and (
            word not in joiners or (bool(run) and token == word and _bare(run[-1]) in after)
        ):
            run.append(token)
            if token.lower() != word:  # punctuation ends the run: "four, five"
                flush()
        else:
            flush()
            out.append(token)
    flush()
    return out


def _convert_run(run: list[str], language: Language) -> list[str]:
    if all(_bare(t) in _BELOW_THRESHOLD for t in run):
        return run  # "one" alone stays a word ("no one", "one of them")
    text = " ".join(run)
    converted: str = alpha2digit(text, language, threshold=2)
    if _ADJACENT_NUMBERS.search(converted) or _LEADING_ZERO.search(converted):
        return run  # "one twenty over eighty": two readings side by side are not guessed
    return converted.split()
