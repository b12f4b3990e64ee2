"""Live transcription over a real WebSocket to a real uvicorn, with real synthesized speech.

A seed-001 style client streams a spoken consultation; the same consultation's SOAP note
builds itself on the socket; transcript, note and audio are retrievable afterwards.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import wave
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.support.live_ws import collect, send_binary, ws_url
from tests.support.speech import (
    ASPIRIN,
    BLOOD_PRESSURE,
    CHEST_PAIN,
    frames,
    join,
    require_espeak,
    silence,
    speech,
)

pytestmark = pytest.mark.slow


def finals(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in messages if m["type"] == "transcription" and m["isFinal"]]


def spoken_consultation(rate: int = 16_000) -> np.ndarray[Any, Any]:
    gap = silence(1.6, rate)
    return join(
        speech(CHEST_PAIN, rate),
        gap,
        speech(BLOOD_PRESSURE, rate),
        gap,
        speech(ASPIRIN, rate),
        silence(2.5, rate),
    )


async def test_spoken_consultation_builds_its_note_live(make_server: Callable[..., Any]) -> None:
    require_espeak()
    audio = spoken_consultation()
    async with make_server() as srv:
        headers = {"x-api-key": srv.key}
        async with connect(ws_url(srv, consultation_id="live-1"), additional_headers=headers) as ws:
            hello = json.loads(await ws.recv())
            assert hello["type"] == "connection"
            assert hello["status"] == "connected"
            assert hello["model"]
            # Paced like a microphone (100 ms frames every 0.1 s): interims are previews
            # made on idle capacity, so a client flooding audio may rightly get none.
            sender = asyncio.create_task(send_binary(ws, frames(audio, ms=100), pace_s=0.1))
            await sender
            await ws.send(json.dumps({"type": "stop"}))
            messages = await collect(ws)
            assert ws.close_code == 1000

        texts = " ".join(finals(messages)).lower()
        for word in ("chest", "pain", "pressure", "milligrams"):
            assert word in texts, texts
        assert len(finals(messages)) >= 2, "silences of 1.6 s end turns"
        interims = [m for m in messages if m["type"] == "transcription" and not m["isFinal"]]
        assert interims, "interim text while someone speaks"
        for m in messages:
            if m["type"] == "transcription":
                assert m["timestamp"].endswith("+00:00")
        kinds = [m["type"] for m in messages]
        assert "soap_status" in kinds
        notes = [m["data"] for m in messages if m["type"] == "soap"]
        assert notes, "the consultation's note builds itself on the socket"
        last_note = notes[-1]
        assert "pain" in json.dumps(last_note).lower()
        end = messages[-1]
        assert end["type"] == "session_end"
        assert end["audio_saved"] is True

        async with httpx.AsyncClient(base_url=srv.url, headers=headers) as client:
            transcript = (await client.get("/v1/consultations/live-1/transcript")).json()
            assert [t["seq"] for t in transcript["turns"]] == list(range(len(finals(messages))))
            assert any("medication" in t["flags"] for t in transcript["turns"])
            consultation = (await client.get("/v1/consultations/live-1")).json()
            assert consultation["latest"]["soap_hash"] == last_note["soap_hash"]
            recordings = (await client.get("/v1/consultations/live-1/audio")).json()["items"]
            assert len(recordings) == 1
            wav = await client.get(f"/v1/consultations/live-1/audio/{recordings[0]['id']}")
            assert wav.headers["content-type"] == "audio/wav"
            with wave.open(io.BytesIO(wav.content)) as w:
                assert w.getframerate() == 16_000
                assert w.getnchannels() == 1
                assert abs(w.getnframes() - audio.shape[0]) < 16_000 * 0.5


async def test_base64_json_at_48k_and_bad_input_keep_the_session_usable(
    make_server: Callable[..., Any],
) -> None:
    require_espeak()
    rate = 48_000
    audio = join(speech(CHEST_PAIN, rate), silence(2.5, rate))
    async with make_server() as srv:
        async with connect(ws_url(srv), additional_headers={"x-api-key": srv.key}) as ws:
            await ws.recv()  # connection
            bad: list[str | bytes] = [
                json.dumps({"type": "audio", "data": "not base64!!", "sampleRate": 16000}),
                json.dumps({"type": "audio", "data": base64.b64encode(b"\x01\x02\x03").decode()}),
                json.dumps({"type": "audio", "data": "", "sampleRate": 0}),
                json.dumps({"type": "audio", "data": "AAAA", "sampleRate": 1_000_000}),
                "this is not json",
                json.dumps({"type": "dance"}),
                b"\x00" * 2_000_001,
                b"\x01\x02\x03",
            ]
            for frame in bad:
                await ws.send(frame)
                reply = json.loads(await ws.recv())
                assert reply["type"] == "error", reply
                assert reply["message"]
            for chunk in frames(audio, rate, ms=100):
                await ws.send(
                    json.dumps(
                        {
                            "type": "audio",
                            "data": base64.b64encode(chunk).decode(),
                            "sampleRate": rate,
                        }
                    )
                )
            await ws.send(json.dumps({"type": "stop"}))
            messages = await collect(ws)
    text = " ".join(finals(messages)).lower()
    assert "chest" in text, text
    assert "pain" in text, text


async def test_authentication(make_server: Callable[..., Any]) -> None:
    async with make_server() as srv:
        # No credentials: audio is not looked at; a clear error, then a policy close.
        async with connect(ws_url(srv)) as ws:
            with contextlib.suppress(ConnectionClosed):  # the server may already have closed
                await ws.send(b"\x00\x00" * 1600)
            messages = await collect(ws, limit_s=10)
        assert messages[0]["type"] == "error"
        assert messages[0]["code"] == "UNAUTHORIZED"
        assert ws.close_code == 1008

        async with connect(ws_url(srv), additional_headers={"x-api-key": "wrong"}) as ws:
            messages = await collect(ws, limit_s=10)
        assert messages[0]["code"] == "UNAUTHORIZED"

        # Browsers: a short-lived single-use token, never the key in the URL.
        async with httpx.AsyncClient(base_url=srv.url) as client:
            resp = await client.post("/v1/transcription/token", headers={"x-api-key": srv.key})
            assert resp.status_code == 200
            token = resp.json()["token"]
            assert srv.key not in token
            assert (await client.post("/v1/transcription/token")).status_code == 401
        async with connect(ws_url(srv, token=token)) as ws:
            hello = json.loads(await ws.recv())
            assert hello["type"] == "connection"
            await ws.send(json.dumps({"type": "stop"}))
            await collect(ws, limit_s=30)
        async with connect(ws_url(srv, token=token)) as ws:
            messages = await collect(ws, limit_s=10)
        assert messages[0]["code"] == "UNAUTHORIZED", "a token works once"


@pytest.mark.parametrize(
    "params",
    [
        {"min_turn_silence": "3000", "max_turn_silence": "1000"},
        {"min_turn_silence": "abc"},
        {"sample_rate": "0"},
        {"language": "pt"},  # tiny.en is English-only: say so instead of transcribing badly
    ],
)
async def test_bad_parameters_are_refused_clearly(
    make_server: Callable[..., Any], params: dict[str, str]
) -> None:
    async with make_server() as srv:
        async with connect(ws_url(srv, **params), additional_headers={"x-api-key": srv.key}) as ws:
            messages = await collect(ws, limit_s=30)
    assert messages[0]["type"] == "error"
    assert messages[0]["message"]
    assert ws.close_code == 1008


async def test_silence_gives_no_text_and_no_invented_note(make_server: Callable[..., Any]) -> None:
    async with make_server() as srv:
        headers = {"x-api-key": srv.key}
        async with connect(ws_url(srv, consultation_id="quiet"), additional_headers=headers) as ws:
            await ws.recv()
            await send_binary(ws, frames(silence(6.0), ms=100))
            await ws.send(json.dumps({"type": "stop"}))
            messages = await collect(ws)
        async with httpx.AsyncClient(base_url=srv.url, headers=headers) as client:
            consultation = await client.get("/v1/consultations/quiet")
    assert finals(messages) == []
    assert not [m for m in messages if m["type"].startswith("soap")]
    assert messages[-1]["type"] == "session_end"
    # Nothing was said, so no note was written for this consultation.
    assert consultation.status_code == 404 or consultation.json()["latest"] is None


async def test_client_vanishing_mid_turn_leaves_the_server_healthy(
    make_server: Callable[..., Any],
) -> None:
    require_espeak()
    first = join(speech(CHEST_PAIN), silence(2.5))
    async with make_server() as srv:
        headers = {"x-api-key": srv.key}
        async with connect(ws_url(srv, consultation_id="gone"), additional_headers=headers) as ws:
            await ws.recv()
            await send_binary(ws, frames(first, ms=100))
            # Half of the next sentence, then the client disappears without `stop`.
            half = speech(ASPIRIN)[:16_000]
            await send_binary(ws, frames(half, ms=100))
        # That was a normal close without `stop`; now one that drops the TCP connection.
        raw = await connect(ws_url(srv, consultation_id="gone2"), additional_headers=headers)
        await raw.recv()
        await send_binary(raw, frames(half, ms=100))
        raw.transport.abort()

        async with httpx.AsyncClient(base_url=srv.url, headers=headers) as client:
            assert (await client.get("/health")).json()["status"] == "ok"
            for _ in range(200):  # the finished turn is stored even though the client left
                turns = (await client.get("/v1/consultations/gone/transcript")).json().get("turns")
                if turns:
                    break
                await asyncio.sleep(0.1)
            assert turns
            assert "chest" in turns[0]["original_text"].lower()
        # And another session works normally.
        async with connect(ws_url(srv), additional_headers=headers) as ws:
            assert json.loads(await ws.recv())["type"] == "connection"
            await ws.send(json.dumps({"type": "stop"}))
            assert (await collect(ws))[-1]["type"] == "session_end"
