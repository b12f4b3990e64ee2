"""REST side of live sessions: browser tokens, and the transcript and audio of a
consultation (tenant-scoped; another tenant's consultation is a 404)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from delphos.db import repository as repo
from delphos.errors import InternalError, NotFound, ServiceUnavailable, Unauthorized
from delphos.live.schemas import (
    AudioList,
    AudioRecording,
    Transcript,
    TranscriptionToken,
    TranscriptTurn,
)
from delphos.live.state import LiveServices
from delphos.routing import CONSULTATION_ID, ApiRoute, Operation, Param, model_response
from delphos.scope import SCOPED_ERRORS, consultation_scope, stored_consultation


async def issue_token(request: Request) -> Response:
    state: LiveServices = request.app.state.delphos
    tenant = await state.auth.authenticate(request.headers.get("x-api-key"))
    issued = state.live.tokens.issue(tenant)
    return model_response(
        TranscriptionToken(token=issued.token, expires_in=issued.expires_in),
        headers={"Cache-Control": "no-store"},
    )


async def transcript(request: Request) -> Response:
    state, info = await stored_consultation(request)
    cid = info.consultation_id
    turns = await repo.list_turns(state.db, info.tenant_id, cid)
    return model_response(
        Transcript(consultation_id=cid, turns=[TranscriptTurn.of(t) for t in turns])
    )


async def audio_list(request: Request) -> Response:
    state, info = await stored_consultation(request)
    cid = info.consultation_id
    rows = await repo.list_audio(state.db, info.tenant_id, cid)
    return model_response(
        AudioList(consultation_id=cid, items=[AudioRecording.of(a) for a in rows])
    )


async def audio_file(request: Request) -> Response:
    state, tenant, cid = await consultation_scope(request)
    raw_id = request.path_params["audio_id"]
    if not (raw_id.isascii() and raw_id.isdigit()):
        raise NotFound("No such recording")
    audio_id = int(raw_id)
    for a in await repo.list_audio(state.db, tenant.id, cid):
        if a.id == audio_id and await asyncio.to_thread(Path(a.path).is_file):
            return FileResponse(a.path, media_type="audio/wav", filename=f"{cid}-{a.id}.wav")
    raise NotFound("No such recording")


_WAV = {"schema": {"type": "string", "contentMediaType": "audio/wav"}}
_TEXT = {"schema": {"type": "string"}}

routes = [
    ApiRoute(
        "/v1/transcription/token",
        issue_token,
        "POST",
        Operation(
            "issueTranscriptionToken",
            "A short-lived, single-use token for a browser's WebSocket",
            ok=TranscriptionToken,
            errors=(Unauthorized, InternalError, ServiceUnavailable),
        ),
    ),
    ApiRoute(
        "/v1/consultations/{consultation_id}/transcript",
        transcript,
        "GET",
        Operation(
            "getTranscript",
            "The live transcript's turns, in order",
            ok=Transcript,
            params=(CONSULTATION_ID,),
            errors=SCOPED_ERRORS,
        ),
    ),
    ApiRoute(
        "/v1/consultations/{consultation_id}/audio",
        audio_list,
        "GET",
        Operation(
            "listAudio",
            "The consultation's stored recordings",
            ok=AudioList,
            params=(CONSULTATION_ID,),
            errors=SCOPED_ERRORS,
        ),
    ),
    ApiRoute(
        "/v1/consultations/{consultation_id}/audio/{audio_id}",
        audio_file,
        "GET",
        Operation(
            "audioFile",
            "One recording as 16-bit PCM WAV (Range requests are honoured)",
            ok={"audio/wav": _WAV},
            ok_description="The recording",
            params=(
                CONSULTATION_ID,
                Param("audio_id", "path", {"type": "integer"}),
                Param("Range", "header", {"type": "string"}),
            ),
            errors=SCOPED_ERRORS,
            other_responses={
                "206": {
                    "description": "The requested byte range(s)",
                    "content": {"audio/wav": _WAV, "multipart/byteranges": _TEXT},
                },
                "400": {"description": "Malformed Range header", "content": {"text/plain": _TEXT}},
                "416": {"description": "Range not satisfiable", "content": {"text/plain": _TEXT}},
            },
        ),
    ),
]
