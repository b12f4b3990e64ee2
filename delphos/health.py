"""GET /health: real checks of the database and the cache, not a constant."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from delphos import __version__
from delphos.state import AppState


async def health(request: Request) -> Response:
    state: AppState = request.app.state.delphos
    db_ok, cache_health = await asyncio.gather(state.db.ping(), state.cache.health())
    backlog = state.recorder.backlog_size
    ok = db_ok and cache_health.ok and backlog == 0
    body = {
        # "degraded": notes are still served, but something needs the operator's eye.
        "status": "ok" if ok else "degraded",
        "version": __version__,
        "engine": state.engine.name,
        "model": state.engine.model,
        "database": {
            "ok": db_ok,
            "backend": state.db.backend,
            "backlog": backlog,
        },
        "cache": {
            "kind": cache_health.kind,
            "ok": cache_health.ok,
            "detail": cache_health.detail,
        },
        "generations_in_flight": state.notes.inflight,
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


routes = [Route("/health", health, methods=["GET"])]
