"""Edges of the streaming contract that a client would trip over, through a real server
with the fake Anthropic API: line terminators inside notes, degraded notes and the cache,
and a coalesced client joining a run another client leaves."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from delphos.soap.schemas import SoapRequest
from tests.support.fakes.llm_server import FakeLLMServer, Scenario
from tests.support.fixtures.server import API_KEY
from tests.support.notes_api import headers
from tests.support.ports import free_port
from tests.support.serve_process import server_process, wait_up
from tests.support.sse import STREAM, check_order, parse_sse

TEXT = "Patient reports cough for five days. Denies fever. SpO2 97%. Lungs clear."
NOTE = {
    "subjective": "Cough for five days.\u2028Denies fever.",
    "objective": "SpO2 97%.\u2029Lungs clear.",
    "assessment": "Likely viral bronchitis.",
    "plan": "Fluids and rest.",
}


@pytest.fixture
def anthropic_env(monkeypatch: pytest.MonkeyPatch, fake_anthropic: FakeLLMServer) -> FakeLLMServer:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    return fake_anthropic


async def test_js_line_terminators_in_a_note_stay_inside_one_data_line(
    make_server: Callable[..., Any], anthropic_env: FakeLLMServer
) -> None:
    anthropic_env.default = Scenario(text=json.dumps(NOTE), chunk=16)
    body = {"consultation_id": "u2028", "accumulated_text": TEXT}
    async with make_server(engine="anthropic", anthropic_base_url=anthropic_env.base_url) as srv:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as client:
            generated = (await client.post(STREAM, json=body, headers=srv.headers)).text
            cached = (await client.post(STREAM, json=body, headers=srv.headers)).text
    for raw in (generated, cached):
        # JavaScript's `.` and multiline `$` stop at U+2028/U+2029: none may be raw.
        assert "\u2028" not in raw
        assert "\u2029" not in raw
        events = parse_sse(raw)
        check_order(events)
        assert events[-1][1]["subjective"] == NOTE["subjective"]
        assert events[-1][1]["objective"] == NOTE["objective"]
    assert parse_sse(cached)[0][1] == {"type": "cache_hit"}


async def test_a_degraded_note_is_kept_but_not_served_from_cache(
    make_server: Callable[..., Any], anthropic_env: FakeLLMServer
) -> None:
    anthropic_env.push(Scenario(text=json.dumps(NOTE), error_after=40))
    anthropic_env.default = Scenario(text=json.dumps(NOTE))
    body = {"consultation_id": "degraded", "accumulated_text": TEXT}
    async with make_server(
        engine="anthropic",
        anthropic_base_url=anthropic_env.base_url,
        fallback_to_local=True,
        retry_base_delay=0.01,
    ) as srv:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as client:
            first = parse_sse((await client.post(STREAM, json=body, headers=srv.headers)).text)
            second = parse_sse((await client.post(STREAM, json=body, headers=srv.headers)).text)
    assert first[-1][0] == "soap"
    assert first[-1][1]["is_degraded"] is True
    # The same text again goes back to the engine instead of the degraded note.
    assert second[0][1] == {"type": "generating"}
    assert second[-1][1]["is_degraded"] is False
    assert second[-1][1]["assessment"] == NOTE["assessment"]
    assert len(anthropic_env.requests) == 2


async def test_a_client_joining_a_run_the_other_client_leaves_gets_its_note(
    make_server: Callable[..., Any], anthropic_env: FakeLLMServer
) -> None:
    anthropic_env.default = Scenario(text=json.dumps(NOTE), chunk=8, delay=0.02)
    req = SoapRequest(consultation_id="join", accumulated_text=TEXT)
    async with make_server(engine="anthropic", anthropic_base_url=anthropic_env.base_url) as srv:
        notes = srv.app_state.notes
        tenant = srv.app_state.bootstrap_tenant
        first = await notes.answer(tenant, req)
        second = await notes.answer(tenant, req)  # joined, not yet reading
        stream = first.events()
        assert (await anext(stream)).name == "status"
        await stream.aclose()  # the first client leaves before the second reads
        events = [e async for e in second.events()]
    assert events[-1].name == "soap", events[-1]
    assert events[-1].plan == NOTE["plan"]
    assert len(anthropic_env.requests) == 1


async def test_a_server_told_to_stop_ends_open_streams_with_a_retryable_error(
    tmp_path: Path, anthropic_env: FakeLLMServer
) -> None:
    # SIGTERM, as a service manager or a container runtime stops the server, while a note
    # is streaming: the stream ends the contract's way, an error saying to retry (not a
    # cut connection, nor one held open until the note is done), and the server exits.
    anthropic_env.default = Scenario(text=json.dumps(NOTE), chunk=8, stall_after=40)
    port = free_port()
    data_dir = tmp_path / "data"
    raw = ""
    with server_process(
        data_dir,
        f"sqlite+aiosqlite:///{data_dir / 'delphos.db'}",
        port,
        "--migrate",
        DELPHOS_ENGINE="anthropic",
        DELPHOS_ANTHROPIC_BASE_URL=anthropic_env.base_url,
    ) as proc:
        url = f"http://127.0.0.1:{port}"
        await wait_up(url)
        body = {"consultation_id": "sigterm", "accumulated_text": TEXT}
        async with (
            httpx.AsyncClient(base_url=url, timeout=30) as client,
            client.stream("POST", STREAM, json=body, headers=headers(API_KEY)) as resp,
        ):
            stopping = False
            async for chunk in resp.aiter_text():
                raw += chunk
                if "event: partial" in raw and not stopping:
                    proc.send_signal(signal.SIGTERM)
                    stopping = True
        exited = await asyncio.to_thread(proc.wait, 30)
    events = parse_sse(raw)
    check_order(events)
    assert events[-1][0] == "error"
    assert events[-1][1]["code"] == "PROCESSING_ERROR"
    assert "restarting" in events[-1][1]["message"]
    assert events[-1][1]["degraded"] is True
    # Exited by itself, after its graceful shutdown (uvicorn then re-raises the signal it
    # handled, so the status says SIGTERM).
    assert exited in (0, -signal.SIGTERM)


async def test_a_server_shutdown_ends_open_streams_with_an_error(
    make_server: Callable[..., Any], anthropic_env: FakeLLMServer
) -> None:
    # The provider stalls mid-note; the server is stopped while the client listens.
    anthropic_env.default = Scenario(text=json.dumps(NOTE), chunk=8, stall_after=40)
    body = {"consultation_id": "shutdown", "accumulated_text": TEXT}
    raw = ""
    server = make_server(engine="anthropic", anthropic_base_url=anthropic_env.base_url)
    srv = await server.__aenter__()
    stopping: Any = None
    try:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as client:
            async with client.stream("POST", STREAM, json=body, headers=srv.headers) as resp:
                async for chunk in resp.aiter_text():
                    raw += chunk
                    if "event: partial" in raw and stopping is None:
                        stopping = asyncio.ensure_future(server.__aexit__(None, None, None))
    finally:
        if stopping is None:
            await server.__aexit__(None, None, None)
        else:
            await stopping
    events = parse_sse(raw)
    check_order(events)
    assert events[-1][0] == "error"
    assert events[-1][1]["code"] == "PROCESSING_ERROR"
    assert events[-1][1]["degraded"] is True
