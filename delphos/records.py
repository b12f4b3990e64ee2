"""The records every layer shares, and the rules for the values they hold.

A leaf: it imports nothing from delphos, so the engines, the note pipeline, persistence
and the live session can all speak of a note, a turn or a tenant without importing each
other (tests/test_import_cycles.py keeps the packages acyclic).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, AwareDatetime, Field

# --- value rules --------------------------------------------------------------------------

# A consultation id is what the database holds: 1-255 characters and no NUL (U+0000),
# which PostgreSQL cannot store nor even compare. Every entry point checks it with
# `id_problem` (paths, WebSocket query) or `ConsultationId` (bodies).
MAX_ID_CHARS = 255
MAX_TEXT_CHARS = 100_000

# No NUL in text we store: refused (422, field named) on every backend instead of accepted
# and then never persisted. Documented as `not: {pattern}`: a `pattern` spanning the whole
# 100,000 characters is costly to fuzz.
NO_NUL_SCHEMA: dict[str, Any] = {"not": {"pattern": "\\x00"}}
NUL_MESSAGE = "must not contain NUL (U+0000) characters"


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError(NUL_MESSAGE)
    return value


NoNul = AfterValidator(_no_nul)

ConsultationId = Annotated[
    str, NoNul, Field(min_length=1, max_length=MAX_ID_CHARS, json_schema_extra=NO_NUL_SCHEMA)
]


def id_problem(value: str) -> tuple[str, str] | None:
    """Why ``value`` cannot be a consultation id, as (message, kind), or None if it can.
    The message names the rule, never the value."""
    if not 1 <= len(value) <= MAX_ID_CHARS:
        return f"1-{MAX_ID_CHARS} characters", "length"
    if "\x00" in value:
        return NUL_MESSAGE, "value_error"
    return None


# --- tenants ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TenantRef:
    id: str
    name: str


# --- the note -----------------------------------------------------------------------------

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

    def sections(self) -> dict[str, str]:
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


def _plus(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else a + b


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens a provider reported for a note: what the clinic is billed for (or, on its own
    server, what the note cost in compute). Summed over every request a note took.

    ``input_tokens`` is every prompt token, cached or not. The two cache counts are the
    parts of it that the provider wrote to its prompt cache (billed above the base rate by
    Anthropic) or read from it (billed at a fraction); ``None`` when it reported none.
    Its wire shape is `delphos.soap.schemas.Usage`.
    """

    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            _plus(self.cache_creation_input_tokens, other.cache_creation_input_tokens),
            _plus(self.cache_read_input_tokens, other.cache_read_input_tokens),
        )


@dataclass(frozen=True)
class NoteRecord:
    """One note version: as generated, spooled, stored and read back by the history API."""

    tenant_id: str
    consultation_id: str  # the client's id (external_id)
    note: SoapNote
    soap_hash: str
    text_hash: str
    word_count: int
    engine: str
    model: str
    is_degraded: bool
    latency_ms: int
    # Always zone-aware (a spooled naive time is refused: it would be stored wrong).
    created_at: AwareDatetime
    # Tokens the provider reported; None when no LLM was called.
    usage: Usage | None = None
    # The evidence object served with the note (delphos.evidence), as JSON.
    evidence: dict[str, Any] | None = None
    # The text the note was made from. None only when read back without it: the history
    # lists never show it, and it can be 100,000 characters per version.
    source_text: str | None = None
    # The stored row's id (monotonic: the history API's cursor); None until stored.
    id: int | None = None
    # The tenant's name: with it the write also creates the tenant row if it is missing
    # (a note generated while the database was down at startup).
    tenant_name: str = ""


# --- the live transcript ------------------------------------------------------------------

TurnFlag = Literal["medication", "symptom", "diagnosis"]
TURN_FLAGS: frozenset[str] = frozenset(get_args(TurnFlag))


@dataclass(frozen=True)
class Turn:
    """One final turn of a live transcript, as kept in memory and stored."""

    seq: int
    original_text: str
    edited_text: str | None
    flags: tuple[str, ...]  # kinds of TURN_FLAGS found in the turn
    started_at: datetime
    ended_at: datetime | None

    @property
    def text(self) -> str:
        """What the clinician sees: the edited words when the turn was edited."""
        return self.edited_text or self.original_text
