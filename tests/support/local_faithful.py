"""The local engine's faithfulness rule, as a check tests apply to any note.

Every sentence of a note, once its template lead ("Denies", "Reports", "Nega", "Refere")
is set aside, is a run of consecutive words of the transcript after the documented
normalisations (``delphos.engines.local_clean``: spacing and contractions joined, fillers
and stutters dropped, number words as digits; ``delphos.engines.local_person``: the
clinician's "you" in the third person), speaker tags removed. Case and punctuation
are not compared; words, their order and every number are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

import pytest

from delphos.engines.local import LocalEngine
from delphos.engines.local_clean import Language, clean, language_of
from delphos.engines.local_person import about_patient
from delphos.records import SoapNote
from tests.support.paths import ACI_BENCH

TEMPLATE_LEADS = ("denies", "reports", "nega", "refere")
_TAG = re.compile(r"^\s*\[[^\]\n]{1,40}\]\s*", re.MULTILINE)
_WORD = re.compile(r"[^\W_]+(?:[.,]\d+)*")
_PIECE_SPLIT = re.compile(r"(?<=[.?!…])\s+|\n")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass
class Checked:
    """What a check covered: sentences, numbers and template statements."""

    pieces: int = 0
    numbers: int = 0
    templates: list[str] = field(default_factory=list)


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _joined(lines: Iterable[str]) -> str:
    return " " + " ".join(" ".join(words(line)) for line in lines if line) + " "


def _cleaned_lines(source: str, language: Language, drop_stutters: bool) -> list[str]:
    return [clean(line, language, drop_stutters) for line in _TAG.sub("", source).split("\n")]


@dataclass(frozen=True)
class _Readings:
    texts: tuple[str, ...]
    numbers: frozenset[str]


@cache
def _readings(source: str) -> _Readings:
    """Every reading of ``source`` a note sentence may copy: one line per turn, cleaned with
    and without stutters dropped, each also with the clinician's "you" in the third person
    (``local_person``). Cached: the ACI-Bench dialogues are checked by several modules,
    and cleaning a transcript costs far more than matching a note against it (cleaned once
    per ``drop_stutters``, not once per reading)."""
    language = language_of(source)
    texts: list[str] = []
    # A line cut inside a repeated phrase or after a cut-off word keeps them (``clean``).
    for drop_stutters in (True, False):
        lines = _cleaned_lines(source, language, drop_stutters)
        texts += [_joined(lines), _joined(about_patient(line, language) for line in lines)]
    numbers = frozenset(_NUMBER.findall(texts[0])) | frozenset(_NUMBER.findall(source))
    return _Readings(tuple(texts), numbers)


def assert_faithful(source: str, note: SoapNote) -> Checked:
    """Fail on any note sentence that is not a run of the normalised transcript's words."""
    found = _readings(source)
    readings, numbers = found.texts, found.numbers
    checked = Checked()
    for key, section in note.sections().items():
        for piece in _PIECE_SPLIT.split(section):
            said = words(piece)
            if not said:
                continue
            if said[0] in TEMPLATE_LEADS and len(said) > 1:
                checked.templates.append(piece.strip())
                said = said[1:]
            run = " " + " ".join(said) + " "
            assert any(run in reading for reading in readings), (key, piece)
            checked.pieces += 1
        for number in _NUMBER.findall(section):
            assert number in numbers, (key, number)
            checked.numbers += 1
    return checked


@cache
def aci_split_notes(split: str) -> list[tuple[str, SoapNote]]:
    """(dialogue, the local engine's note) for every dialogue of one ACI-Bench split; built
    once per test process (several test modules read them)."""
    path = ACI_BENCH / f"{split}.json"
    if not path.exists():
        pytest.skip(f"ACI-bench data not found at {path}")
    engine = LocalEngine()
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    return [(entry["src"], engine.build_note(entry["src"])) for entry in data]


def aci_notes() -> list[tuple[str, SoapNote]]:
    """(dialogue, the local engine's note) for every ACI-Bench train and valid dialogue."""
    return aci_split_notes("train") + aci_split_notes("valid")
