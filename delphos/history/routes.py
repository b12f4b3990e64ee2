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
from delphos.state import AppState

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


def consultation_json(info: repo.ConsultationInfo) -> dict[str, Any]:
    return {
        "consultation_id": info.consultation_id,
        "created_at": info.created_at.isoformat(),
        "updated_at": info.updated_at.isoformat(),
        "versions": info.version_count,
        "latest": note_json(info.latest) if info.latest else None,
    }


async def consultation(request: Request) -> Response:
    state, tenant, cid = await consultation_scope(request)
    info = await repo.get_consultation(state.db, tenant.id, cid)
    if info is None:
        raise NotFound("No such consultation")
    return JSONResponse(consultation_json(info))


async def consultations(request: Request) -> Response:
    """The caller's tenant's consultations, newest first, a page at a time."""
    state: AppState = request.app.state.delphos
    tenant = await state.auth.authenticate(request.headers.get("x-api-key"))
    limit = query_int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    cursor = query_int(request, "cursor", None, 1, 2**62)
    assert limit is not None
    page = await repo.list_consultations(state.db, tenant.id, limit=limit, before_id=cursor)
    return JSONResponse(
        {
            "items": [consultation_json(info) for info in page.items],
            "next_cursor": None if page.next_before_id is None else str(page.next_before_id),
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
    found = await repo.find_source(state.db, tenant.id, cid, soap_hash)
    if found is None:
        raise NotFound("No such note")
    note, source = found
    # The text the note was made from: what a client needs to continue the consultation,
    # and what the spans of the note's evidence point into.
    return JSONResponse({"consultation_id": cid, **note_json(note), "accumulated_text": source})


routes = [
    Route("/v1/consultations", consultations, methods=["GET"]),
    Route("/v1/consultations/{consultation_id}", consultation, methods=["GET"]),
    Route("/v1/consultations/{consultation_id}/soap-notes", soap_notes, methods=["GET"]),
    Route("/v1/consultations/{consultation_id}/soap-notes/{soap_hash}", soap_note, methods=["GET"]),
]
