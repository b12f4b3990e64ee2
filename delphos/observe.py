"""Per-request observability: a request id (logged, and sent back as ``X-Request-ID``) and
the request counter by route template.

A pure ASGI middleware: it wraps ``send`` only, so SSE streams pass through unbuffered.
"""

from __future__ import annotations

import re
import uuid

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from delphos.logs import request_id
from delphos.metrics import HTTP_REQUESTS

REQUEST_ID_HEADER = "x-request-id"
# A caller's id is kept when it is short and plain (it goes into logs and a header).
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def _route_template(routes: list[BaseRoute], scope: Scope) -> str:
    """The matched route's path template: ids in the path never become label values."""
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return str(getattr(route, "path", "other"))
    return "unmatched"


class ObserveMiddleware:
    def __init__(self, app: ASGIApp, routes: list[BaseRoute]) -> None:
        self._app = app
        self._routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        sent_id = dict(scope.get("headers", [])).get(REQUEST_ID_HEADER.encode(), b"")
        given = sent_id.decode("latin-1")
        rid = given if _CLIENT_ID.fullmatch(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        is_http = scope["type"] == "http"
        started = False

        def count(status: int) -> None:
            route = _route_template(self._routes, scope)
            HTTP_REQUESTS.labels(route, scope["method"], str(status)).inc()

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                # Counted as the answer starts: a client reading /metrics right after its
                # response (maybe on another worker) already sees it.
                started = True
                count(message["status"])
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self._app(scope, receive, send_with_id if is_http else send)
        finally:
            request_id.reset(token)
            if is_http and not started:
                count(500)  # failed before any answer (uvicorn answers 500)
