"""HTTP endpoints of the progressive-SOAP API.

Everything that can be refused (auth, body size, JSON, validation) is refused here,
before the first byte of a stream; once streaming, failures are `error` events.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response

from delphos.errors import (
    BadRequest,
    InternalError,
    ParseError,
    PayloadTooLarge,
    ProcessingError,
    ProcessingTimeout,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from delphos.http import read_model
from delphos.metrics import STREAMS_IN_FLIGHT
from delphos.routing import ApiRoute, Operation
from delphos.scope import Services
from delphos.soap.events import CACHE_HIT, error_event
from delphos.soap.schemas import SSE_EVENTS, SoapEvent, SoapRequest
from delphos.soap.service import NoteService
from delphos.sse import event_bytes
from delphos.sse_response import EventStreamResponse, ServerExit


class NoteServices(Services, Protocol):
    notes: NoteService
    server_exit: ServerExit


# A hit's answer is this, the `soap` event's one-line JSON as the cache holds it, and the
# event's end: one write, no streaming machinery, no decode or re-encode of the note.
_CACHE_HIT_HEAD = event_bytes(CACHE_HIT.name, CACHE_HIT.data_json) + b"event: soap\ndata: "
_CACHE_HIT_END = b"\n\n"
# Its headers, encoded once (Starlette's Response encodes and checks them per response).
_CACHE_HIT_HEADERS = ((b"cache-control", b"no-store"), (b"x-accel-buffering", b"no"))
_CACHE_HIT_TYPE = (b"content-type", b"text/event-stream; charset=utf-8")


class _CacheHitResponse(Response):
    """A cache hit's whole SSE answer, written at once; the same bytes and headers as a
    `Response(body, media_type="text/event-stream", headers=...)`, built for less."""

    def __init__(self, cached_json: bytes) -> None:
        self.status_code = 200
        self.background = None
        self.body = b"".join((_CACHE_HIT_HEAD, cached_json, _CACHE_HIT_END))
        self.raw_headers = [
            *_CACHE_HIT_HEADERS,
            (b"content-length", b"%d" % len(self.body)),
            _CACHE_HIT_TYPE,
        ]


async def _prepare(request: Request) -> tuple[NoteServices, Any, SoapRequest]:
    state: NoteServices = request.app.state.delphos
    tenant = await state.auth.authenticate(request.headers.get("x-api-key"))
    body = await read_model(request, SoapRequest, state.settings.max_body_bytes)
    return state, tenant, body


async def soap_stream(request: Request) -> Response:
    state, tenant, body = await _prepare(request)
    if not body.stream:
        return _json(await state.notes.note_json(tenant, body))

    answer = await state.notes.answer(tenant, body)
    if answer.cached_json is not None:
        return _CacheHitResponse(answer.cached_json)

    partial_sent = False

    async def events() -> AsyncGenerator[bytes, None]:
        """The run's events as SSE bytes (each event's JSON is written once, however
        many streams carry it)."""
        nonlocal partial_sent
        STREAMS_IN_FLIGHT.inc()
        try:
            # Closed the moment the response stops reading (the client left, or the server
            # is shutting down): the departure reaches the run, and the engine, at once.
            async with aclosing(answer.events()) as stream:
                async for event in stream:
                    partial_sent |= event.name == "partial"
                    yield event_bytes(event.name, event.data_json)
        finally:
            STREAMS_IN_FLIGHT.dec()

    def farewell() -> bytes:
        # The server is shutting down: end the stream the contract's way, with an error
        # the client knows to retry, not a cut connection.
        event = error_event(
            ProcessingError("The server is restarting; retry the request"),
            degraded=partial_sent,
        )
        return event_bytes(event.name, event.data_json)

    return EventStreamResponse(
        events(),
        ping_seconds=state.settings.sse_ping_seconds,
        farewell=farewell,
        exiting=state.server_exit.future,
    )


async def soap_json(request: Request) -> Response:
    state, tenant, body = await _prepare(request)
    return _json(await state.notes.note_json(tenant, body))


def _json(note_json: bytes) -> Response:
    # The `soap` event's JSON as written once (or as the cache holds it): not re-encoded.
    return Response(note_json, media_type="application/json")


# Refused before any work (key, then body), or the engine's failure as JSON.
_NOTE_ERRORS = (
    BadRequest,
    Unauthorized,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    InternalError,
    ProcessingError,
    ParseError,
    ServiceUnavailable,
    ProcessingTimeout,
)
_BODY = (
    "A JSON object, sent as application/json (or with no Content-Type); any other "
    "declared type is refused with 415"
)

routes = [
    ApiRoute(
        "/v1/consultation/progressive-soap/stream",
        soap_stream,
        "POST",
        Operation(
            "progressiveSoapStream",
            "Progressive SOAP note (SSE)",
            body=SoapRequest,
            body_description=_BODY,
            ok=SoapEvent,
            ok_description=(
                'A stream of events; with "stream": false, the final note as JSON (engine '
                "failures are then 502/504 instead of an `error` event)"
            ),
            events=SSE_EVENTS,
            errors=_NOTE_ERRORS,
        ),
    ),
    ApiRoute(
        "/v1/consultation/progressive-soap",
        soap_json,
        "POST",
        Operation(
            "progressiveSoap",
            "SOAP note (JSON)",
            body=SoapRequest,
            body_description=_BODY + "; `stream` is ignored (the answer is always JSON)",
            ok=SoapEvent,
            ok_description="The final note (the same object as the `soap` event)",
            errors=_NOTE_ERRORS,
        ),
    ),
]
