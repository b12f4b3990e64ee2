"""The SOAP note value and its canonical hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Literal

SectionKey = Literal["subjective", "objective", "assessment", "plan"]
SECTION_KEYS: tuple[SectionKey, ...] = ("subjective", "objective", "assessment", "plan")
SHORT: dict[SectionKey, str] = {
    "subjective": "s",
    "objective": "o",
    "assessment": "a",
    "plan": "p",
}


@dataclass(frozen=True, slots=True)
class SoapNote:
    subjective: str = ""
    objective: str = ""
    assessment: str = ""
    plan: str = ""

    def sections(self) -> dict[SectionKey, str]:
        return {
            "subjective": self.subjective,
            "objective": self.objective,
            "assessment": self.assessment,
            "plan": self.plan,
        }

    def as_json(self) -> dict[str, str]:
        """The four sections as a plain JSON object (keys in S, O, A, P order)."""
        return {
            "subjective": self.subjective,
            "objective": self.objective,
            "assessment": self.assessment,
            "plan": self.plan,
        }

    def canonical_json(self) -> str:
        # Fixed key order, no whitespace, UTF-8 as is: the same note always hashes the same.
        return json.dumps(self.sections(), ensure_ascii=False, separators=(",", ":"))

    @property
    def soap_hash(self) -> str:
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    @classmethod
    def from_sections(cls, sections: dict[SectionKey, str]) -> SoapNote:
        return cls(**{k: sections.get(k, "") for k in SECTION_KEYS})


def text_hash(text: str) -> str:
    """SHA-256 of the consultation text exactly as received (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
