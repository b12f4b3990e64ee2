"""The word delta that decides whether a changed consultation text reuses its cached note."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from delphos.cache.delta import normalise_words, word_delta

ACI_TRAIN = Path(__file__).resolve().parents[2] / "shared" / "eval" / "aci-bench" / "train.json"


def _real_words() -> list[str]:
    # Hypothesis strategies are built at import time, so the vocabulary is read here; a
    # missing data file degrades to a tiny vocabulary instead of breaking collection.
    if not ACI_TRAIN.exists():
        return ["[doctor]", "[patient]", "okay", "."]
    first = json.loads(ACI_TRAIN.read_text(encoding="utf-8"))["data"][0]["src"]
    return list(dict.fromkeys(str(first).split()))


REAL_WORDS = _real_words()


def levenshtein(a: list[str], b: list[str]) -> int:
    """Textbook full dynamic programme: the reference word_delta must agree with."""
    previous = list(range(len(b) + 1))
    for i, word_a in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, word_b in enumerate(b, start=1):
            current[j] = min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + (word_a != word_b),
            )
        previous = current
    return previous[-1]


# A tiny alphabet makes repeated words (and therefore tricky alignments) common.
small_lists = st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=14)


@settings(max_examples=400, deadline=None)
@given(a=small_lists, b=small_lists, limit=st.integers(min_value=0, max_value=9))
def test_matches_full_levenshtein_below_limit(a: list[str], b: list[str], limit: int) -> None:
    expected = levenshtein(a, b)
    got = word_delta(a, b, limit)
    if expected < limit:
        assert got == expected
    else:
        assert got >= limit


@settings(max_examples=200, deadline=None)
@given(
    base=st.lists(st.sampled_from(REAL_WORDS), min_size=1, max_size=60),
    tail=st.lists(st.sampled_from(REAL_WORDS), max_size=8),
)
def test_appended_words_count_one_each(base: list[str], tail: list[str]) -> None:
    assert word_delta(base, base + tail, 5) == min(len(tail), 5)


@settings(max_examples=200, deadline=None)
@given(
    base=st.lists(st.sampled_from(REAL_WORDS), min_size=10, max_size=80),
    data=st.data(),
)
def test_replaced_words_in_the_middle_count_one_each(base: list[str], data: st.DataObject) -> None:
    count = data.draw(st.integers(min_value=0, max_value=6))
    positions = data.draw(
        st.lists(
            st.integers(min_value=1, max_value=len(base) - 2),
            min_size=count,
            max_size=count,
            unique=True,
        )
    )
    edited = list(base)
    for n, position in enumerate(positions):
        # Words that occur nowhere in the text: each costs exactly one replacement.
        edited[position] = f"«edit{n}»"
    expected = len(positions)
    got = word_delta(base, edited, 5)
    assert got == expected if expected < 5 else got >= 5


@settings(max_examples=200, deadline=None)
@given(base=st.lists(st.sampled_from(REAL_WORDS), min_size=10, max_size=80), data=st.data())
def test_deleted_words_count_one_each(base: list[str], data: st.DataObject) -> None:
    positions = data.draw(st.sets(st.integers(min_value=0, max_value=len(base) - 1), max_size=6))
    shortened = [word for i, word in enumerate(base) if i not in positions]
    got = word_delta(base, shortened, 5)
    assert got == len(positions) if len(positions) < 5 else got >= 5


whitespace = st.text(alphabet=" \t\n\r\u00a0\u2003\u3000\x0b\x0c", min_size=1, max_size=4)


@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.sampled_from(REAL_WORDS), min_size=1, max_size=40), data=st.data())
def test_spacing_and_line_breaks_are_free(words: list[str], data: st.DataObject) -> None:
    gaps = data.draw(st.lists(whitespace, min_size=len(words) + 1, max_size=len(words) + 1))
    respaced = gaps[0] + "".join(word + gap for word, gap in zip(words, gaps[1:], strict=True))
    assert normalise_words(respaced) == words
    assert word_delta(normalise_words(" ".join(words)), normalise_words(respaced), 5) == 0


def test_composed_and_decomposed_accents_are_the_same_word() -> None:
    composed = "la patiente a été vue"
    decomposed = "la patiente a e\u0301te\u0301 vue"
    assert composed != decomposed
    assert word_delta(normalise_words(composed), normalise_words(decomposed), 5) == 0


def test_case_and_attached_punctuation_count() -> None:
    cached = normalise_words("[patient] i'm doing okay .")
    assert word_delta(cached, normalise_words("[patient] I'm doing okay ."), 5) == 1
    assert word_delta(cached, normalise_words("[patient] i'm doing okay."), 5) == 2


def test_limit_zero_never_reports_a_small_delta_and_negative_is_refused() -> None:
    assert word_delta(["a"], ["a"], 0) == 0
    assert word_delta(["a"], ["b", "c"], 0) >= 0
    with pytest.raises(ValueError, match="limit"):
        word_delta(["a"], ["a"], -1)


def test_long_texts_decide_exactly(long_consultation_text: str) -> None:
    words = normalise_words(long_consultation_text)
    middle = len(words) // 2
    assert word_delta(words, [*words, "okay", "."], 5) == 2
    edited = [*words[:middle], "«edit»", *words[middle + 1 :]]
    assert word_delta(words, edited, 5) == 1
    # Edits far apart: the unequal stretch between them is most of the text.
    far_apart = [*words[:10], *words[11 : len(words) - 10], "«edit»", *words[len(words) - 10 :]]
    assert word_delta(words, far_apart, 5) == 2
    assert word_delta(words, words[::-1], 5) >= 5
