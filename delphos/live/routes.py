"""REST side of live sessions: browser tokens, and the transcript and audio of a
consultation (tenant-scoped; another tenant's consultation is a 404)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from delphos.db import repository as repo
from delphos.errors import NotFound
from delphos.scope import consultation_scope
from delphos.state import AppState


async def issue_token(request: Request) -> Response:
    state: AppState = request.app.state.delphos
    tenant = await state.auth.authenticate(request.headers.get("x-api-key"))
    issued = state.live.tokens.issue(tenant)
    return JSONResponse(
        {"token": issued.token, "expires_in": issued.expires_in},
        headers={"Cache-Control": "no-store"},
    )


async def transcript(request: Request) -> Response:
    state, tenant, cid = await consultation_scope(request)
    if await repo.get_consultation(state.db, tenant.id, cid) is None:
        raise NotFound("No such consultation")
    turns = await repo.list_turns(state.db, tenant.id, cid)
    items: list[dict[str, Any]] = [
        {
            "seq": t.seq,
            "original_text": t.original_text,
            "edited_text": t.edited_text,
            "text": t.edited_text or t.original_text,
            "flags": list(t.flags),
            "started_at": t.started_at.isoformat(),
            "ended_at": t.ended_at.isoformat() if t.ended_at else None,
        }
        for t in turns
    ]
    return JSONResponse({"consultation_id": cid, "turns": items})


async def audio_list(request: Request) -> Response:
    state, tenant, cid = await consultation_scope(request)
    if await repo.get_consultation(state.db, tenant.id, cid) is None:
        raise NotFound("No such consultation")
    rows = await repo.list_audio(state.db, tenant.id, cid)
    return JSONResponse(
        {
            "consultation_id": cid,
            "items": [
                {
                    "id": a.id,
                    "sample_rate": a.sample_rate,
                    "duration_ms": a.duration_ms,
                    "bytes": a.nbytes,
                    "created_at": a.created_at.isoformat(),
                }
                for a in rows
            ],
        }
    )


async def audio_file(request: Request) -> Response:
    state, tenant, cid = await consultation_scope(request)
    raw_id = request.path_params["audio_id"]
    if not (raw_id.isascii() and raw_id.isdigit()):
        raise NotFound("No such recording")
    audio_id = int(raw_id)
    for a in await repo.list_audio(state.db, tenant.id, cid):
        if a.id == audio_id and await asyncio.to_thread(Path(a.path).is_file):
            return FileResponse(a.path, media_type="audio/wav", filename=f"{cid}-{a.id}.wav")
    raise NotFound("No such recording")


routes = [
    Route("/v1/transcription/token", issue_token, methods=["POST"]),
    Route("/v1/consultations/{consultation_id}/transcript", transcript, methods=["GET"]),
    Route("/v1/consultations/{consultation_id}/audio", audio_list, methods=["GET"]),
    Route("/v1/consultations/{consultation_id}/audio/{audio_id}", audio_file, methods=["GET"]),
]
