"""GET /health: real checks of the database and the cache, not a constant."""

from __future__ import annotations

import asyncio
from typing import Literal

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from delphos import __version__
from delphos.errors import InternalError
from delphos.routing import ApiRoute, Operation, model_response
from delphos.state import AppState


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


async def health(request: Request) -> Response:
    state: AppState = request.app.state.delphos
    db_ok, cache_health = await asyncio.gather(state.db.ping(), state.cache.health())
    backlog = state.recorder.backlog_size
    ok = db_ok and cache_health.ok and backlog == 0
    body = Health(
        # "degraded": notes are still served, but something needs the operator's eye.
        status="ok" if ok else "degraded",
        version=__version__,
        engine=state.engine.name,
        model=state.engine.model,
        database=DatabaseHealth(ok=db_ok, backend=state.db.backend, backlog=backlog),
        cache=CacheHealthBody(
            kind=cache_health.kind, ok=cache_health.ok, detail=cache_health.detail
        ),
        generations_in_flight=state.notes.inflight,
    )
    return model_response(body, headers={"Cache-Control": "no-store"})


routes = [
    ApiRoute(
        "/health",
        health,
        "GET",
        Operation(
            "health",
            "Service health with real database and cache checks",
            ok=Health,
            errors=(InternalError,),
            secured=False,
        ),
    )
]
