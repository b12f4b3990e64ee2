"""WS /ws/transcribe — live transcription (seed 001's protocol) feeding the live SOAP note.

Connect → `connection`; audio in (base64 JSON or binary PCM s16le mono) → `transcription`
interim/final; `{"type":"stop"}` → last finals, the final note, `session_end`, clean close.
With `consultation_id`, final turns drive the consultation's SOAP note on the same socket
(`soap_status` / `soap_partial` / `soap` / `soap_error`, payloads as the SSE events).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from delphos.db import repository as repo
from delphos.errors import DelphosError
from delphos.live.consultation import ConsultationLoop
from delphos.live.params import BadParameter, LiveParams, parse_params
from delphos.live.state import LiveServices
from delphos.metrics import STT_LAG_DROPS, STT_SESSIONS, STT_SESSIONS_TOTAL
from delphos.records import TenantRef
from delphos.stt.audio import InvalidAudio, check_sample_rate
from delphos.stt.events import Lagging, SessionClosed, Transcript
from delphos.stt.session import TranscriptionSession
from delphos.stt.transcriber import Transcriber

log = logging.getLogger("delphos.live.ws")

POLICY_VIOLATION = 1008
MAX_FRAME_BYTES = 1_048_576  # ~32 s of 16 kHz audio; a larger frame is refused, not buffered


class Channel:
    """Serialised sends; after the client is gone, sending is a no-op."""

    def __init__(self, ws: WebSocket) -> None:
        self._ws = ws
        self._lock = asyncio.Lock()
        self.open = True

    async def send(self, message: dict[str, Any]) -> None:
        if not self.open:
            return
        async with self._lock:
            try:
                await self._ws.send_text(json.dumps(message, ensure_ascii=False))
            except (WebSocketDisconnect, RuntimeError, OSError):
                self.open = False

    async def error(self, message: str, code: str = "BAD_REQUEST") -> None:
        await self.send({"type": "error", "code": code, "message": message})

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self.open and self._ws.application_state != WebSocketState.DISCONNECTED:
            self.open = False
            try:
                await self._ws.close(code=code, reason=reason)
            except (RuntimeError, OSError):
                pass


def transcription_message(event: Transcript) -> dict[str, Any]:
    return {
        "type": "transcription",
        "text": event.text,
        "timestamp": event.timestamp.isoformat(),
        "isFinal": event.is_final,
        "turn_index": event.turn_index,
        "start_s": round(event.start_s, 3),
        "end_s": round(event.end_s, 3),
        "flags": list(event.flags),
    }


async def _authenticate(ws: WebSocket, state: LiveServices) -> TenantRef | None:
    key = ws.headers.get("x-api-key")
    if key:
        return await state.auth.authenticate(key)
    token = ws.query_params.get("token")
    if token:
        return await state.live.tokens.redeem(token)
    return None


async def transcribe(ws: WebSocket) -> None:
    state: LiveServices = ws.app.state.delphos
    await ws.accept()
    channel = Channel(ws)
    # Authentication and parameters first: no audio is looked at before both pass.
    try:
        tenant = await _authenticate(ws, state)
    except DelphosError:
        tenant = None
    if tenant is None:
        await channel.error(
            "Authentication required: send the x-api-key header, or ?token= from "
            "POST /v1/transcription/token",
            code="UNAUTHORIZED",
        )
        await channel.close(POLICY_VIOLATION, "authentication required")
        return
    try:
        params = parse_params(ws.query_params, state.settings)
        speech = await state.live.speech()
        if params.language not in (None, "en") and not speech.model.multilingual:
            raise BadParameter(
                f"the speech model {speech.model.name} is English-only; "
                "configure a multilingual model (DELPHOS_STT_MODEL_DIR) for other languages"
            )
    except DelphosError as exc:
        await channel.error(exc.message, code=exc.code)
        await channel.close(POLICY_VIOLATION, "invalid parameters")
        return

    STT_SESSIONS_TOTAL.inc()
    STT_SESSIONS.inc()
    try:
        await _run_session(ws, state, channel, speech, tenant, params)
    finally:
        STT_SESSIONS.dec()


async def _run_session(
    ws: WebSocket,
    state: LiveServices,
    channel: Channel,
    speech: Transcriber,
    tenant: TenantRef,
    params: LiveParams,
) -> None:
    session = TranscriptionSession(
        speech,
        language=params.language,
        min_turn_silence_ms=params.min_turn_silence,
        max_turn_silence_ms=params.max_turn_silence,
        sample_rate=params.sample_rate,
        interim_interval_s=state.settings.stt_interim_interval_s,
        keep_audio_s=state.live.audio_seconds if params.consultation_id else 0.0,
    )
    loop: ConsultationLoop | None = None
    if params.consultation_id:
        loop = ConsultationLoop(
            notes=state.notes,
            db=state.db,
            engine=state.engine,
            tenant=tenant,
            consultation_id=params.consultation_id,
            send=channel.send,
            edit=params.edit,
            prompt=params.prompt,
        )
        await loop.start()
    # Turn indexes restart at 0 each session; sequence numbers continue the consultation.
    first_seq = loop.next_seq() if loop is not None else 0
    await channel.send(
        {
            "type": "connection",
            "status": "connected",
            "message": "Real-time transcription ready",
            "model": speech.model.name,
            "consultation_id": params.consultation_id,
        }
    )

    async def deliver(events: list[Any]) -> None:
        for event in events:
            if isinstance(event, Transcript):
                # An empty final clears the client's preview; it is not a turn.
                await channel.send(transcription_message(event))
                if event.is_final and event.text.strip() and loop is not None:
                    loop.submit(event.as_turn(first_seq + event.turn_index))
            elif isinstance(event, Lagging):
                STT_LAG_DROPS.inc(event.dropped_interims)
                await channel.send(
                    {
                        "type": "lagging",
                        "dropped_interims": event.dropped_interims,
                        "message": "The server is busy: some interim results were skipped",
                    }
                )

    stopped = False
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            raw_bytes = message.get("bytes")
            raw_text = message.get("text")
            try:
                if raw_bytes is not None:
                    if len(raw_bytes) > MAX_FRAME_BYTES:
                        raise InvalidAudio(f"binary frame over {MAX_FRAME_BYTES} bytes")
                    await deliver(await session.feed(raw_bytes))
                    continue
                if raw_text is None:
                    continue
                if len(raw_text) > MAX_FRAME_BYTES * 2:
                    raise InvalidAudio("text frame too large")
                try:
                    data = json.loads(raw_text)
                except (ValueError, RecursionError):
                    # Also JSON nested too deeply or an over-long integer: an error
                    # message, and the session goes on.
                    raise BadParameter("text frames must be JSON messages") from None
                kind = data.get("type") if isinstance(data, dict) else None
                if kind == "audio":
                    payload = data.get("data")
                    if not isinstance(payload, str):
                        raise InvalidAudio("audio message needs base64 PCM in `data`")
                    try:
                        pcm = base64.b64decode(payload, validate=True)
                    except (binascii.Error, ValueError):
                        raise InvalidAudio("audio `data` is not valid base64") from None
                    rate = data.get("sampleRate", params.sample_rate)
                    await deliver(await session.feed(pcm, check_sample_rate(rate)))
                elif kind == "stop":
                    stopped = True
                    await deliver(await session.stop())
                    break
                else:
                    raise BadParameter("unknown message type (expected audio or stop)")
            except DelphosError as exc:
                # Bad input: say so and carry on; the stream stays usable.
                await channel.error(exc.message, code=exc.code)
            except SessionClosed:
                break
    except WebSocketDisconnect:
        pass
    finally:
        if not stopped:
            await session.aclose()
        await _end(state, channel, session, loop, tenant, params, stopped=stopped)


async def _end(
    state: LiveServices,
    channel: Channel,
    session: TranscriptionSession,
    loop: ConsultationLoop | None,
    tenant: TenantRef,
    params: LiveParams,
    *,
    stopped: bool,
) -> None:
    """Keep what the session produced — turns, the final note, the audio — then close."""
    audio_saved = False
    if loop is not None:
        if stopped:
            await loop.finish()
        else:
            # The client vanished: finish storing its turns and the note in the background.
            state.live.detach(loop.finish())
        audio_saved = await _save_audio(state, session, tenant, params)
    if stopped:
        await channel.send(
            {
                "type": "session_end",
                "turns": session.turns,
                "audio_seconds": round(session.audio_seconds, 3),
                "audio_saved": audio_saved,
                "consultation_id": params.consultation_id,
            }
        )
    await channel.close(1000)


async def _save_audio(
    state: LiveServices, session: TranscriptionSession, tenant: TenantRef, params: LiveParams
) -> bool:
    if not state.settings.audio_retention or session.recorded_seconds <= 0:
        return False
    assert params.consultation_id is not None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    folder = state.settings.data_dir / "audio" / tenant.id
    path = folder / f"{stamp}-{secrets.token_hex(6)}.wav"
    try:
        # Off the event loop: an hour of audio is ~115 MB to assemble and write.
        nbytes = await asyncio.to_thread(_write_wav, path, session)
        await repo.save_audio(
            state.db,
            tenant.id,
            params.consultation_id,
            path=str(path),
            sample_rate=16_000,
            duration_ms=int(session.recorded_seconds * 1000),
            nbytes=nbytes,
        )
    except Exception as exc:
        log.warning("session audio not kept: %s", type(exc).__name__)
        return False
    return True


def _write_wav(path: Path, session: TranscriptionSession) -> int:
    data = session.audio_wav_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # patient audio: 0600
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return len(data)


routes = [WebSocketRoute("/ws/transcribe", transcribe)]
