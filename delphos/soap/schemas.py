"""Request and response shapes of the progressive-SOAP API (the DELPHOS contract)."""

from __future__ import annotations

from functools import cached_property
from typing import Annotated, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)

from delphos import records
from delphos.evidence.models import Evidence
from delphos.records import MAX_TEXT_CHARS, NO_NUL_SCHEMA, ConsultationId, NoNul
from delphos.sse import json_bytes


class SoapRequest(BaseModel):
    # Unknown fields are ignored: clients written for DELPHOS may send more than we use.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)

    consultation_id: ConsultationId = Field(description="External consultation identifier")
    # null is accepted and coerced to "" (the DELPHOS contract); the schema says so.
    accumulated_text: Annotated[
        str,
        NoNul,
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "maxLength": MAX_TEXT_CHARS, **NO_NUL_SCHEMA},
                    {"type": "null"},
                ],
                "default": "",
                "description": "The COMPLETE text so far (not just the new chunk); "
                'null is coerced to "".',
            }
        ),
    ] = Field(default="", max_length=MAX_TEXT_CHARS)
    previous_soap_hash: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="soap_hash of the last note this client received, or null.",
    )
    stream: bool = Field(default=True, description="false answers application/json instead")

    @field_validator("accumulated_text", mode="before")
    @classmethod
    def _null_is_empty(cls, value: object) -> object:
        return "" if value is None else value


class Usage(BaseModel):
    # The one place the rule "cache counts only when reported" is written: notes without
    # prompt caching keep the shape they always had.
    input_tokens: int = Field(ge=0, description="Every prompt token, cached or not")
    output_tokens: int = Field(ge=0)
    cache_creation_input_tokens: int | None = Field(
        default=None,
        ge=0,
        description="Of input_tokens, those written to the provider's prompt cache "
        "(present only when the provider reported some)",
        exclude_if=lambda v: v is None,
    )
    cache_read_input_tokens: int | None = Field(
        default=None,
        ge=0,
        description="Of input_tokens, those read from the provider's prompt cache "
        "(present only when the provider reported some)",
        exclude_if=lambda v: v is None,
    )

    @classmethod
    def of(cls, usage: records.Usage) -> Usage:
        return cls(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_creation_input_tokens=usage.cache_creation_input_tokens,
            cache_read_input_tokens=usage.cache_read_input_tokens,
        )


class Completeness(BaseModel):
    model_config = ConfigDict(frozen=True)

    s: bool
    o: bool
    a: bool
    p: bool

    @property
    def all(self) -> bool:
        return self.s and self.o and self.a and self.p


class _Event(BaseModel):
    """An event of the note stream, as the code emits it and the document shows it.

    Frozen: one event object goes to every listener of a run (and to the cross-worker
    relay), so its JSON is written once (`data_json`), however many read it."""

    model_config = ConfigDict(frozen=True)

    # The SSE event name; a final event (`soap`, `error`) ends the stream.
    name: ClassVar[str]
    final: ClassVar[bool] = False

    @cached_property
    def data_json(self) -> bytes:
        """The event's data as one-line UTF-8 JSON: the SSE `data:` line, the JSON answer
        and the relayed form."""
        return json_bytes(self)


class StatusEvent(_Event):
    name = "status"

    type: Literal["generating", "cache_hit"]


class _Sections(_Event):
    subjective: str
    objective: str
    assessment: str
    plan: str
    completeness: Completeness


class PartialEvent(_Sections):
    name = "partial"


class SoapEvent(_Sections):
    name = "soap"
    final = True

    soap_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    cached: bool
    is_degraded: bool
    engine: str
    model: str
    consultation_id: str
    text_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    generation_ms: int | None = Field(
        default=None,
        description="How long the generation that made this note took (repeated on cache hits)",
    )
    usage: Usage | None = Field(
        default=None,
        description="Tokens the LLM provider reported for this note (repeated on cache hits); "
        "null when no LLM was called",
    )
    evidence: Evidence | None = Field(
        default=None,
        description="Every statement traced to accumulated_text (null if it could not be checked)",
    )

    @cached_property
    def stored_json(self) -> bytes:
        """The event's data as the note cache keeps it: without "cached", which is decided
        per response (a hit adds it back, see ``delphos.cache.store.hit_json``)."""
        return json_bytes(self, exclude={"cached"})


class ErrorEvent(_Event):
    name = "error"
    final = True

    code: Literal["PROCESSING_TIMEOUT", "PROCESSING_ERROR", "PARSE_ERROR", "INTERNAL_ERROR"]
    message: str
    degraded: bool


# Any event of the stream: `status` first, then `partial`s, then one `soap` or `error`.
NoteEvent = StatusEvent | PartialEvent | SoapEvent | ErrorEvent

# (SSE event name, payload schema) in stream order.
SSE_EVENTS: tuple[tuple[str, type[BaseModel]], ...] = tuple(
    (event.name, event) for event in (StatusEvent, PartialEvent, SoapEvent, ErrorEvent)
)
