"""Per-turn processing with an LLM engine (seeds 000 and 002), through a real WebSocket:
clinical editing of each final turn (falling back to the original words on failure),
a custom `{{turn}}` prompt answered as `analysis`, and the live note from the same engine.
The LLM is the fake OpenAI-compatible server on 127.0.0.1; the speech is real."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.support.fakes.llm_server import FakeLLMServer, Scenario
from tests.support.live_ws import collect, send_binary, ws_url
from tests.support.speech import CHEST_PAIN, frames, join, require_espeak, silence, speech

pytestmark = pytest.mark.slow

NOTE = {
    "subjective": "Chest pain for two days.",
    "objective": "",
    "assessment": "",
    "plan": "",
}
EDITED = "The patient reports chest pain for 2 days."
ANALYSIS = "Symptom: chest pain (2 days)."
PROMPT = "List the symptoms in this turn: {{turn}}"


async def run_session(srv: Any, cid: str) -> list[dict[str, Any]]:
    audio = join(speech(CHEST_PAIN), silence(2.5))
    url = ws_url(srv, consultation_id=cid, edit="true", prompt=quote(PROMPT))
    async with connect(url, additional_headers={"x-api-key": srv.key}) as ws:
        assert json.loads(await ws.recv())["type"] == "connection"
        await send_binary(ws, frames(audio, ms=100))
        await ws.send(json.dumps({"type": "stop"}))
        return await collect(ws)


async def test_turns_are_edited_analysed_and_noted(
    make_server: Callable[..., Any], fake_openai: FakeLLMServer
) -> None:
    require_espeak()
    # One final turn: the edit, then the analysis, then the note — in that order.
    fake_openai.push(
        Scenario(text=EDITED), Scenario(text=ANALYSIS), Scenario(text=json.dumps(NOTE))
    )
    async with make_server(
        engine="openai", openai_base_url=fake_openai.base_url, openai_model="fake-model"
    ) as srv:
        messages = await run_session(srv, "edit-1")
        async with httpx.AsyncClient(base_url=srv.url, headers={"x-api-key": srv.key}) as client:
            turns = (await client.get("/v1/consultations/edit-1/transcript")).json()["turns"]

    edited = [m for m in messages if m["type"] == "turn_edited"]
    assert len(edited) == 1
    assert edited[0]["edited_text"] == EDITED
    assert "chest" in edited[0]["original_text"].lower()
    assert [m["text"] for m in messages if m["type"] == "analysis"] == [ANALYSIS]
    notes = [m["data"] for m in messages if m["type"] == "soap"]
    assert notes[-1]["subjective"] == NOTE["subjective"]
    # Both texts are kept; the note was generated from the edited one.
    assert turns[0]["edited_text"] == EDITED
    assert "chest" in turns[0]["original_text"].lower()
    assert EDITED in fake_openai.requests[2]["messages"][-1]["content"]
    # The custom prompt reached the engine with the turn in place of {{turn}}.
    assert fake_openai.requests[1]["messages"][-1]["content"] == PROMPT.replace("{{turn}}", EDITED)


async def test_a_failing_editor_keeps_the_original_words(
    make_server: Callable[..., Any], fake_openai: FakeLLMServer
) -> None:
    require_espeak()
    fake_openai.default = Scenario(status=400)  # edits and analyses are refused
    async with make_server(
        engine="openai", openai_base_url=fake_openai.base_url, retry_attempts=0
    ) as srv:
        messages = await run_session(srv, "edit-2")
    edited = [m for m in messages if m["type"] == "turn_edited"]
    assert edited[0]["edited_text"] == edited[0]["original_text"]
    analysis = [m for m in messages if m["type"] == "analysis"]
    assert "error" in analysis[0]
    assert "chest" not in analysis[0]["error"].lower(), "no patient text in errors"
    assert messages[-1]["type"] == "session_end"
