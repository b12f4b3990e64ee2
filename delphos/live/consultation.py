"""The consultation loop of a live session: each final turn is edited (optionally),
persisted, analysed (optionally), and the consultation's SOAP note regenerated from the
accumulated transcript through the same pipeline as the SSE endpoint.

Everything here talks to the client through one `send` callable; after the client is gone
`send` is a no-op and the loop still finishes its work (the final note and transcript are
kept).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from delphos.db import repository as repo
from delphos.db.database import Database
from delphos.engines.base import Engine
from delphos.errors import InternalError
from delphos.records import MAX_TEXT_CHARS, TenantRef, Turn
from delphos.soap.events import error_event
from delphos.soap.schemas import NoteEvent, SoapRequest
from delphos.soap.service import NoteService

log = logging.getLogger("delphos.live")

Send = Callable[[dict[str, Any]], Awaitable[None]]

# Seed 000's clinical editor, kept close to its wording: keep the words, fix the terms.
EDIT_SYSTEM = (
    "You are a clinical transcription editor. Keep the speaker's words, fix medical "
    "terminology (drug names, dosages, anatomy), proper nouns, and punctuation for "
    "readability. Preserve meaning and avoid inventing details. Answer with the edited "
    "text only, in the language of the transcript."
)
EDIT_TIMEOUT_S = 20.0
ANALYSIS_TIMEOUT_S = 30.0

_SOAP_MESSAGE = {
    "status": "soap_status",
    "partial": "soap_partial",
    "soap": "soap",
    "error": "soap_error",
}


def _soap_message(event: NoteEvent) -> dict[str, Any]:
    # The live protocol's messages are JSON objects written by `Send` (its envelope holds
    # turns, analyses and errors too): a note event goes in as its plain JSON values.
    return {"type": _SOAP_MESSAGE[event.name], "data": event.model_dump(mode="json")}


@dataclass
class ConsultationLoop:
    notes: NoteService
    db: Database
    engine: Engine
    tenant: TenantRef
    consultation_id: str
    send: Send
    edit: bool = False
    prompt: str | None = None
    turns: list[Turn] = field(default_factory=list)
    _queue: asyncio.Queue[Turn | None] = field(default_factory=asyncio.Queue)
    _worker: asyncio.Task[None] | None = None
    _soap_task: asyncio.Task[None] | None = None
    _soap_pending: str | None = None

    async def start(self) -> None:
        """Continue an existing consultation: earlier sessions' turns count."""
        try:
            self.turns.extend(await repo.list_turns(self.db, self.tenant.id, self.consultation_id))
        except Exception as exc:
            log.warning("could not load earlier turns: %s", type(exc).__name__)
        self._worker = asyncio.create_task(self._work(), name="delphos-live-turns")

    def next_seq(self) -> int:
        return self.turns[-1].seq + 1 if self.turns else 0

    def submit(self, record: Turn) -> None:
        """Queue a final turn; turns are processed in order, one at a time."""
        self._queue.put_nowait(record)

    async def finish(self) -> None:
        """Process every queued turn, then wait for the last note."""
        self._queue.put_nowait(None)
        if self._worker is not None:
            await self._worker
        while self._soap_task is not None and not self._soap_task.done():
            await self._soap_task

    # --- per turn ------------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            record = await self._queue.get()
            if record is None:
                return
            try:
                await self._process(record)
            except Exception as exc:  # one bad turn must not end the session
                log.error("turn processing failed: %s", type(exc).__name__)

    async def _process(self, record: Turn) -> None:
        if self.edit:
            record = replace(record, edited_text=await self._edit(record.original_text))
            await self.send(
                {
                    "type": "turn_edited",
                    "turn_index": record.seq,
                    "original_text": record.original_text,
                    "edited_text": record.edited_text,
                }
            )
        self.turns.append(record)
        try:
            await repo.append_turn(self.db, self.tenant.id, self.consultation_id, record)
        except Exception as exc:
            log.warning("could not store a transcript turn: %s", type(exc).__name__)
            await self.send(
                {
                    "type": "error",
                    "code": "PERSISTENCE_ERROR",
                    "message": "A transcript turn could not be stored; the session continues",
                }
            )
        if self.prompt:
            await self._analyse(record)
        self._soap(self.transcript_text())

    async def _edit(self, text: str) -> str:
        # Seed 000: on any failure, fall back to the original words.
        try:
            async with asyncio.timeout(EDIT_TIMEOUT_S):
                edited = (await self.engine.complete(EDIT_SYSTEM, text, max_tokens=1024)).strip()
        except Exception as exc:
            log.info("turn edit unavailable (%s); keeping the original", type(exc).__name__)
            return text
        return edited or text

    async def _analyse(self, record: Turn) -> None:
        assert self.prompt is not None
        user = self.prompt.replace("{{turn}}", record.text)
        try:
            async with asyncio.timeout(ANALYSIS_TIMEOUT_S):
                answer = await self.engine.complete("", user, max_tokens=1024)
        except Exception as exc:
            log.info("turn analysis unavailable: %s", type(exc).__name__)
            await self.send(
                {
                    "type": "analysis",
                    "turn_index": record.seq,
                    "error": "The analysis engine could not answer for this turn",
                }
            )
            return
        await self.send({"type": "analysis", "turn_index": record.seq, "text": answer})

    # --- the note ------------------------------------------------------------------------

    def transcript_text(self) -> str:
        text = "\n".join(t.text for t in self.turns if t.text.strip())
        # The note endpoint's limit: keep the most recent 100,000 characters.
        return text[-MAX_TEXT_CHARS:]

    def _soap(self, text: str) -> None:
        """At most one generation in flight per consultation; the newest text wins."""
        self._soap_pending = text
        if self._soap_task is None or self._soap_task.done():
            self._soap_task = asyncio.create_task(self._soap_loop(), name="delphos-live-soap")

    async def _soap_loop(self) -> None:
        while self._soap_pending is not None:
            text, self._soap_pending = self._soap_pending, None
            request = SoapRequest(consultation_id=self.consultation_id, accumulated_text=text)
            try:
                async for event in self.notes.events(self.tenant, request):
                    await self.send(_soap_message(event))
            except Exception as exc:
                log.error("live note update failed: %s", type(exc).__name__)
                await self.send(_soap_message(error_event(InternalError(), degraded=False)))
