"""History API: a tenant's stored notes. Another tenant's consultation is a 404, not a 403,
so ids of other clinics cannot even be confirmed to exist."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from delphos.db import repository as repo
from delphos.errors import (
    InternalError,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
)
from delphos.history.schemas import (
    Consultation,
    ConsultationPage,
    NotePage,
    StoredNote,
    StoredNoteWithId,
)
from delphos.http import query_int
from delphos.routing import CONSULTATION_ID, ApiRoute, Operation, Param, model_response
from delphos.scope import SCOPED_ERRORS, Services, consultation_scope, stored_consultation

SOAP_HASH = r"[0-9a-f]{64}"
_SOAP_HASH = re.compile(SOAP_HASH)
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CURSOR = 2**62

PAGE_PARAMS = (
    Param(
        "limit",
        "query",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    ),
    Param(
        "cursor",
        "query",
        {"type": "integer", "minimum": 1, "maximum": MAX_CURSOR},
        "next_cursor of the previous page",
    ),
)


def _page(request: Request) -> tuple[int, int | None]:
    limit = query_int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    assert limit is not None
    return limit, query_int(request, "cursor", None, 1, MAX_CURSOR)


async def consultation(request: Request) -> Response:
    _, info = await stored_consultation(request)
    return model_response(Consultation.of(info))


async def consultations(request: Request) -> Response:
    """The caller's tenant's consultations, newest first, a page at a time."""
    state: Services = request.app.state.delphos
    tenant = await state.auth.authenticate(request.headers.get("x-api-key"))
    limit, cursor = _page(request)
    page = await repo.list_consultations(state.db, tenant.id, limit=limit, before_id=cursor)
    return model_response(
        ConsultationPage(
            items=[Consultation.of(info) for info in page.items],
            next_cursor=None if page.next_before_id is None else str(page.next_before_id),
        )
    )


async def soap_notes(request: Request) -> Response:
    state, tenant, cid = await consultation_scope(request)
    limit, cursor = _page(request)
    if await repo.get_consultation(state.db, tenant.id, cid) is None:
        raise NotFound("No such consultation")
    # One extra row tells whether there is a next page without a count query.
    rows = await repo.list_notes(state.db, tenant.id, cid, limit=limit + 1, before_id=cursor)
    page = rows[:limit]
    next_cursor = str(page[-1].id) if len(rows) > limit else None
    return model_response(
        NotePage(
            consultation_id=cid,
            items=[StoredNote.of(n) for n in page],
            next_cursor=next_cursor,
        )
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
    return model_response(StoredNoteWithId.of_source(note, source))


routes = [
    ApiRoute(
        "/v1/consultations",
        consultations,
        "GET",
        Operation(
            "listConsultations",
            "The tenant's consultations, newest first",
            ok=ConsultationPage,
            params=PAGE_PARAMS,
            errors=(Unauthorized, ValidationFailed, InternalError, ServiceUnavailable),
        ),
    ),
    ApiRoute(
        "/v1/consultations/{consultation_id}",
        consultation,
        "GET",
        Operation(
            "getConsultation",
            "A consultation and its latest note",
            ok=Consultation,
            params=(CONSULTATION_ID,),
            errors=SCOPED_ERRORS,
        ),
    ),
    ApiRoute(
        "/v1/consultations/{consultation_id}/soap-notes",
        soap_notes,
        "GET",
        Operation(
            "listSoapNotes",
            "Note versions, newest first",
            ok=NotePage,
            params=(CONSULTATION_ID, *PAGE_PARAMS),
            errors=SCOPED_ERRORS,
        ),
    ),
    ApiRoute(
        "/v1/consultations/{consultation_id}/soap-notes/{soap_hash}",
        soap_note,
        "GET",
        Operation(
            "getSoapNote",
            "One note version by its soap_hash, with the text it was made from",
            ok=StoredNoteWithId,
            params=(
                CONSULTATION_ID,
                Param("soap_hash", "path", {"type": "string", "pattern": f"^{SOAP_HASH}$"}),
            ),
            errors=SCOPED_ERRORS,
        ),
    ),
]
