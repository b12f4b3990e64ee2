"""Persistence, the pipeline's last step: a finished note made durable and cached.

Runs before the `soap` event goes out (the generation awaits it, shielded): a client that
holds `soap` can read the note back from the history API, and a crash after it loses
nothing.
"""

from __future__ import annotations

import asyncio

from delphos.cache.store import CacheEntry, NoteCache
from delphos.db.recorder import NoteRecorder
from delphos.heap import freeze_warm
from delphos.records import NoteRecord, SoapNote, TenantRef
from delphos.soap.generation import GenerationResult
from delphos.soap.schemas import SoapEvent


class NotePersistence:
    def __init__(self, *, cache: NoteCache, recorder: NoteRecorder) -> None:
        self._cache = cache
        self._recorder = recorder

    async def complete(
        self,
        tenant: TenantRef,
        consultation_id: str,
        text: str,
        digest: str,
        event: SoapEvent,
        result: GenerationResult,
    ) -> None:
        note: SoapNote = result.note
        # The record's evidence column is JSON values; the cache keeps the event's bytes.
        evidence = event.evidence.model_dump(mode="json") if event.evidence is not None else None
        record = NoteRecord(
            tenant_id=tenant.id,
            consultation_id=consultation_id,
            note=note,
            soap_hash=event.soap_hash,  # the note's, hashed once (by soap_event)
            text_hash=digest,
            source_text=text,
            word_count=len(text.split()),
            engine=event.engine,
            model=event.model,
            is_degraded=result.is_degraded,
            latency_ms=result.latency_ms,
            created_at=result.finished_at,
            tenant_name=tenant.name,
            usage=result.usage,
            evidence=evidence,
        )
        if result.is_degraded:
            # A degraded note (LLM failed, local rules completed it) is stored but not
            # cached: the next request for this text should get the real engine again.
            await self._recorder.record(record)
            return
        # Both before the `soap` event goes out, side by side: the answer waits for the
        # slower of the two round trips, not their sum. The cache never raises (a Redis
        # outage is a dropped store), nor does the recorder (an outage is a spooled note).
        entry = CacheEntry(
            text_hash=digest, text=text, soap_hash=event.soap_hash, payload_json=event.stored_json
        )
        await asyncio.gather(
            self._recorder.record(record), self._cache.store(tenant.id, consultation_id, entry)
        )
        # What the first note loaded lives as long as the process (delphos.heap).
        freeze_warm()
