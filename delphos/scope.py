"""The common preamble of API handlers: the services they read from the app's state, the
caller's tenant (from its key) and a consultation id that could be stored (1-255
characters, no NUL).

Handlers name the services they use as a Protocol (this one, or a feature's extension of
it) rather than importing `delphos.state`, which builds every feature: so no feature
package imports the module that imports it. delphos.app checks that `AppState` provides
each of them.
"""

from __future__ import annotations

from typing import Protocol

from starlette.requests import Request

from delphos.auth import Authenticator
from delphos.db import repository as repo
from delphos.db.database import Database
from delphos.db.repository import ConsultationInfo
from delphos.errors import (
    InternalError,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
)
from delphos.http import path_id
from delphos.records import TenantRef
from delphos.settings import Settings


class Services(Protocol):
    settings: Settings
    auth: Authenticator
    db: Database


# What every consultation-scoped read may answer besides its own success.
SCOPED_ERRORS = (Unauthorized, NotFound, ValidationFailed, InternalError, ServiceUnavailable)


async def consultation_scope(request: Request) -> tuple[Services, TenantRef, str]:
    state: Services = request.app.state.delphos
    tenant = await state.auth.authenticate(request.headers.get("x-api-key"))
    return state, tenant, path_id(request)


async def stored_consultation(request: Request) -> tuple[Services, ConsultationInfo]:
    """The scope of a read about one consultation that must exist: 404 when the caller's
    tenant has none by that id."""
    state, tenant, cid = await consultation_scope(request)
    info = await repo.get_consultation(state.db, tenant.id, cid)
    if info is None:
        raise NotFound("No such consultation")
    return state, info
