"""The history API through a real server, on both backend pairs: a tenant's stored notes,
newest first, cursor-paginated; other tenants' consultations do not exist (404)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from delphos.db import keys
from tests.support.fixtures.server import Backend
from tests.support.notes_api import grow_consultation, headers

MakeServer = Callable[..., Any]
SECTIONS = ("subjective", "objective", "assessment", "plan")
VERSION_FIELDS = {
    *SECTIONS,
    "soap_hash",
    "text_hash",
    "word_count",
    "engine",
    "model",
    "is_degraded",
    "latency_ms",
    "created_at",
    "usage",
    "evidence",
}


async def test_consultation_shows_the_latest_note_and_its_metadata(
    make_server: MakeServer, backend: Backend
) -> None:
    async with make_server(**backend.overrides) as srv, httpx.AsyncClient(timeout=30) as client:
        answers = await grow_consultation(client, srv, "h-visit", 3)
        resp = await client.get(f"{srv.url}/v1/consultations/h-visit", headers=srv.headers)

    assert resp.status_code == 200
    data = resp.json()
    assert data["consultation_id"] == "h-visit"
    assert data["versions"] == 3
    assert data["created_at"] <= data["updated_at"]
    latest = data["latest"]
    assert set(latest) == VERSION_FIELDS
    assert latest["usage"] is None, "the local engine calls no LLM"
    assert latest["soap_hash"] == answers[-1]["soap_hash"]
    assert {k: latest[k] for k in SECTIONS} == {k: answers[-1][k] for k in SECTIONS}
    assert latest["text_hash"] == answers[-1]["text_hash"]
    assert latest["created_at"] <= data["updated_at"]


async def test_versions_come_newest_first_in_pages_that_link_to_the_next(
    make_server: MakeServer, backend: Backend
) -> None:
    async with make_server(**backend.overrides) as srv, httpx.AsyncClient(timeout=30) as client:
        answers = await grow_consultation(client, srv, "h-pages", 5)
        pages: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 2}
            if cursor is not None:
                params["cursor"] = cursor
            resp = await client.get(
                f"{srv.url}/v1/consultations/h-pages/soap-notes", params=params, headers=srv.headers
            )
            assert resp.status_code == 200
            pages.append(resp.json())
            cursor = pages[-1]["next_cursor"]
            if cursor is None:
                break
            assert len(pages) < 10, "pagination must end"
        everything = (
            await client.get(f"{srv.url}/v1/consultations/h-pages/soap-notes", headers=srv.headers)
        ).json()

    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    assert all(page["consultation_id"] == "h-pages" for page in pages)
    listed = [item["soap_hash"] for page in pages for item in page["items"]]
    assert listed == [answer["soap_hash"] for answer in reversed(answers)]
    created = [item["created_at"] for page in pages for item in page["items"]]
    assert created == sorted(created, reverse=True)
    assert all(set(item) == VERSION_FIELDS for page in pages for item in page["items"])
    assert everything["next_cursor"] is None, "the default page holds all five"
    assert [item["soap_hash"] for item in everything["items"]] == listed


async def test_one_version_by_its_soap_hash(make_server: MakeServer, backend: Backend) -> None:
    async with make_server(**backend.overrides) as srv, httpx.AsyncClient(timeout=30) as client:
        answers = await grow_consultation(client, srv, "h-one", 2)
        first = await client.get(
            f"{srv.url}/v1/consultations/h-one/soap-notes/{answers[0]['soap_hash']}",
            headers=srv.headers,
        )
        unknown = await client.get(
            f"{srv.url}/v1/consultations/h-one/soap-notes/{'0' * 64}", headers=srv.headers
        )
        malformed = [
            await client.get(
                f"{srv.url}/v1/consultations/h-one/soap-notes/{bad}", headers=srv.headers
            )
            for bad in (answers[0]["soap_hash"].upper(), "abc", "0" * 63 + "%00")
        ]
        nul_id = await client.get(f"{srv.url}/v1/consultations/h%00one", headers=srv.headers)

    assert first.status_code == 200
    data = first.json()
    assert data["consultation_id"] == "h-one"
    assert data["soap_hash"] == answers[0]["soap_hash"]
    assert {k: data[k] for k in SECTIONS} == {k: answers[0][k] for k in SECTIONS}
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "NOT_FOUND"
    for resp in malformed:
        assert resp.status_code == 422
        assert [f["field"] for f in resp.json()["fields"]] == ["soap_hash"]
    assert nul_id.status_code == 422, "never a query the database fails on"
    assert [f["field"] for f in nul_id.json()["fields"]] == ["consultation_id"]


async def test_another_tenants_consultation_is_404_not_403(
    make_server: MakeServer, backend: Backend
) -> None:
    async with make_server(**backend.overrides) as srv, httpx.AsyncClient(timeout=30) as client:
        answers = await grow_consultation(client, srv, "h-private", 1)
        other_key, _ = await keys.create_key(srv.app_state.db, "clinic-other")
        paths = [
            "/v1/consultations/h-private",
            "/v1/consultations/h-private/soap-notes",
            f"/v1/consultations/h-private/soap-notes/{answers[0]['soap_hash']}",
            "/v1/consultations/never-seen",
        ]
        theirs = [await client.get(f"{srv.url}{p}", headers=headers(other_key)) for p in paths]
        missing = await client.get(
            f"{srv.url}/v1/consultations/never-seen/soap-notes", headers=srv.headers
        )
        anonymous = await client.get(f"{srv.url}/v1/consultations/h-private")

    for resp in [*theirs, missing]:
        assert resp.status_code == 404
        assert resp.json()["code"] == "NOT_FOUND"
        assert "h-private" not in resp.text
    # Same answer whether the id exists for someone else or for nobody.
    assert theirs[0].json() == theirs[3].json()
    assert anonymous.status_code == 401


BAD_QUERIES = [
    ("limit=0", "limit"),
    ("limit=101", "limit"),
    ("limit=ten", "limit"),
    ("limit=-1", "limit"),
    ("cursor=abc", "cursor"),
    ("cursor=0", "cursor"),
    ("cursor=1.5", "cursor"),
    ("limit=", "limit"),
    ("limit=%2B5", "limit"),
    ("cursor=%205", "cursor"),
]


async def test_bad_limit_or_cursor_is_422_naming_the_field(
    make_server: MakeServer, backend: Backend
) -> None:
    async with make_server(**backend.overrides) as srv, httpx.AsyncClient(timeout=30) as client:
        await grow_consultation(client, srv, "h-bad", 1)
        answers = {
            query: await client.get(
                f"{srv.url}/v1/consultations/h-bad/soap-notes?{query}", headers=srv.headers
            )
            for query, _ in BAD_QUERIES
        }

    for query, field in BAD_QUERIES:
        resp = answers[query]
        assert resp.status_code == 422, query
        data = resp.json()
        assert data["code"] == "VALIDATION_ERROR"
        assert [f["field"] for f in data["fields"]] == [field], query


async def test_history_routes_are_in_the_openapi_document(
    make_server: MakeServer, backend: Backend
) -> None:
    async with make_server(**backend.overrides) as srv, httpx.AsyncClient(timeout=30) as client:
        spec = (await client.get(f"{srv.url}/openapi.json", headers=srv.headers)).json()

    for path in (
        "/v1/consultations/{consultation_id}",
        "/v1/consultations/{consultation_id}/soap-notes",
        "/v1/consultations/{consultation_id}/soap-notes/{soap_hash}",
    ):
        assert "get" in spec["paths"][path], path
        assert "404" in spec["paths"][path]["get"]["responses"], path
