"""GET /openapi.json — an OpenAPI 3.1 document built from the same pydantic models the
code validates with, and from the same error classes the code raises, so the description
cannot drift from the behaviour. tests/test_openapi.py fuzzes the running server against it.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from delphos import __version__
from delphos.errors import (
    BadRequest,
    DelphosError,
    InternalError,
    NotFound,
    ParseError,
    PayloadTooLarge,
    ProcessingError,
    ProcessingTimeout,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from delphos.evidence.models import Evidence
from delphos.evidence.routes import VerifyRequest
from delphos.records import NO_NUL_SCHEMA
from delphos.soap.schemas import (
    ErrorEvent,
    PartialEvent,
    SoapEvent,
    SoapRequest,
    StatusEvent,
    Usage,
)

# --- bodies the server sends (every field is always present) ------------------------------


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the field at fault (`body` for the whole)")
    message: str
    type: str = Field(description="Stable machine-readable kind of error")


class Error(BaseModel):
    code: str = Field(description="Stable machine-readable code")
    message: str = Field(description="Human-readable; never patient text")


class ValidationErrorBody(Error):
    fields: list[FieldError] = Field(description="Every field at fault")


class DatabaseHealth(BaseModel):
    ok: bool
    backend: str
    backlog: int = Field(description="Notes waiting to be written (database unreachable)")


class CacheHealthBody(BaseModel):
    kind: str
    ok: bool
    detail: str


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        description='"degraded": notes are still served, but a dependency needs attention'
    )
    version: str
    engine: str
    model: str
    database: DatabaseHealth
    cache: CacheHealthBody
    generations_in_flight: int


class StoredNote(BaseModel):
    subjective: str
    objective: str
    assessment: str
    plan: str
    soap_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    text_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    word_count: int
    engine: str
    model: str
    is_degraded: bool
    latency_ms: int
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    usage: Usage | None = Field(
        description="Tokens the LLM provider reported for this note; null when no LLM was called"
    )
    evidence: Evidence | None = Field(
        description="The evidence served with this version (null if stored before evidence)"
    )


class StoredNoteWithId(StoredNote):
    consultation_id: str
    accumulated_text: str = Field(description="The text the note was made from")


class Consultation(BaseModel):
    consultation_id: str
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    updated_at: str = Field(json_schema_extra={"format": "date-time"})
    versions: int
    latest: StoredNote | None = Field(description="The newest note, or null when none is stored")


class ConsultationPage(BaseModel):
    items: list[Consultation] = Field(description="Newest (most recently created) first")
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next (older) page")


class NotePage(BaseModel):
    consultation_id: str
    items: list[StoredNote]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next (older) page")


class TranscriptionToken(BaseModel):
    token: str = Field(description="Single-use; open /ws/transcribe?token=… with it")
    expires_in: int = Field(description="Seconds the token stays valid")


class TranscriptTurn(BaseModel):
    seq: int
    original_text: str
    edited_text: str | None
    text: str = Field(description="edited_text when the clinician edited the turn, else original")
    flags: list[Literal["medication", "symptom", "diagnosis"]]
    started_at: str = Field(json_schema_extra={"format": "date-time"})
    ended_at: str | None = Field(json_schema_extra={"format": "date-time"})


class Transcript(BaseModel):
    consultation_id: str
    turns: list[TranscriptTurn]


class AudioRecording(BaseModel):
    id: int
    sample_rate: int
    duration_ms: int
    bytes: int
    created_at: str = Field(json_schema_extra={"format": "date-time"})


class AudioList(BaseModel):
    consultation_id: str
    items: list[AudioRecording]


_REQUEST_MODELS: list[type[BaseModel]] = [SoapRequest, VerifyRequest]
# Response bodies: the server always sends every field, so the document requires them all.
_RESPONSE_MODELS: list[type[BaseModel]] = [
    StatusEvent,
    PartialEvent,
    SoapEvent,
    ErrorEvent,
    Error,
    ValidationErrorBody,
    Health,
    Consultation,
    ConsultationPage,
    NotePage,
    StoredNoteWithId,
    TranscriptionToken,
    Transcript,
    AudioList,
    Evidence,
]

# (SSE event name, payload schema) in stream order.
SSE_EVENTS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("status", StatusEvent),
    ("partial", PartialEvent),
    ("soap", SoapEvent),
    ("error", ErrorEvent),
)

_SSE_DESCRIPTION = """\
Server-Sent Events, each an `event:` line and ONE `data:` line of JSON, blocks separated by a
blank line. Order: `status` (StatusEvent) first; then zero or more `partial` (PartialEvent);
then exactly one `soap` (SoapEvent) or `error` (ErrorEvent); then the stream closes. Lines
starting with `:` are keep-alive comments.

OpenAPI 3.1 has no keyword for the items of a stream, so, as OpenAPI 3.2's `itemSchema` does,
`schema` here describes ONE event: `event` is its name and `data` its JSON payload."""

_INFO_DESCRIPTION = """\
Progressive SOAP notes over Server-Sent Events (the DELPHOS contract).

Every error body is JSON `{"code", "message"}` (plus `fields` for 422). A path that no
route serves is answered 404 (`NOT_FOUND`); a method a path does not serve, 405
(`METHOD_NOT_ALLOWED`) with an `Allow` header (see `components.responses`); a path with
a trailing `/` is redirected (307) to the path without it. Any operation may answer 500
(`INTERNAL_ERROR`) on a server bug.

Live transcription is a WebSocket, `/ws/transcribe` (authenticated by the `x-api-key`
header or a `?token=` from `POST /v1/transcription/token`), which OpenAPI cannot describe;
see docs/api.md."""


def _ref(name: str, kind: str = "schemas") -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


# Reusable error answers, by name: what each means and the error classes the code raises
# for it, which give the HTTP status and the `code`s.
_ERRORS: dict[str, tuple[str, tuple[type[DelphosError], ...]]] = {
    "BadRequest": ("The body is not JSON (or is empty, or nested too deeply)", (BadRequest,)),
    "Unauthorized": ("Missing or unknown x-api-key", (Unauthorized,)),
    "NotFound": ("Not found for this tenant", (NotFound,)),
    "PayloadTooLarge": ("The body is larger than the limit", (PayloadTooLarge,)),
    "UnsupportedMediaType": (
        "The body was declared as something other than JSON (Content-Type)",
        (UnsupportedMediaType,),
    ),
    "ValidationFailed": ("Invalid field(s), each listed", (ValidationFailed,)),
    "InternalError": ("Unexpected server error (a bug)", (InternalError,)),
    "EngineFailed": (
        "The note engine failed, or its output could not be parsed",
        (ProcessingError, ParseError),
    ),
    "ServiceUnavailable": (
        "A required service (the database, to check a tenant key) is unavailable",
        (ServiceUnavailable,),
    ),
    "ProcessingTimeout": (
        "The generation took longer than the configured timeout",
        (ProcessingTimeout,),
    ),
}


def _error_response(description: str, errors: tuple[type[DelphosError], ...]) -> dict[str, Any]:
    assert len({e.status_code for e in errors}) == 1, "one response, one status"
    schema: dict[str, Any] = {
        **_ref("ValidationErrorBody" if errors == (ValidationFailed,) else "Error"),
        "properties": {"code": {"enum": sorted({e.code for e in errors})}},
    }
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERROR_RESPONSES: dict[str, dict[str, Any]] = {
    **{name: _error_response(text, errors) for name, (text, errors) in _ERRORS.items()},
    # Starlette's own answer (delphos.app maps it to an error body), for any operation.
    "MethodNotAllowed": {
        "description": "The path exists but does not serve this method",
        "headers": {
            "Allow": {
                "description": "The methods the path serves",
                "required": True,
                "schema": {"type": "string"},
            }
        },
        "content": {
            "application/json": {
                "schema": {**_ref("Error"), "properties": {"code": {"const": "METHOD_NOT_ALLOWED"}}}
            }
        },
    },
}


def _errors(*names: str) -> dict[str, Any]:
    return {str(_ERRORS[name][1][0].status_code): _ref(name, "responses") for name in names}


_API_KEY: list[dict[str, list[str]]] = [{"ApiKey": []}]
# Refused before any work: key, then body.
_NOTE_ERRORS = (
    "BadRequest",
    "Unauthorized",
    "PayloadTooLarge",
    "UnsupportedMediaType",
    "ValidationFailed",
    "InternalError",
    "EngineFailed",
    "ServiceUnavailable",
    "ProcessingTimeout",
)
_SCOPED_ERRORS = (
    "Unauthorized",
    "NotFound",
    "ValidationFailed",
    "InternalError",
    "ServiceUnavailable",
)


def _sse_event(name: str, payload: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": f"`event: {name}` with a {payload} as its data",
        "required": ["event", "data"],
        "properties": {
            "event": {"const": name},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": _ref(payload),
            },
        },
    }


def _soap_operation(streaming: bool) -> dict[str, Any]:
    content: dict[str, Any] = {}
    if streaming:
        content["text/event-stream"] = {
            "schema": {
                "description": _SSE_DESCRIPTION,
                "oneOf": [_ref(f"Sse{name.capitalize()}Event") for name, _ in SSE_EVENTS],
            }
        }
    content["application/json"] = {"schema": _ref("SoapEvent")}
    ok = {
        "description": (
            'A stream of events; with "stream": false, the final note as JSON (engine '
            "failures are then 502/504 instead of an `error` event)"
            if streaming
            else "The final note (the same object as the `soap` event)"
        ),
        "content": content,
    }
    return {
        "operationId": "progressiveSoapStream" if streaming else "progressiveSoap",
        "summary": "Progressive SOAP note (SSE)" if streaming else "SOAP note (JSON)",
        "security": _API_KEY,
        "requestBody": {
            "required": True,
            "description": (
                "A JSON object, sent as application/json (or with no Content-Type); any "
                "other declared type is refused with 415"
                + ("" if streaming else "; `stream` is ignored (the answer is always JSON)")
            ),
            "content": {"application/json": {"schema": _ref("SoapRequest")}},
        },
        "responses": {"200": ok, **_errors(*_NOTE_ERRORS)},
    }


def _cid_param() -> dict[str, Any]:
    return {
        "name": "consultation_id",
        "in": "path",
        "required": True,
        "description": (
            "The consultation_id the notes were requested with. One path segment: a "
            "consultation whose id contains `/` cannot be read back here."
        ),
        "schema": {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "pattern": "^[^/]+$",
            **NO_NUL_SCHEMA,
        },
    }


def _page_params() -> list[dict[str, Any]]:
    return [
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
        },
        {
            "name": "cursor",
            "in": "query",
            "description": "next_cursor of the previous page",
            "schema": {"type": "integer", "minimum": 1, "maximum": 2**62},
        },
    ]


def _scoped_get(operation_id: str, summary: str, ok: str, *extra: dict[str, Any]) -> Any:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "security": _API_KEY,
            "parameters": [_cid_param(), *extra],
            "responses": {"200": _json(ok, "OK"), **_errors(*_SCOPED_ERRORS)},
        }
    }


# Request bodies whose fields may be left out.
_OPTIONAL_FIELDS = frozenset({"SoapRequest", "VerifyRequest", "NoteSections"})


def _verify_operation() -> dict[str, Any]:
    return {
        "post": {
            "operationId": "verifyNote",
            "summary": "Check a note against its transcript (evidence and review flags)",
            "description": (
                "Splits each section into statements and traces each to `accumulated_text`. "
                "Offsets are Unicode code points (Python str indices): `start`/`end` of a "
                "statement index its section's text, `evidence` spans index "
                "`accumulated_text`. In JavaScript slice with "
                "`Array.from(text).slice(start, end).join('')`."
            ),
            "security": _API_KEY,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("VerifyRequest")}},
            },
            "responses": {
                "200": _json("Evidence", "The statements and the summary"),
                **_errors(
                    "BadRequest",
                    "Unauthorized",
                    "PayloadTooLarge",
                    "ValidationFailed",
                    "InternalError",
                    "ServiceUnavailable",
                ),
            },
        }
    }


def _schemas() -> dict[str, Any]:
    _, defs = models_json_schema(
        [(m, "validation") for m in [*_REQUEST_MODELS, *_RESPONSE_MODELS]],
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = defs["$defs"]
    for name, schema in schemas.items():
        if name not in _OPTIONAL_FIELDS and "properties" in schema:
            schema["required"] = list(schema["properties"])
    for name, payload in SSE_EVENTS:
        schemas[f"Sse{name.capitalize()}Event"] = _sse_event(name, payload.__name__)
    return schemas


def _audio_file_operation() -> dict[str, Any]:
    wav = {"schema": {"type": "string", "contentMediaType": "audio/wav"}}
    text = {"schema": {"type": "string"}}
    return {
        "get": {
            "operationId": "audioFile",
            "summary": "One recording as 16-bit PCM WAV (Range requests are honoured)",
            "security": _API_KEY,
            "parameters": [
                _cid_param(),
                {"name": "audio_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                {"name": "Range", "in": "header", "schema": {"type": "string"}},
            ],
            "responses": {
                "200": {"description": "The recording", "content": {"audio/wav": wav}},
                "206": {
                    "description": "The requested byte range(s)",
                    "content": {"audio/wav": wav, "multipart/byteranges": text},
                },
                "400": {"description": "Malformed Range header", "content": {"text/plain": text}},
                "416": {"description": "Range not satisfiable", "content": {"text/plain": text}},
                **_errors(*_SCOPED_ERRORS),
            },
        }
    }


@cache
def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Delphos", "version": __version__, "description": _INFO_DESCRIPTION},
        "components": {
            "schemas": _schemas(),
            "responses": _ERROR_RESPONSES,
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}},
        },
        "paths": {
            "/v1/consultation/progressive-soap/stream": {"post": _soap_operation(True)},
            "/v1/consultation/progressive-soap": {"post": _soap_operation(False)},
            "/v1/notes/verify": _verify_operation(),
            "/v1/consultations": {
                "get": {
                    "operationId": "listConsultations",
                    "summary": "The tenant's consultations, newest first",
                    "security": _API_KEY,
                    "parameters": _page_params(),
                    "responses": {
                        "200": _json("ConsultationPage", "OK"),
                        **_errors(
                            "Unauthorized",
                            "ValidationFailed",
                            "InternalError",
                            "ServiceUnavailable",
                        ),
                    },
                }
            },
            "/v1/consultations/{consultation_id}": _scoped_get(
                "getConsultation", "A consultation and its latest note", "Consultation"
            ),
            "/v1/consultations/{consultation_id}/soap-notes": _scoped_get(
                "listSoapNotes",
                "Note versions, newest first",
                "NotePage",
                *_page_params(),
            ),
            "/v1/consultations/{consultation_id}/soap-notes/{soap_hash}": _scoped_get(
                "getSoapNote",
                "One note version by its soap_hash, with the text it was made from",
                "StoredNoteWithId",
                {
                    "name": "soap_hash",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                },
            ),
            "/v1/consultations/{consultation_id}/transcript": _scoped_get(
                "getTranscript", "The live transcript's turns, in order", "Transcript"
            ),
            "/v1/consultations/{consultation_id}/audio": _scoped_get(
                "listAudio", "The consultation's stored recordings", "AudioList"
            ),
            "/v1/consultations/{consultation_id}/audio/{audio_id}": _audio_file_operation(),
            "/v1/transcription/token": {
                "post": {
                    "operationId": "issueTranscriptionToken",
                    "summary": "A short-lived, single-use token for a browser's WebSocket",
                    "security": _API_KEY,
                    "responses": {
                        "200": _json("TranscriptionToken", "OK"),
                        **_errors("Unauthorized", "InternalError", "ServiceUnavailable"),
                    },
                }
            },
            "/health": {
                "get": {
                    "operationId": "health",
                    "summary": "Service health with real database and cache checks",
                    "responses": {
                        "200": _json("Health", "OK"),
                        **_errors("InternalError"),
                    },
                }
            },
            "/metrics": {
                "get": {
                    "operationId": "metrics",
                    "summary": "Prometheus metrics (Bearer token if DELPHOS_METRICS_TOKEN is set)",
                    "responses": {
                        "200": {
                            "description": "Prometheus text exposition format",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        },
                        **_errors("Unauthorized", "InternalError"),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
    }


async def openapi(request: Request) -> Response:
    return JSONResponse(document())


routes = [Route("/openapi.json", openapi, methods=["GET"], include_in_schema=False)]
