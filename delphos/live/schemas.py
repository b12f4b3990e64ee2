"""What the REST side of live sessions answers: the response schemas."""

from __future__ import annotations

from pydantic import BaseModel, Field

from delphos.db.repository import AudioInfo
from delphos.records import Turn, TurnFlag
from delphos.routing import IsoDateTime, iso


class TranscriptionToken(BaseModel):
    token: str = Field(description="Single-use; open /ws/transcribe?token=… with it")
    expires_in: int = Field(description="Seconds the token stays valid")


class TranscriptTurn(BaseModel):
    seq: int
    original_text: str
    edited_text: str | None
    text: str = Field(description="edited_text when the clinician edited the turn, else original")
    flags: list[TurnFlag]
    started_at: IsoDateTime
    # The format on the property, not inside its anyOf: as the document always said.
    ended_at: str | None = Field(json_schema_extra={"format": "date-time"})

    @classmethod
    def of(cls, turn: Turn) -> TranscriptTurn:
        return cls.model_validate(
            {
                "seq": turn.seq,
                "original_text": turn.original_text,
                "edited_text": turn.edited_text,
                "text": turn.text,
                "flags": list(turn.flags),
                "started_at": iso(turn.started_at),
                "ended_at": iso(turn.ended_at) if turn.ended_at else None,
            }
        )


class Transcript(BaseModel):
    consultation_id: str
    turns: list[TranscriptTurn]


class AudioRecording(BaseModel):
    id: int
    sample_rate: int
    duration_ms: int
    bytes: int
    created_at: IsoDateTime

    @classmethod
    def of(cls, audio: AudioInfo) -> AudioRecording:
        return cls(
            id=audio.id,
            sample_rate=audio.sample_rate,
            duration_ms=audio.duration_ms,
            bytes=audio.nbytes,
            created_at=iso(audio.created_at),
        )


class AudioList(BaseModel):
    consultation_id: str
    items: list[AudioRecording]
