"""The events of the note contract as the pipeline carries them, and their builders.

An event is one of the typed records of `soap/schemas.py` (`NoteEvent`): the model the
OpenAPI document shows is the object the code emits, and its JSON is written once, at the
edge (`data_json`). `status` first, then `partial`s, then exactly one `soap` or `error`.
The `soap` event is built in one place (`soap_event`), and every `error` event from an
`errors.py` class (`error_event`), so a code and its message are never spelled out twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from delphos.errors import (
    DelphosError,
    InternalError,
    ParseError,
    ProcessingError,
    ProcessingTimeout,
)
from delphos.evidence import Evidence
from delphos.records import SoapNote
from delphos.records import Usage as UsageRecord
from delphos.soap.schemas import (
    Completeness,
    ErrorEvent,
    NoteEvent,
    PartialEvent,
    SoapEvent,
    StatusEvent,
    Usage,
)

__all__ = [
    "CACHE_HIT",
    "GENERATING",
    "NoteEvent",
    "NoteSource",
    "completeness",
    "decode_event",
    "error_event",
    "error_of",
    "soap_event",
]

# Immutable, so one object serves every stream (and its JSON is written once per process).
GENERATING = StatusEvent(type="generating")
CACHE_HIT = StatusEvent(type="cache_hit")

# The errors a generation can end with, by code: the JSON endpoint raises the same class
# (its HTTP status) that the stream's `error` event was built from.
STREAM_ERRORS: dict[str, type[DelphosError]] = {
    cls.code: cls for cls in (ProcessingTimeout, ProcessingError, ParseError, InternalError)
}

# Completeness has 16 values: made once, shared by every partial (a partial per delta).
_COMPLETENESS = {
    (s, o, a, p): Completeness(s=s, o=o, a=a, p=p)
    for s in (False, True)
    for o in (False, True)
    for a in (False, True)
    for p in (False, True)
}

# What a `data:` line must not hold raw (see `delphos.sse`): relayed JSON holding one is
# written anew rather than passed on.
_LINE_BREAKS = (b"\n", b"\r", "\u2028".encode(), "\u2029".encode())

_BY_NAME: dict[str, type[NoteEvent]] = {
    cls.name: cls for cls in (StatusEvent, PartialEvent, SoapEvent, ErrorEvent)
}


def completeness(done: tuple[bool, bool, bool, bool]) -> Completeness:
    """Which of S, O, A, P are complete (in that order)."""
    return _COMPLETENESS[done]


def error_event(error: DelphosError, *, degraded: bool) -> ErrorEvent:
    """An `error` event: the error's stable code and safe message."""
    # A class outside STREAM_ERRORS ending a stream is a server bug: it says so.
    if error.code not in STREAM_ERRORS:
        error = InternalError()
    return ErrorEvent(code=error.code, message=error.message, degraded=degraded)


def error_of(event: ErrorEvent) -> DelphosError:
    """The exception an `error` event stands for (raised by the JSON endpoint)."""
    return STREAM_ERRORS[event.code](event.message)


@dataclass(frozen=True, slots=True)
class NoteSource:
    """Who made a note, for which consultation and text: the `soap` event's provenance."""

    engine: str
    model: str
    consultation_id: str
    text_hash: str


def soap_event(
    note: SoapNote,
    source: NoteSource,
    *,
    cached: bool,
    is_degraded: bool,
    generation_ms: int,
    usage: UsageRecord | None,
    evidence: Evidence | None,
) -> SoapEvent:
    """The final `soap` event / JSON answer: the one place it is built."""
    return SoapEvent(
        subjective=note.subjective,
        objective=note.objective,
        assessment=note.assessment,
        plan=note.plan,
        completeness=completeness((True, True, True, True)),
        soap_hash=note.soap_hash,
        cached=cached,
        is_degraded=is_degraded,
        engine=source.engine,
        model=source.model,
        consultation_id=source.consultation_id,
        text_hash=source.text_hash,
        generation_ms=generation_ms,
        usage=Usage.of(usage) if usage is not None else None,
        evidence=evidence,
    )


def decode_event(name: str, data_json: bytes) -> NoteEvent | None:
    """An event relayed from another worker, validated (Redis is outside this process);
    None for a name or data that is not an event of the contract. Its JSON is kept as
    read: relaying it on never re-encodes it."""
    cls = _BY_NAME.get(name)
    if cls is None:
        return None
    try:
        event = cls.model_validate_json(data_json)
    except ValueError:
        return None
    if not any(sep in data_json for sep in _LINE_BREAKS):
        # Seeds the cached property: the bytes read ARE this event's one-line JSON.
        event.__dict__["data_json"] = data_json
    return event
