"""What the history API answers: the response schemas, built from the domain records."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from delphos.db.repository import ConsultationInfo
from delphos.evidence.models import Evidence
from delphos.records import NoteRecord
from delphos.routing import IsoDateTime, iso
from delphos.soap.schemas import Usage


class StoredNote(BaseModel):
    subjective: str
    objective: str
    assessment: str
    plan: str
    soap_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    text_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    word_count: int
    engine: str
    model: str
    is_degraded: bool
    latency_ms: int
    created_at: IsoDateTime
    usage: Usage | None = Field(
        description="Tokens the LLM provider reported for this note; null when no LLM was called"
    )
    evidence: Evidence | None = Field(
        description="The evidence served with this version (null if stored before evidence)"
    )

    @staticmethod
    def fields_of(rec: NoteRecord) -> dict[str, Any]:
        return {
            **rec.note.sections(),
            "soap_hash": rec.soap_hash,
            "text_hash": rec.text_hash,
            "word_count": rec.word_count,
            "engine": rec.engine,
            "model": rec.model,
            "is_degraded": rec.is_degraded,
            "latency_ms": rec.latency_ms,
            "created_at": iso(rec.created_at),
            "usage": Usage.of(rec.usage) if rec.usage else None,
            "evidence": rec.evidence,
        }

    @classmethod
    def of(cls, rec: NoteRecord) -> StoredNote:
        return cls.model_validate(cls.fields_of(rec))


class StoredNoteWithId(StoredNote):
    consultation_id: str
    accumulated_text: str = Field(description="The text the note was made from")

    @classmethod
    def of_source(cls, rec: NoteRecord, source: str) -> StoredNoteWithId:
        return cls.model_validate(
            {
                **cls.fields_of(rec),
                "consultation_id": rec.consultation_id,
                "accumulated_text": source,
            }
        )


class Consultation(BaseModel):
    consultation_id: str
    created_at: IsoDateTime
    updated_at: IsoDateTime
    versions: int
    latest: StoredNote | None = Field(description="The newest note, or null when none is stored")

    @classmethod
    def of(cls, info: ConsultationInfo) -> Consultation:
        return cls(
            consultation_id=info.consultation_id,
            created_at=iso(info.created_at),
            updated_at=iso(info.updated_at),
            versions=info.version_count,
            latest=StoredNote.of(info.latest) if info.latest else None,
        )


class ConsultationPage(BaseModel):
    items: list[Consultation] = Field(description="Newest (most recently created) first")
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next (older) page")


class NotePage(BaseModel):
    consultation_id: str
    items: list[StoredNote]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next (older) page")
