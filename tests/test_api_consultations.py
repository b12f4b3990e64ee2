"""GET /v1/consultations through a real server, on both backend pairs: the caller's
tenant's consultations, newest first, cursor-paginated, each with its version count and
latest note; another tenant's never appear. And a stored version gives back the text it
was made from (what the workspace page needs to continue a consultation)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from delphos.db import keys
from tests.support.fixtures.server import Backend, LiveServer
from tests.support.notes_api import (
    body,
    dialogue,
    eventually,
    grow_consultation,
    soap_of,
    stream,
    words_prefix,
)

MakeServer = Callable[..., Any]


async def _list(
    client: httpx.AsyncClient, srv: LiveServer, key: str | None = None, **params: Any
) -> httpx.Response:
    return await client.get(
        f"{srv.url}/v1/consultations", params=params, headers={"x-api-key": key or srv.key}
    )


async def _stored(client: httpx.AsyncClient, srv: LiveServer, cid: str, versions: int) -> None:
    async def done() -> bool:
        resp = await client.get(f"{srv.url}/v1/consultations/{cid}", headers=srv.headers)
        return resp.status_code == 200 and resp.json()["versions"] == versions

    await eventually(done, f"{cid} has {versions} stored versions")


async def test_consultations_come_newest_first_with_their_latest_note(
    make_server: MakeServer, backend: Backend
) -> None:
    async with make_server(**backend.overrides) as srv, httpx.AsyncClient(timeout=30) as client:
        first = await grow_consultation(client, srv, "list-older", 2)
        await _stored(client, srv, "list-older", 2)
        second = await grow_consultation(client, srv, "list-newer", 1)
        await _stored(client, srv, "list-newer", 1)
        resp = await _list(client, srv)

    assert resp.status_code == 200
    data = resp.json()
    assert [c["consultation_id"] for c in data["items"]] == ["list-newer", "list-older"]
    assert [c["versions"] for c in data["items"]] == [1, 2]
    assert data["items"][0]["latest"]["soap_hash"] == second[-1]["soap_hash"]
    assert data["items"][1]["latest"]["soap_hash"] == first[-1]["soap_hash"]
    assert data["next_cursor"] is None


async def test_consultation_pages_link_to_the_next_and_cover_every_one_once(
    make_server: MakeServer, backend: Backend
) -> None:
    names = [f"page-{i}" for i in range(5)]
    async with make_server(**backend.overrides) as srv, httpx.AsyncClient(timeout=30) as client:
        for name in names:
            await stream(client, srv, body(name, words_prefix(dialogue(3), 40)))
            await _stored(client, srv, name, 1)
        seen: list[str] = []
        cursor: str | None = None
        pages = 0
        while True:
            params: dict[str, Any] = {"limit": 2}
            if cursor is not None:
                params["cursor"] = cursor
            resp = await _list(client, srv, **params)
            assert resp.status_code == 200
            pages += 1
            seen += [c["consultation_id"] for c in resp.json()["items"]]
            cursor = resp.json()["next_cursor"]
            if cursor is None:
                break

    assert seen == names[::-1]
    assert pages == 3


async def test_another_tenants_consultations_never_appear_in_the_list(
    make_server: MakeServer, backend: Backend
) -> None:
    async with make_server(**backend.overrides) as srv, httpx.AsyncClient(timeout=30) as client:
        await grow_consultation(client, srv, "mine-only", 1)
        await _stored(client, srv, "mine-only", 1)
        other_key, _ = await keys.create_key(srv.app_state.db, "clinic-elsewhere")
        theirs = await _list(client, srv, other_key)
        anonymous = await client.get(f"{srv.url}/v1/consultations")
        wrong = await _list(client, srv, "not-a-key")

    assert theirs.status_code == 200
    assert theirs.json() == {"items": [], "next_cursor": None}
    assert anonymous.status_code == 401
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "UNAUTHORIZED"


async def test_bad_consultation_list_queries_are_422_naming_the_field(
    make_server: MakeServer, backend: Backend
) -> None:
    async with make_server(**backend.overrides) as srv, httpx.AsyncClient(timeout=30) as client:
        answers = {q: await _list(client, srv, **{q[0]: q[1]}) for q in BAD}

    for (name, _), resp in answers.items():
        assert resp.status_code == 422
        assert [f["field"] for f in resp.json()["fields"]] == [name]


BAD = [("limit", "0"), ("limit", "101"), ("limit", "x"), ("cursor", "0"), ("cursor", "-3")]


async def test_a_stored_version_gives_back_the_text_it_was_made_from(
    make_server: MakeServer, backend: Backend
) -> None:
    text = words_prefix(dialogue(4), 80)
    async with make_server(**backend.overrides) as srv, httpx.AsyncClient(timeout=30) as client:
        note = soap_of(await stream(client, srv, body("with-source", text)))
        await _stored(client, srv, "with-source", 1)
        resp = await client.get(
            f"{srv.url}/v1/consultations/with-source/soap-notes/{note['soap_hash']}",
            headers=srv.headers,
        )

    assert resp.status_code == 200
    assert resp.json()["accumulated_text"] == text
