"""The common preamble of consultation-scoped endpoints: the caller's tenant (from its
key) and a consultation id that could be stored (1-255 characters, no NUL)."""

from __future__ import annotations

from starlette.requests import Request

from delphos.http import path_id
from delphos.records import TenantRef
from delphos.state import AppState


async def consultation_scope(request: Request) -> tuple[AppState, TenantRef, str]:
    state: AppState = request.app.state.delphos
    tenant = await state.auth.authenticate(request.headers.get("x-api-key"))
    return state, tenant, path_id(request)
