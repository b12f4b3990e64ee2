"""The events of the note contract as the pipeline carries them, and their two payloads.

An event is ``(name, data)``: `status` first, then `partial`s, then exactly one `soap` or
`error`. The `soap` payload is written in one place (`soap_payload`), and every `error`
payload is built from an `errors.py` class (`error_payload`), so a code and its message are
never spelled out twice.
"""

from __future__ import annotations

from typing import Any

from delphos.errors import (
    DelphosError,
    InternalError,
    ParseError,
    ProcessingError,
    ProcessingTimeout,
)
from delphos.records import SoapNote, Usage

Event = tuple[str, dict[str, Any]]

# The final events: a stream ends after exactly one of them.
TERMINAL = frozenset({"soap", "error"})

# The errors a generation can end with, by code: the JSON endpoint raises the same class
# (its HTTP status) that the stream's `error` event was built from.
STREAM_ERRORS: dict[str, type[DelphosError]] = {
    cls.code: cls for cls in (ProcessingTimeout, ProcessingError, ParseError, InternalError)
}


def error_payload(error: DelphosError, *, degraded: bool) -> dict[str, Any]:
    """An `error` event's data: the error's stable code and safe message."""
    return {"code": error.code, "message": error.message, "degraded": degraded}


def error_from_payload(data: dict[str, Any]) -> DelphosError:
    """The exception an `error` event stands for (an unknown code is a server bug)."""
    return STREAM_ERRORS.get(data["code"], InternalError)(data["message"])


def soap_payload(
    note: SoapNote,
    *,
    cached: bool,
    is_degraded: bool,
    engine: str,
    model: str,
    consultation_id: str,
    text_hash: str,
    generation_ms: int,
    usage: Usage | None,
) -> dict[str, Any]:
    """The final `soap` event / JSON answer: the one place its shape is written."""
    return {
        **note.sections(),
        "completeness": {"s": True, "o": True, "a": True, "p": True},
        "soap_hash": note.soap_hash,
        "cached": cached,
        "is_degraded": is_degraded,
        "engine": engine,
        "model": model,
        "consultation_id": consultation_id,
        "text_hash": text_hash,
        "generation_ms": generation_ms,
        "usage": usage.as_json() if usage is not None else None,
    }
