"""The prose of the OpenAPI document (delphos.openapi assembles the rest from routes)."""

from __future__ import annotations

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
