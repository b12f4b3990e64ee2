"""The transcript index works parts of itself out on first use (a sentence's negation
scope, whether it is a question): what a check reads must not depend on that, nor on the
order in which sentences are first read."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from delphos.evidence.drugs import lexicon
from delphos.evidence.scope import items
from delphos.evidence.transcript import Transcript, index

ACI = Path(__file__).resolve().parents[2] / "shared" / "eval" / "aci-bench"

# Denials that reach over lists, a question answered after it, a condition, "with"
# narrowing a denial, and a sentence without its full stop.
SPOKEN = """[doctor] any chest pain , shortness of breath or fever ?
[patient] no . i do n't have any pain with walking but my left knee is swollen .
[doctor] if the swelling gets worse , call us ; no fractures on the x-ray .
[patient] i have n't had nausea or vomiting and i do n't think i've had any tingling
[doctor] no pain with palpation of the elbow . okay ?"""


def _dialogues() -> list[str]:
    found = [SPOKEN]
    for name in ("train.json", "valid.json"):
        path = ACI / name
        if path.exists():
            found += [str(d["src"]) for d in json.loads(path.read_text("utf-8"))["data"]]
    return found


def _whole_pass(t: Transcript) -> tuple[bytearray, list[list[int] | None], dict[int, list[int]]]:
    marks = bytearray(len(t.tokens))
    parts: list[list[int]] = []
    qualifiers: dict[int, list[int]] = {}
    items(t.tokens, marks, parts, qualifiers)
    part_of: list[list[int] | None] = [None] * len(t.tokens)
    for members in parts:
        for k in members:
            part_of[k] = members
    return marks, part_of, qualifiers


@pytest.mark.parametrize("order", ["in order", "shuffled"])
def test_negation_scope_read_a_sentence_at_a_time_is_that_of_one_pass_over_the_transcript(
    order: str,
) -> None:
    drugs = lexicon()
    for n, dialogue in enumerate(_dialogues()):
        t = index(dialogue, drugs)
        positions = list(range(len(t.tokens)))
        if order == "shuffled":
            random.Random(n).shuffle(positions)
        lazy = {k: (t.mark(k), t.part(k)) for k in positions}
        marks, part_of, qualifiers = _whole_pass(t)
        assert [lazy[k][0] for k in range(len(t.tokens))] == list(marks), n
        assert [lazy[k][1] for k in range(len(t.tokens))] == part_of, n
        assert t.qualifiers == qualifiers, n


def test_the_spoken_example_has_denials_and_assertions_both() -> None:
    # The comparison above means something only if the scope judged findings both ways.
    t = index(SPOKEN, lexicon())
    marks = {t.mark(k) for k in range(len(t.tokens))}
    assert {1, 2} <= marks
    assert t.polarity(t.tokens.norms.index("fractures")) == "negated"
    assert t.polarity(t.tokens.norms.index("swollen")) == "affirmed"


def test_questions_are_judged_the_same_whatever_sentence_is_read_first() -> None:
    t = index(SPOKEN, lexicon())
    forward = [t.is_question(s) for s in range(t.sentence_count)]
    again = index(SPOKEN, lexicon())
    backward = [again.is_question(s) for s in reversed(range(again.sentence_count))]
    assert forward == backward[::-1]
    assert forward[0] is True  # "any chest pain , … ?"
    assert forward[1] is False  # "no ."
