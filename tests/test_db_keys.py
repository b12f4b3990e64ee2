"""API keys: shown once, stored hashed, revocable — on SQLite and Postgres."""

from __future__ import annotations

from sqlalchemy import text

from delphos.db import keys, repository
from delphos.db.database import Database


async def _all_cells(db: Database, table: str) -> list[str]:
    async with db.session() as session:
        rows = (await session.execute(text(f"SELECT * FROM {table}"))).all()
    return [str(cell) for row in rows for cell in row]


async def test_created_key_authenticates_its_tenant(db: Database) -> None:
    raw, info = await keys.create_key(db, "north-clinic", label="reception desk")
    assert raw.startswith("dlp_")
    assert raw.startswith(info.prefix)
    assert info.label == "reception desk"
    assert info.active

    tenant = await keys.authenticate(db, raw)
    assert tenant is not None
    assert tenant.name == "north-clinic"
    # The tenant was created by create_key and is the same one the repository uses.
    assert tenant == await repository.ensure_tenant(db, "north-clinic")


async def test_plaintext_key_is_never_stored(db: Database) -> None:
    raw, _ = await keys.create_key(db, "clinic")
    cells = await _all_cells(db, "api_keys")
    assert keys.hash_key(raw) in cells
    secret_part = raw[len("dlp_") :]
    assert not any(secret_part in cell for cell in cells)


async def test_unknown_or_malformed_keys_are_rejected(db: Database) -> None:
    raw, _ = await keys.create_key(db, "clinic")
    assert await keys.authenticate(db, raw + "x") is None
    assert await keys.authenticate(db, raw[:-1]) is None
    assert await keys.authenticate(db, "") is None
    assert await keys.authenticate(db, "dlp_" + "A" * 43) is None


async def test_list_keys_shows_metadata_only(db: Database) -> None:
    raw_a, a = await keys.create_key(db, "north")
    raw_b, b = await keys.create_key(db, "south", label="ward 3")
    listed = await keys.list_keys(db)
    assert [(k.id, k.tenant_name, k.label) for k in listed] == [
        (a.id, "north", None),
        (b.id, "south", "ward 3"),
    ]
    assert [k.id for k in await keys.list_keys(db, "south")] == [b.id]
    assert await keys.list_keys(db, "nobody") == []
    assert all(raw_a not in repr(k) and raw_b not in repr(k) for k in listed)


async def test_authentication_records_last_use(db: Database) -> None:
    raw, info = await keys.create_key(db, "clinic")
    assert info.last_used_at is None
    await keys.authenticate(db, raw)
    (listed,) = await keys.list_keys(db, "clinic")
    assert listed.last_used_at is not None
    assert listed.last_used_at >= listed.created_at


async def test_revoke_by_prefix_and_by_id(db: Database) -> None:
    raw_a, a = await keys.create_key(db, "clinic")
    raw_b, b = await keys.create_key(db, "clinic")

    assert await keys.revoke_key(db, a.prefix) is True
    assert await keys.authenticate(db, raw_a) is None
    assert await keys.authenticate(db, raw_b) is not None

    assert await keys.revoke_key(db, b.id) is True
    assert await keys.authenticate(db, raw_b) is None

    # Revoking again, or something unknown, changes nothing.
    assert await keys.revoke_key(db, b.id) is False
    assert await keys.revoke_key(db, "dlp_nothing") is False
    listed = {k.id: k for k in await keys.list_keys(db, "clinic")}
    assert not listed[a.id].active
    assert not listed[b.id].active
