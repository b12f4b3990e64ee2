"""Per-request observability: a request id (logged, and sent back as ``X-Request-ID``),
the request counter by route template, and the last word on an unhandled exception.

A pure ASGI middleware: it wraps ``send`` only, so SSE streams pass through unbuffered.
It runs on every request, cache hits included, so it does no per-request work it can do
once: ids are a per-process random prefix plus a counter (unique, unguessable across
workers, no 16 random bytes per request), the route comes from the router's match rather
than a second matching pass, and the counter's labelled children are kept.

An exception no handler took is answered here (a 500 with a stable code) and logged by
class and place only. It is not re-raised: Starlette's error middleware would answer the
same 500 and then re-raise it for the server to log, and uvicorn logs the traceback with
the exception's message, which may quote patient text (a driver's SQL parameters, a
value in a ValueError).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import re
import secrets
from pathlib import Path

from prometheus_client.metrics import Counter
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from delphos.errors import InternalError
from delphos.http import error_response
from delphos.logs import request_id
from delphos.metrics import HTTP_REQUESTS

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_KEY = REQUEST_ID_HEADER.encode()
# A caller's id is kept when it is short and plain (it goes into logs and a header).
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# WebSocket close code for "the server met an unexpected condition".
_WS_INTERNAL_ERROR = 1011

log = logging.getLogger("delphos.app")


def _raised_at(exc: BaseException) -> str:
    """Where `exc` was raised, as ``file.py:line in function``: enough to report a bug,
    and code, never data."""
    tb = exc.__traceback__
    if tb is None:
        return "?"
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    return f"{Path(code.co_filename).name}:{tb.tb_lineno} in {code.co_name}"


def _route_template(routes: list[BaseRoute], scope: Scope) -> str:
    """The matched route's path template: ids in the path never become label values."""
    route = scope.get("route")  # set by the router on the match it made
    if route is not None:
        return str(getattr(route, "path", "other"))
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return str(getattr(route, "path", "other"))
    return "unmatched"


class ObserveMiddleware:
    def __init__(self, app: ASGIApp, routes: list[BaseRoute]) -> None:
        self._app = app
        self._routes = routes
        self._prefix = secrets.token_hex(8)
        self._serial = itertools.count(1)
        # (route, method, status) -> the counter's child: `labels()` takes a lock and
        # builds a key on every call.
        self._counters: dict[tuple[str, str, int], Counter] = {}

    def _count(self, scope: Scope, status: int) -> None:
        key = (_route_template(self._routes, scope), scope["method"], status)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = HTTP_REQUESTS.labels(key[0], key[1], str(status))
        counter.inc()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        rid = ""
        for name, value in scope.get("headers", ()):
            if name == _REQUEST_ID_KEY:
                given = value.decode("latin-1")
                if _CLIENT_ID.fullmatch(given):
                    rid = given
                break
        if not rid:
            rid = f"{self._prefix}{next(self._serial):x}"
        token = request_id.set(rid)
        is_http = scope["type"] == "http"
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                # Counted as the answer starts: a client reading /metrics right after its
                # response (maybe on another worker) already sees it.
                started = True
                self._count(scope, message["status"])
                headers = list(message.get("headers", ()))
                headers.append((_REQUEST_ID_KEY, rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self._app(scope, receive, send_with_id if is_http else send)
        except Exception as exc:
            # The route's template, not the path: ids in a path may identify a patient.
            log.error(
                "unhandled %s at %s on %s",
                type(exc).__name__,
                _raised_at(exc),
                _route_template(self._routes, scope),
            )
            if not is_http:
                # Closes the socket (or refuses the handshake); it may be closed already.
                with contextlib.suppress(Exception):
                    await send({"type": "websocket.close", "code": _WS_INTERNAL_ERROR})
            elif not started:
                await error_response(InternalError())(scope, receive, send_with_id)
            # Else a response is under way (a stream): uvicorn closes the connection, which
            # the client sees as a truncated body.
        finally:
            request_id.reset(token)
            if is_http and not started:
                self._count(scope, 500)  # no answer at all (uvicorn answers 500)
