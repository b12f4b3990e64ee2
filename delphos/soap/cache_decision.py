"""The cache decision: does this request get a stored note instead of a generation?

A hit is answered as the `soap` event's one-line UTF-8 JSON ("cached": true), bytes end to
end: the SSE route writes it out as it is, the hot path never decodes and re-encodes the
note. Past a miss, a request that names the note its client holds (`previous_soap_hash`)
can still be answered from the stored version of that note (the previous-hash fallback).
"""

from __future__ import annotations

import logging

from delphos.cache.delta import normalise_words, word_delta
from delphos.cache.store import CacheEntry, NoteCache, hit_json
from delphos.db.database import Database
from delphos.db.repository import find_source, store_evidence
from delphos.evidence import Evidence, EvidenceRunner, check_evidence
from delphos.records import NoteRecord, TenantRef, text_hash
from delphos.settings import Settings
from delphos.soap.events import NoteSource, soap_event
from delphos.soap.schemas import SoapRequest

log = logging.getLogger("delphos.service")


class CacheDecision:
    def __init__(
        self, *, settings: Settings, cache: NoteCache, db: Database, evidence: EvidenceRunner
    ) -> None:
        self._evidence_runner = evidence
        self._limit = settings.cache_word_delta
        self._cache = cache
        self._db = db

    async def check(self, tenant: TenantRef, req: SoapRequest) -> bytes | None:
        """The `soap` event of a hit as one-line UTF-8 JSON, or None."""
        # The text's SHA-256 is only needed past a miss: a hit compares the text itself
        # (hashing a long consultation costs more than the whole rest of a hit).
        limit = self._limit
        hit = await self._cache.lookup(
            tenant.id,
            req.consultation_id,
            text=req.accumulated_text,
            max_delta=limit,
        )
        if hit is not None:
            return hit_json(hit.payload_json)
        if req.previous_soap_hash is None:
            return None
        return await self._previous(tenant, req)

    async def _previous(self, tenant: TenantRef, req: SoapRequest) -> bytes | None:
        # The cache lost its entry (TTL, eviction, Redis restart) but the client tells us
        # which note it holds: the stored version of THIS tenant's consultation with that
        # hash is as good as a cache entry. An unknown or foreign hash finds nothing.
        assert req.previous_soap_hash is not None
        limit = self._limit
        try:
            found = await find_source(
                self._db, tenant.id, req.consultation_id, req.previous_soap_hash
            )
        except Exception as exc:
            log.warning("note lookup for previous_soap_hash failed: %s", type(exc).__name__)
            return None
        if found is None:
            return None
        stored, source_text = found
        same = stored.text_hash == text_hash(req.accumulated_text)
        if (
            not same
            and word_delta(
                normalise_words(source_text), normalise_words(req.accumulated_text), limit
            )
            >= limit
        ):
            return None
        event = soap_event(
            stored.note,
            NoteSource(stored.engine, stored.model, req.consultation_id, stored.text_hash),
            cached=True,
            is_degraded=stored.is_degraded,
            generation_ms=stored.latency_ms,
            usage=stored.usage,
            evidence=await self._evidence(stored, source_text),
        )
        await self._cache.store(
            tenant.id,
            req.consultation_id,
            CacheEntry(
                text_hash=stored.text_hash,
                text=source_text,
                soap_hash=stored.soap_hash,
                payload_json=event.stored_json,
            ),
        )
        return event.data_json

    async def _evidence(self, stored: NoteRecord, source_text: str) -> Evidence | None:
        """The stored version's evidence; a version stored before evidence existed is
        checked now, once, and the result kept with it."""
        if stored.evidence is not None:
            return Evidence.model_validate(stored.evidence)
        evidence = await check_evidence(self._evidence_runner, source_text, stored.note.sections())
        if evidence is not None and stored.id is not None:
            try:
                await store_evidence(self._db, stored.id, evidence.model_dump(mode="json"))
            except Exception as exc:
                log.warning("storing evidence failed: %s", type(exc).__name__)
        return evidence
