"""Drug names: the dictionary of the `drug-named-entity-recognition` package (MeSH, NHS,
Wikipedia and DrugBank names and brand names → generic name), read straight from its
data file. Importing that package - even to ask ``importlib.resources.files`` where its
data is - runs its finder, which builds an n-gram index of 100,000 names at import
(seconds, ~330 MB of Python objects, ~700 MB RSS) and reads a cache from the home
directory; we need only the lookup table (~10 MB), so the file is found by the package's
import spec, which does not import it."""

from __future__ import annotations

import bz2
import pickle
import re
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Final

from delphos.evidence.lexicon import STOPWORDS

_MIN_LEN: Final = 4
# Names in the dictionary that are, in a consultation, nearly always ordinary words,
# or a lab test ("hemoglobin A1c" reads as the name "hemoglobin a" and a code).
_NOT_DRUGS: Final = frozenset(
    """today pain blood heart test water iron oxygen salt sugar alcohol food
    sleep plan exam fluid fluids ice heat rest contrast sits""".split()
) | {"hemoglobin a"}
# Generic names that are a class of drugs (MeSH: "anti-inflammatory agents, non-steroidal"
# for "NSAIDs", "analgesics, opioid" for "opioid", "contraceptives, oral"), not one drug.
_CLASS: Final = re.compile(
    r"\b(?:agents|inhibitors|antagonists|agonists|blockers|analgesics|contraceptives)\b"
)


@lru_cache(maxsize=1)
def lexicon() -> dict[str, str]:
    """Lowercase name (one or two words) → generic name."""
    with bz2.open(_data_file(), "rb") as data:
        # The package's own data file, shipped in its wheel (pinned in requirements.lock).
        table = pickle.load(data)
    names: dict[str, str] = {}
    for variant, canonicals in table["drug_variant_to_canonical"].items():
        if not canonicals or len(variant) < _MIN_LEN or variant.count(" ") > 1:
            continue
        if variant in STOPWORDS or variant in _NOT_DRUGS:
            continue
        names[variant] = str(canonicals[0])
    return names


def _data_file() -> Path:
    """The package's dictionary file, without importing the package (see above)."""
    spec = find_spec("drug_named_entity_recognition")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("drug_named_entity_recognition is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "drug_ner_dictionary.pkl.bz2"


def lookup(word: str, table: dict[str, str]) -> str | None:
    """The generic name for `word`, also for Portuguese spellings ("losartana",
    "metformina") that add a vowel to the international name."""
    found = table.get(word)
    if found is None and len(word) > 5 and word[-1] in "aeo" and word[-2] not in "aeiou":
        found = table.get(word[:-1])
    return found


def is_class(generic: str) -> bool:
    """Does the generic name name a class of drugs ("NSAIDs", "opioid", "statins")? A
    note's class word stands for whichever of its drugs the patient said by name, or for
    the class the clinician meant without naming one: never a drug the transcript lacks."""
    return _CLASS.search(generic) is not None


@lru_cache(maxsize=4)
def _heads(table_id: int, size: int) -> frozenset[str]:
    return frozenset(name.split(" ", 1)[0] for name in lexicon() if " " in name)


def drug_heads(table: dict[str, str]) -> frozenset[str]:
    """First words of the two-word names: only these need the pair looked up."""
    if table is lexicon():
        return _heads(id(table), len(table))
    return frozenset(name.split(" ", 1)[0] for name in table if " " in name)
