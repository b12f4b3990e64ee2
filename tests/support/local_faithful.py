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
from dataclasses import dataclass, field
from functools import cache

import pytest

from delphos.engines.local import LocalEngine
from delphos.engines.local_clean import clean, language_of
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


def normalised_source(source: str, drop_stutters: bool = True, addressed: bool = False) -> str:
    """The transcript as the faithfulness rule reads it: one line per turn, cleaned, and
    with ``addressed`` the clinician's "you" in the third person (``local_person``)."""
    language = language_of(source)
    lines = (clean(line, language, drop_stutters) for line in _TAG.sub("", source).split("\n"))
    if addressed:
        lines = (about_patient(line, language) for line in lines)
    return " " + " ".join(" ".join(words(line)) for line in lines if line) + " "


def assert_faithful(source: str, note: SoapNote) -> Checked:
    """Fail on any note sentence that is not a run of the normalised transcript's words."""
    flat = normalised_source(source)
    # A line cut inside a repeated phrase or after a cut-off word keeps them (``clean``).
    uncollapsed = normalised_source(source, drop_stutters=False)
    readings = (
        flat,
        uncollapsed,
        normalised_source(source, addressed=True),
        normalised_source(source, drop_stutters=False, addressed=True),
    )
    numbers = set(_NUMBER.findall(flat)) | set(_NUMBER.findall(source))
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
def aci_notes() -> list[tuple[str, SoapNote]]:
    """(dialogue, the local engine's note) for every ACI-Bench train and valid dialogue;
    built once per test process (several test modules read them)."""
    engine = LocalEngine()
    out: list[tuple[str, SoapNote]] = []
    for split in ("train", "valid"):
        path = ACI_BENCH / f"{split}.json"
        if not path.exists():
            pytest.skip(f"ACI-bench data not found at {path}")
        for entry in json.loads(path.read_text(encoding="utf-8"))["data"]:
            out.append((entry["src"], engine.build_note(entry["src"])))
    return out
