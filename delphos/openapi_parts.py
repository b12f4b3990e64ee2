"""The fixed parts of the OpenAPI document: its prose, Starlette's 405 answer and the
shape of one SSE event (delphos.openapi assembles the rest from the route table)."""

from __future__ import annotations

from typing import Any

from delphos.errors import DelphosError, ParseError, ProcessingError

INFO_DESCRIPTION = """\
Progressive SOAP notes over Server-Sent Events (the DELPHOS contract).

Every error body is JSON `{"code", "message"}` (plus `fields` for 422). A path that no
route serves is answered 404 (`NOT_FOUND`); a method a path does not serve, 405
(`METHOD_NOT_ALLOWED`) with an `Allow` header (see `components.responses`); a path with
a trailing `/` is redirected (307) to the path without it. Any operation may answer 500
(`INTERNAL_ERROR`) on a server bug.

Live transcription is a WebSocket, `/ws/transcribe` (authenticated by the `x-api-key`
header or a `?token=` from `POST /v1/transcription/token`), which OpenAPI cannot describe;
see docs/api.md."""

SSE_DESCRIPTION = """\
Server-Sent Events, each an `event:` line and ONE `data:` line of JSON, blocks separated by a
blank line. Order: `status` (StatusEvent) first; then zero or more `partial` (PartialEvent);
then exactly one `soap` (SoapEvent) or `error` (ErrorEvent); then the stream closes. Lines
starting with `:` are keep-alive comments.

OpenAPI 3.1 has no keyword for the items of a stream, so, as OpenAPI 3.2's `itemSchema` does,
`schema` here describes ONE event: `event` is its name and `data` its JSON payload."""

# What each reusable error answer means, by the name the document gives it.
ERROR_DESCRIPTIONS: dict[str, str] = {
    "BadRequest": "The body is not JSON (or is empty, or nested too deeply)",
    "Unauthorized": "Missing or unknown x-api-key",
    "NotFound": "Not found for this tenant",
    "PayloadTooLarge": "The body is larger than the limit",
    "UnsupportedMediaType": "The body was declared as something other than JSON (Content-Type)",
    "ValidationFailed": "Invalid field(s), each listed",
    "InternalError": "Unexpected server error (a bug)",
    "EngineFailed": "The note engine failed, or its output could not be parsed",
    "ServiceUnavailable": (
        "A required service (the database, to check a tenant key) is unavailable"
    ),
    "ProcessingTimeout": "The generation took longer than the configured timeout",
}


def ref(name: str, kind: str = "schemas") -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


# Error classes documented as one reusable answer (same status, either code).
_GROUPS: dict[type[DelphosError], str] = {
    ProcessingError: "EngineFailed",
    ParseError: "EngineFailed",
}


def error_name(error: type[DelphosError]) -> str:
    """The name of the reusable answer (``components.responses``) documenting ``error``."""
    return _GROUPS.get(error, error.__name__)


# Starlette's own answer (delphos.app maps it to an error body), for any operation.
METHOD_NOT_ALLOWED: dict[str, Any] = {
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
            "schema": {**ref("Error"), "properties": {"code": {"const": "METHOD_NOT_ALLOWED"}}}
        }
    },
}


def sse_event(name: str, payload: str) -> dict[str, Any]:
    """One event of a stream: its name, and its data as JSON text of ``payload``."""
    return {
        "type": "object",
        "description": f"`event: {name}` with a {payload} as its data",
        "required": ["event", "data"],
        "properties": {
            "event": {"const": name},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": ref(payload),
            },
        },
    }
