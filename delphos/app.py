"""The ASGI application: routes, error handlers and the lifespan that owns every client."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import exc as sa
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from delphos import health, logs, metrics, openapi, workspace
from delphos.engines.base import Engine
from delphos.errors import DATABASE_RETRY_SECONDS, DelphosError, ServiceUnavailable
from delphos.evidence import routes as evidence
from delphos.heap import freeze_startup
from delphos.history import routes as history
from delphos.http import Error, error_response
from delphos.live import routes as live
from delphos.live import ws
from delphos.live.state import LiveServices
from delphos.observe import ObserveMiddleware
from delphos.scope import Services
from delphos.settings import Settings
from delphos.soap import routes as soap
from delphos.soap.routes import NoteServices
from delphos.state import AppState
from delphos.trim import trim_when_quiet

log = logging.getLogger("delphos.app")

_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}

# The route table; the API routes carry their own description (delphos.routing), from
# which /openapi.json is assembled.
ROUTES: list[BaseRoute] = [
    *soap.routes,
    *history.routes,
    *evidence.routes,
    *live.routes,
    *ws.routes,
    *health.routes,
    *openapi.routes,
    *metrics.routes,
    *workspace.routes,
]


def _serves_every_handler(state: AppState) -> tuple[NoteServices, LiveServices, Services]:
    """Never called: mypy checks here that the state handlers are given is the one they
    name (each feature declares what it reads as a Protocol instead of importing state)."""
    return state, state, state


async def _delphos_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DelphosError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    body = Error(code=code, message=str(exc.detail))
    return JSONResponse(body.model_dump(), status_code=exc.status_code, headers=exc.headers)


async def _client_left(request: Request, exc: Exception) -> Response:
    # A client that goes away while sending its body is routine (a closed tab, a network
    # change), not a server error. Nobody reads the answer.
    log.debug("client disconnected during the request body on %s", request.url.path)
    return Response(status_code=400)


# What the database raises when it is down, overloaded or out of connections (the pool's
# wait for a free one timed out): the request may succeed in a moment, so 503, not 500.
# asyncpg's connection attempts raise the builtin ConnectionRefusedError or TimeoutError,
# unwrapped. A statement's own errors (a constraint, a bad cast) are bugs: 500s.
UNAVAILABLE: tuple[type[Exception], ...] = (
    sa.TimeoutError,
    sa.OperationalError,
    sa.InterfaceError,
    sa.DisconnectionError,
    ConnectionError,
    TimeoutError,
)


async def _unavailable(request: Request, exc: Exception) -> Response:
    # Class name only (a driver's message may quote the statement), and the route's
    # template, not the path (ids in a path may identify a patient).
    route = getattr(request.scope.get("route"), "path", "?")
    log.warning("service unavailable (%s) on %s %s", type(exc).__name__, request.method, route)
    return error_response(
        ServiceUnavailable(
            "The database (or another service) is unavailable or busy; retry shortly",
            retry_after=DATABASE_RETRY_SECONDS,
        )
    )


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> Starlette:
    """Build the app. `engine` overrides the configured one (tests, embedding)."""
    settings = settings or Settings()
    # Also when served by a bare `uvicorn --factory --log-level debug`.
    logs.configure_worker(settings.log_level, settings.log_format)
    logs.quiet_text_leaking_loggers()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state = await AppState.create(settings, engine=engine)
        app.state.delphos = state
        # The evidence checker (its drug dictionary takes seconds to load): now, not on
        # the first note (before the freeze below).
        await state.evidence.start()
        # What startup made lives as long as the process: out of the collector's reach.
        freeze_startup()
        trimmer: asyncio.Task[None] | None = None
        if settings.malloc_trim_mb > 0:
            trimmer = asyncio.create_task(
                trim_when_quiet(
                    lambda: state.notes.inflight > 0, min_growth=settings.malloc_trim_mb << 20
                ),
                name="delphos-malloc-trim",
            )
        try:
            yield
        finally:
            if trimmer is not None:
                trimmer.cancel()
            await state.aclose()

    return Starlette(
        routes=ROUTES,
        middleware=[Middleware(ObserveMiddleware, routes=ROUTES)],
        exception_handlers={
            DelphosError: _delphos_error,
            HTTPException: _http_error,
            ClientDisconnect: _client_left,
            **dict.fromkeys(UNAVAILABLE, _unavailable),
            # Any other exception is answered (500) and logged by ObserveMiddleware.
        },
        lifespan=lifespan,
    )
