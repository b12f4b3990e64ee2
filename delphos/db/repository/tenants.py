"""Tenants: ids derived from names, created on first use."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from delphos.db.database import Database
from delphos.db.models import Tenant, utcnow
from delphos.db.repository._sql import insert
from delphos.records import TenantRef


def tenant_id_for(name: str) -> str:
    """Tenant ids derive from the unique name, so the app knows a tenant's id (for cache
    keys and spooled notes) even before the database answers."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"delphos:tenant:{name}").hex


async def ensure_tenant(db: Database, name: str) -> TenantRef:
    """The tenant called ``name``, created if needed. Safe under concurrent calls."""
    if not name or len(name) > 255:
        raise ValueError("tenant name must be 1-255 characters")
    async with db.session() as session:
        await session.execute(
            insert(db, Tenant)
            .values(id=tenant_id_for(name), name=name, created_at=utcnow())
            # No target: a concurrent insert of the same tenant collides on the (derived)
            # id as well as on the name, and either means it exists.
            .on_conflict_do_nothing()
        )
        tenant_id = (
            await session.execute(select(Tenant.id).where(Tenant.name == name))
        ).scalar_one()
    return TenantRef(id=tenant_id, name=name)
