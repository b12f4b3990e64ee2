"""GET /openapi.json — an OpenAPI 3.1 document built from the same pydantic models the
code validates with, so the description cannot drift from the behaviour."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from delphos import __version__
from delphos.soap.schemas import (
    ErrorEvent,
    PartialEvent,
    SoapEvent,
    SoapRequest,
    StatusEvent,
)


class FieldError(BaseModel):
    field: str
    message: str
    type: str


class Error(BaseModel):
    code: str = Field(description="Stable machine-readable code")
    message: str = Field(description="Human-readable; never patient text")


class ValidationErrorBody(Error):
    fields: list[FieldError]


class DatabaseHealth(BaseModel):
    ok: bool
    backend: str
    backlog: int = Field(description="Notes waiting to be written (database unreachable)")


class CacheHealthBody(BaseModel):
    kind: str
    ok: bool
    detail: str


class Health(BaseModel):
    status: str = Field(description='"ok", or "degraded" when a dependency needs attention')
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
    soap_hash: str
    text_hash: str
    word_count: int
    engine: str
    model: str
    is_degraded: bool
    latency_ms: int
    created_at: str


class StoredNoteWithId(StoredNote):
    consultation_id: str


class Consultation(BaseModel):
    consultation_id: str
    created_at: str
    updated_at: str
    versions: int
    latest: StoredNote | None


class NotePage(BaseModel):
    consultation_id: str
    items: list[StoredNote]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next (older) page")


_MODELS: list[type[BaseModel]] = [
    SoapRequest,
    StatusEvent,
    PartialEvent,
    SoapEvent,
    ErrorEvent,
    Error,
    ValidationErrorBody,
    Health,
    Consultation,
    NotePage,
    StoredNoteWithId,
]

_SSE_DESCRIPTION = """\
Server-Sent Events, each an `event:` line and ONE `data:` line of JSON, blocks separated by a
blank line. Order: `status` (StatusEvent) first; then zero or more `partial` (PartialEvent);
then exactly one `soap` (SoapEvent) or `error` (ErrorEvent); then the stream closes. Lines
starting with `:` are keep-alive comments."""


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {
        400: "Body is not JSON",
        401: "Missing or unknown x-api-key",
        404: "Not found for this tenant",
        413: "Body too large",
        422: "Invalid field(s)",
        500: "INTERNAL_ERROR",
        502: "PROCESSING_ERROR or PARSE_ERROR",
        503: "A required service (database for key lookup) is unavailable",
        504: "PROCESSING_TIMEOUT",
    }
    out: dict[str, Any] = {}
    for status in statuses:
        schema = "ValidationErrorBody" if status == 422 else "Error"
        out[str(status)] = _json(schema, text[status])
    return out


_API_KEY: list[dict[str, list[str]]] = [{"ApiKey": []}]
_NOTE_ERRORS = (400, 401, 413, 422, 500, 502, 503, 504)


def _soap_operation(streaming: bool) -> dict[str, Any]:
    ok: dict[str, Any] = {
        "description": (
            'Stream of events (or, with "stream": false, the final note as JSON)'
            if streaming
            else "The final note (same object as the `soap` event)"
        ),
        "content": {"application/json": {"schema": _ref("SoapEvent")}},
    }
    if streaming:
        ok["content"]["text/event-stream"] = {
            "schema": {"type": "string", "description": _SSE_DESCRIPTION}
        }
    return {
        "summary": "Progressive SOAP note (SSE)" if streaming else "SOAP note (JSON)",
        "security": _API_KEY,
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ref("SoapRequest")}},
        },
        "responses": {"200": ok, **_errors(*_NOTE_ERRORS)},
    }


def _cid_param() -> dict[str, Any]:
    return {
        "name": "consultation_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^/]+$"},
    }


@cache
def document() -> dict[str, Any]:
    _, defs = models_json_schema(
        [(m, "validation") for m in _MODELS], ref_template="#/components/schemas/{model}"
    )
    history_errors = _errors(401, 404, 422, 500, 503)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Delphos",
            "version": __version__,
            "description": "Progressive SOAP notes over Server-Sent Events (DELPHOS contract).",
        },
        "components": {
            "schemas": defs["$defs"],
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}},
        },
        "paths": {
            "/v1/consultation/progressive-soap/stream": {"post": _soap_operation(True)},
            "/v1/consultation/progressive-soap": {"post": _soap_operation(False)},
            "/v1/consultations/{consultation_id}": {
                "get": {
                    "summary": "A consultation and its latest note",
                    "security": _API_KEY,
                    "parameters": [_cid_param()],
                    "responses": {"200": _json("Consultation", "OK"), **history_errors},
                }
            },
            "/v1/consultations/{consultation_id}/soap-notes": {
                "get": {
                    "summary": "Note versions, newest first",
                    "security": _API_KEY,
                    "parameters": [
                        _cid_param(),
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                        },
                        {
                            "name": "cursor",
                            "in": "query",
                            "schema": {"type": "string", "pattern": "^[0-9]+$"},
                        },
                    ],
                    "responses": {"200": _json("NotePage", "OK"), **history_errors},
                }
            },
            "/v1/consultations/{consultation_id}/soap-notes/{soap_hash}": {
                "get": {
                    "summary": "One note version by its soap_hash",
                    "security": _API_KEY,
                    "parameters": [
                        _cid_param(),
                        {
                            "name": "soap_hash",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "pattern": "^[^/]+$"},
                        },
                    ],
                    "responses": {"200": _json("StoredNoteWithId", "OK"), **history_errors},
                }
            },
            "/health": {
                "get": {
                    "summary": "Service health with real database and cache checks",
                    "responses": {"200": _json("Health", "OK")},
                }
            },
            "/openapi.json": {
                "get": {
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
