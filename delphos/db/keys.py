"""API keys: created once, stored as SHA-256 only, revocable.

A raw key (``dlp_`` + 43 URL-safe characters, 256 bits of randomness) is shown to the
operator once by ``create_key``. Since the key itself is high-entropy, an unsalted SHA-256
is enough to make the stored value useless to a database reader, and it allows a direct
indexed lookup per request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from delphos.db.database import Database
from delphos.db.models import ApiKey, Tenant, new_uuid, utcnow
from delphos.db.repository import ensure_tenant
from delphos.records import TenantRef

KEY_PREFIX = "dlp_"
# Characters of the raw key kept for listings: "dlp_" plus 8 of the random part.
DISPLAY_PREFIX_LEN = 12
# last_used_at is refreshed at most this often, so authentication is not a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class KeyInfo:
    id: str
    tenant_id: str
    tenant_name: str
    prefix: str
    label: str | None
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_key(raw: str) -> str:
    """SHA-256 hex of a raw key, as stored."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _info(key: ApiKey, tenant_name: str) -> KeyInfo:
    return KeyInfo(
        id=key.id,
        tenant_id=key.tenant_id,
        tenant_name=tenant_name,
        prefix=key.prefix,
        label=key.label,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
    )


async def create_key(
    db: Database, tenant_name: str, label: str | None = None
) -> tuple[str, KeyInfo]:
    """Make a key for ``tenant_name`` (created if new). The raw key is returned only here."""
    tenant = await ensure_tenant(db, tenant_name)
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        id=new_uuid(),
        tenant_id=tenant.id,
        key_hash=hash_key(raw),
        prefix=raw[:DISPLAY_PREFIX_LEN],
        label=label,
        created_at=utcnow(),
    )
    async with db.session() as session:
        session.add(key)
    return raw, _info(key, tenant.name)


async def list_keys(db: Database, tenant_name: str | None = None) -> list[KeyInfo]:
    """Every key (or one tenant's), oldest first. Never includes the key or its hash."""
    stmt = select(ApiKey, Tenant.name).join(Tenant, Tenant.id == ApiKey.tenant_id)
    if tenant_name is not None:
        stmt = stmt.where(Tenant.name == tenant_name)
    stmt = stmt.order_by(ApiKey.created_at, ApiKey.id)
    async with db.session() as session:
        rows = (await session.execute(stmt)).all()
    return [_info(key, name) for key, name in rows]


async def revoke_key(db: Database, key_id_or_prefix: str) -> bool:
    """Revoke the active key with this id, or the only active key with this prefix.

    Returns False when nothing was revoked: no such active key, or a prefix shared by
    several active keys (revoke those by id).
    """
    async with db.session() as session:
        candidates = (
            (
                await session.execute(
                    select(ApiKey).where(
                        ApiKey.revoked_at.is_(None),
                        or_(ApiKey.id == key_id_or_prefix, ApiKey.prefix == key_id_or_prefix),
                    )
                )
            )
            .scalars()
            .all()
        )
        by_id = [key for key in candidates if key.id == key_id_or_prefix]
        chosen = by_id if by_id else candidates
        if len(chosen) != 1:
            return False
        chosen[0].revoked_at = utcnow()
    return True


async def authenticate(db: Database, raw_key: str) -> TenantRef | None:
    """The tenant owning ``raw_key`` if it is a known, unrevoked key; otherwise None."""
    if not raw_key:
        return None
    digest = hash_key(raw_key)
    now = utcnow()
    async with db.session() as session:
        row = (
            await session.execute(
                select(ApiKey.id, ApiKey.key_hash, ApiKey.revoked_at, ApiKey.last_used_at)
                .add_columns(Tenant.id, Tenant.name)
                .join(Tenant, Tenant.id == ApiKey.tenant_id)
                .where(ApiKey.key_hash == digest)
            )
        ).one_or_none()
        if row is None:
            return None
        key_id, stored_hash, revoked_at, last_used_at, tenant_id, tenant_name = row
        # The index lookup already matched; the constant-time comparison keeps the
        # decision itself free of timing differences.
        if not hmac.compare_digest(stored_hash, digest) or revoked_at is not None:
            return None
        if last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION:
            stale = now - LAST_USED_RESOLUTION
            await session.execute(
                update(ApiKey)
                .where(
                    ApiKey.id == key_id,
                    or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= stale),
                )
                .values(last_used_at=now)
            )
    return TenantRef(id=tenant_id, name=tenant_name)
