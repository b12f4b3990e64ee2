"""Files that hold patient text are private to the service's user."""

from __future__ import annotations

import stat
from collections.abc import Callable
from typing import Any

import httpx


def mode(path: Any) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_embedded_database_and_its_directory_are_private(
    make_server: Callable[..., Any],
) -> None:
    async with make_server() as srv, httpx.AsyncClient(base_url=srv.url, timeout=30) as client:
        resp = await client.post(
            "/v1/consultation/progressive-soap",
            json={"consultation_id": "files-1", "accumulated_text": "Cough for 3 days."},
            headers=srv.headers,
        )
        assert resp.status_code == 200
        data_dir = srv.settings.data_dir
        database = data_dir / "delphos.db"
        # The WAL files exist while the server holds the database open.
        files = [database, data_dir / "delphos.db-wal", data_dir / "delphos.db-shm"]
        modes = {p.name: oct(mode(p)) for p in files if p.exists()}
        dir_mode = oct(mode(data_dir))
    assert set(modes) == {"delphos.db", "delphos.db-wal", "delphos.db-shm"}
    assert set(modes.values()) == {"0o600"}, modes
    assert dir_mode == "0o700"
