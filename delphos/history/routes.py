"""History API: a tenant's stored notes. Another tenant's consultation is a 404, not a 403,
so ids of other clinics cannot even be confirmed to exist."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from delphos.db import repository as repo
from delphos.errors import NotFound, ValidationFailed
from delphos.http import query_int
from delphos.scope import consultation_scope

_SOAP_HASH = re.compile(r"[0-9a-f]{64}")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def note_json(note: repo.StoredNote) -> dict[str, Any]:
    return {
        **note.note.as_json(),
        "soap_hash": note.soap_hash,
        "text_hash": note.text_hash,
        "word_count": note.word_count,
        "engine": note.engine,
        "model": note.model,
        "is_degraded": note.is_degraded,
        "latency_ms": note.latency_ms,
        "usage": note.usage.as_json() if note.usage else None,
        "created_at": note.created_at.isoformat(),
        "evidence": note.evidence,
    }


async def consultation(request: Request) -> Response:
    state, tenant, cid = await consultation_scope(request)
    info = await repo.get_consultation(state.db, tenant.id, cid)
    if info is None:
        raise NotFound("No such consultation")
    return JSONResponse(
        {
            "consultation_id": cid,
            "created_at": info.created_at.isoformat(),
            "updated_at": info.updated_at.isoformat(),
            "versions": info.version_count,
            "latest": note_json(info.latest) if info.latest else None,
        }
    )


async def soap_notes(request: Request) -> Response:
    state, tenant, cid = await consultation_scope(request)
    limit = query_int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    cursor = query_int(request, "cursor", None, 1, 2**62)
    assert limit is not None
    if await repo.get_consultation(state.db, tenant.id, cid) is None:
        raise NotFound("No such consultation")
    # One extra row tells whether there is a next page without a count query.
    rows = await repo.list_notes(state.db, tenant.id, cid, limit=limit + 1, before_id=cursor)
    page = rows[:limit]
    next_cursor = str(page[-1].id) if len(rows) > limit else None
    return JSONResponse(
        {
            "consultation_id": cid,
            "items": [note_json(n) for n in page],
            "next_cursor": next_cursor,
        }
    )


async def soap_note(request: Request) -> Response:
    state, tenant, cid = await consultation_scope(request)
    soap_hash = request.path_params["soap_hash"]
    if not _SOAP_HASH.fullmatch(soap_hash):
        # As documented: a SHA-256 in lowercase hex. Anything else names no note, and must
        # not reach the database (PostgreSQL fails on a NUL: a 500).
        raise ValidationFailed(
            "soap_hash must be 64 lowercase hex characters",
            fields=[{"field": "soap_hash", "message": "64 lowercase hex", "type": "pattern"}],
        )
    note = await repo.get_note(state.db, tenant.id, cid, soap_hash)
    if note is None:
        raise NotFound("No such note")
    return JSONResponse({"consultation_id": cid, **note_json(note)})


routes = [
    Route("/v1/consultations/{consultation_id}", consultation, methods=["GET"]),
    Route("/v1/consultations/{consultation_id}/soap-notes", soap_notes, methods=["GET"]),
    Route("/v1/consultations/{consultation_id}/soap-notes/{soap_hash}", soap_note, methods=["GET"]),
]
