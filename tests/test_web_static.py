"""The workspace page's files as served: from Delphos itself (no CDN, works offline),
with headers that keep other origins and inline code out, and only the page's files."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx

from delphos.workspace import WEB_DIR

MakeServer = Callable[..., Any]
ASSETS = sorted(
    p.relative_to(WEB_DIR).as_posix() for p in WEB_DIR.rglob("*") if p.suffix in (".js", ".css")
)


async def test_the_page_and_every_asset_are_served_from_delphos_with_a_strict_policy(
    make_server: MakeServer,
) -> None:
    async with make_server() as srv, httpx.AsyncClient(base_url=srv.url, timeout=30) as client:
        page = await client.get("/")
        assets = {name: await client.get(f"/web/{name}") for name in ASSETS}

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "js/main.js" in ASSETS
    for name, resp in assets.items():
        assert resp.status_code == 200, name
        assert resp.headers["x-content-type-options"] == "nosniff"
        expected = "javascript" if name.endswith(".js") else "css"
        assert expected in resp.headers["content-type"], name
    # Offline: nothing is fetched from anywhere but the page's own origin.
    for body in [page.text, *(r.text for r in assets.values())]:
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", body)
        assert not re.search(r"""(import|from)\s*\(?\s*["'](https?:)?//""", body)


async def test_only_the_pages_files_are_served_and_no_key_is_in_them(
    make_server: MakeServer,
) -> None:
    async with make_server() as srv, httpx.AsyncClient(base_url=srv.url, timeout=30) as client:
        missing = await client.get("/web/nothing.js")
        escape = await client.get("/web/../workspace.py")
        page = await client.get("/")

    assert missing.status_code == 404
    assert escape.status_code == 404
    assert srv.key not in page.text
