"""The DELPHOS progressive-SOAP contract, end to end against a real uvicorn.

Local engine (the offline default), embedded SQLite and in-process cache. Streaming is read
off the socket exactly as the seed's clients do: split on blank lines, one data line each.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.seed_clients.seed_stream_soap import stream_soap
from tests.support.sse import JSON_URL, STREAM, canonical_hash, check_order, parse_sse

SEED_EN = (
    "Patient reports headache for 3 days, tension type, no nausea. Denies fever. "
    "BP 120/80. HR 72. Normal neurological exam."
)
SEED_PT = (
    "Paciente relata cefaleia há 3 dias, tipo tensional, sem náuseas. Nega febre. "
    "PA 120/80. FC 72. Exame neurológico normal."
)


async def post_stream(srv: Any, body: dict[str, Any]) -> tuple[httpx.Response, str]:
    async with httpx.AsyncClient(base_url=srv.url, timeout=30) as client:
        resp = await client.post(STREAM, json=body, headers=srv.headers)
        return resp, resp.text


async def test_stream_follows_the_contract(make_server: Callable[..., Any]) -> None:
    async with make_server() as srv:
        resp, raw = await post_stream(srv, {"consultation_id": "c-1", "accumulated_text": SEED_EN})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(raw)
    check_order(events)
    assert events[0] == ("status", {"type": "generating"})
    partials = [d for n, d in events if n == "partial"]
    assert partials, "the note is shown while it is written"
    for p in partials:
        assert set(p) == {"subjective", "objective", "assessment", "plan", "completeness"}
        assert set(p["completeness"]) == {"s", "o", "a", "p"}
    # completeness only ever grows
    for before, after in itertools.pairwise(partials):
        for k in "soap":
            assert after["completeness"][k] >= before["completeness"][k]
    name, soap = events[-1]
    assert name == "soap"
    assert soap["completeness"] == {"s": True, "o": True, "a": True, "p": True}
    assert soap["cached"] is False
    assert soap["is_degraded"] is False
    assert re.fullmatch(r"[0-9a-f]{64}", soap["soap_hash"])
    assert soap["soap_hash"] == canonical_hash(soap)
    assert "headache" in soap["subjective"]
    assert "BP 120/80" in soap["objective"]
    assert "HR 72" in soap["objective"]


async def test_portuguese_text_keeps_accents_and_vitals(make_server: Callable[..., Any]) -> None:
    async with make_server() as srv:
        _, raw = await post_stream(srv, {"consultation_id": "c-pt", "accumulated_text": SEED_PT})
    soap = parse_sse(raw)[-1][1]
    assert "cefaleia há 3 dias" in soap["subjective"]
    assert "PA 120/80" in soap["objective"]
    assert "FC 72" in soap["objective"]


async def test_stream_false_and_json_endpoint_answer_the_soap_object(
    make_server: Callable[..., Any],
) -> None:
    body = {"consultation_id": "c-json", "accumulated_text": SEED_EN, "stream": False}
    async with make_server() as srv, httpx.AsyncClient(base_url=srv.url, timeout=30) as client:
        a = await client.post(STREAM, json=body, headers=srv.headers)
        b = await client.post(
            JSON_URL, json={**body, "consultation_id": "c-json-2"}, headers=srv.headers
        )
    for resp in (a, b):
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("application/json")
        data = resp.json()
        assert data["completeness"] == {"s": True, "o": True, "a": True, "p": True}
        assert data["soap_hash"] == canonical_hash(data)
    # same text, same deterministic engine: same note
    assert a.json()["soap_hash"] == b.json()["soap_hash"]


async def test_blank_text_gives_an_empty_note_without_an_engine(
    make_server: Callable[..., Any],
) -> None:
    async with make_server() as srv:
        for i, text in enumerate(["", "   \n\t ", None]):
            _, raw = await post_stream(
                srv, {"consultation_id": f"blank-{i}", "accumulated_text": text}
            )
            events = parse_sse(raw)
            check_order(events)
            soap = events[-1][1]
            assert events[-1][0] == "soap"
            assert [soap[k] for k in ("subjective", "objective", "assessment", "plan")] == [""] * 4
        assert srv.app_state.notes.engine_calls == 0


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"x-api-key": "nope"}, 401), ({"x-api-key": ""}, 401)],
)
async def test_missing_or_unknown_key_is_401_json_before_any_stream(
    make_server: Callable[..., Any], headers: dict[str, str], status: int
) -> None:
    async with make_server() as srv, httpx.AsyncClient(base_url=srv.url) as client:
        for url in (STREAM, JSON_URL):
            resp = await client.post(url, json={"consultation_id": "x"}, headers=headers)
            assert resp.status_code == status
            assert resp.headers["content-type"].startswith("application/json")
            assert resp.json()["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "consultation_id"),
        ({"consultation_id": ""}, "consultation_id"),
        ({"consultation_id": "x" * 256}, "consultation_id"),
        ({"consultation_id": 12}, "consultation_id"),
        ({"consultation_id": "c", "accumulated_text": "a" * 100_001}, "accumulated_text"),
        ({"consultation_id": "c", "accumulated_text": 5}, "accumulated_text"),
        ({"consultation_id": "c", "previous_soap_hash": "ABC"}, "previous_soap_hash"),
        ({"consultation_id": "c", "previous_soap_hash": "A" * 64}, "previous_soap_hash"),
        ({"consultation_id": "c", "stream": "maybe"}, "stream"),
        ([1, 2], "body"),
    ],
)
async def test_invalid_body_is_422_with_the_field_at_fault(
    make_server: Callable[..., Any], body: Any, field: str
) -> None:
    async with make_server() as srv, httpx.AsyncClient(base_url=srv.url) as client:
        resp = await client.post(STREAM, json=body, headers=srv.headers)
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith("application/json")
    data = resp.json()
    assert data["code"] == "VALIDATION_ERROR"
    assert field in [f["field"] for f in data["fields"]]
    assert field in data["message"]


async def test_limits_and_non_json(make_server: Callable[..., Any]) -> None:
    async with make_server() as srv, httpx.AsyncClient(base_url=srv.url) as client:
        ok_max = {"consultation_id": "c", "accumulated_text": "a " * 50_000, "junk": {"x": 1}}
        resp = await client.post(JSON_URL, json=ok_max, headers=srv.headers)
        assert resp.status_code == 200, "100,000 chars and unknown fields are accepted"

        resp = await client.post(STREAM, content=b"{not json", headers=srv.headers)
        assert resp.status_code == 400
        assert resp.json()["code"] == "BAD_REQUEST"

        # Declared far too large: refused from the header alone.
        big = b'{"consultation_id": "c", "accumulated_text": "' + b"a" * 5_000_000 + b'"}'
        resp = await client.post(STREAM, content=big, headers=srv.headers)
        assert resp.status_code == 413
        assert resp.json()["code"] == "PAYLOAD_TOO_LARGE"

        # Chunked, no Content-Length: refused while reading, not after reading it all.
        async def chunks() -> Any:
            yield b'{"consultation_id": "c", "accumulated_text": "'
            for _ in range(10_000):
                yield b"a" * 1000
            yield b'"}'

        resp = await client.post(STREAM, content=chunks(), headers=srv.headers)
        assert resp.status_code == 413


async def test_seed_python_client_streams_unchanged(make_server: Callable[..., Any]) -> None:
    async with make_server() as srv:
        seen = [e async for e in stream_soap(srv.url, srv.key, "seed-py", SEED_PT)]
        again = [
            e
            async for e in stream_soap(
                srv.url, srv.key, "seed-py", SEED_PT, previous_soap_hash=seen[-1][1]["soap_hash"]
            )
        ]
    check_order(seen)
    assert seen[-1][0] == "soap"
    assert "PA 120/80" in seen[-1][1]["objective"]
    assert [n for n, _ in again] == ["status", "soap"]
    assert again[0][1] == {"type": "cache_hit"}
    assert again[1][1]["cached"] is True
    assert again[1][1]["soap_hash"] == seen[-1][1]["soap_hash"]


async def test_seed_javascript_clients_stream_unchanged_under_node(
    make_server: Callable[..., Any],
) -> None:
    import os
    import shutil
    from pathlib import Path

    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required for the seed JavaScript client test")
    script = Path(__file__).parent / "seed_clients" / "seed_client.mjs"
    async with make_server() as srv:
        proc = await asyncio.create_subprocess_exec(
            node,
            str(script),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={
                **os.environ,
                "DELPHOS_URL": srv.url,
                "DELPHOS_KEY": srv.key,
                "DELPHOS_CID": "seed-js",
                "DELPHOS_TEXT": SEED_PT,
            },
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    rows = [json.loads(line) for line in out.decode().splitlines()]
    by_client: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for client, name, data in rows:
        by_client.setdefault(client, []).append((name, data))
    first = by_client["streamSOAP"]
    check_order(first)
    assert first[-1][0] == "soap"
    assert "cefaleia" in first[-1][1]["subjective"]
    assert [n for n, _ in by_client["streamSOAP-again"]] == ["status", "soap"]
    assert by_client["streamSOAP-again"][0][1]["type"] == "cache_hit"
    quick = by_client["quickStart"]
    check_order(quick)
    assert "BP 120/80" in quick[-1][1]["objective"]


async def test_health_reports_real_checks(make_server: Callable[..., Any]) -> None:
    async with make_server() as srv, httpx.AsyncClient(base_url=srv.url) as client:
        data = (await client.get("/health")).json()
    assert data["status"] == "ok"
    assert data["engine"] == "local"
    assert data["model"]
    assert data["database"] == {"ok": True, "backend": "sqlite", "backlog": 0}
    assert data["cache"]["kind"] == "memory"
    assert data["cache"]["ok"] is True


async def test_unreachable_database_degrades_health_but_notes_still_flow(
    make_server: Callable[..., Any],
) -> None:
    # Nothing listens on port 9: every connection attempt is refused at once.
    async with (
        make_server(database_url="postgresql://postgres@127.0.0.1:9/none", migrate=False) as srv,
        httpx.AsyncClient(base_url=srv.url, timeout=30) as client,
    ):
        resp = await client.post(
            STREAM,
            json={"consultation_id": "db-down", "accumulated_text": SEED_EN},
            headers=srv.headers,
        )
        events = parse_sse(resp.text)
        data = (await client.get("/health")).json()
    assert events[-1][0] == "soap", "the clinician gets the note even with the database down"
    assert data["status"] == "degraded"
    assert data["database"]["ok"] is False
    assert data["database"]["backend"] == "postgresql"
    assert data["database"]["backlog"] == 1


async def test_unknown_route_and_method_are_json(make_server: Callable[..., Any]) -> None:
    async with make_server() as srv, httpx.AsyncClient(base_url=srv.url) as client:
        a = await client.get("/nope")
        b = await client.get(STREAM)
    assert (a.status_code, a.json()["code"]) == (404, "NOT_FOUND")
    assert (b.status_code, b.json()["code"]) == (405, "METHOD_NOT_ALLOWED")
