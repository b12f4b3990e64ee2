"""The progressive-SOAP pipeline, as its diagram reads:

request → cache check → engine stream → incremental parser → SSE events → persistence.

`NoteService.events()` yields the contract's events for one request: `status` first, then
`partial`s, then exactly one `soap` or `error`. Transport (SSE or JSON) is the route's job.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from delphos.cache.delta import normalise_words, word_delta
from delphos.cache.store import CacheEntry, NoteCache
from delphos.db.database import Database
from delphos.db.recorder import NoteRecorder
from delphos.db.repository import NoteRecord, TenantRef, find_source
from delphos.engines.base import Engine
from delphos.errors import (
    DelphosError,
    InternalError,
    ParseError,
    ProcessingError,
    ProcessingTimeout,
)
from delphos.settings import Settings
from delphos.soap.blank import BlankEngine
from delphos.soap.generation import Event, Fallback, Generation, GenerationResult
from delphos.soap.note import SoapNote, text_hash
from delphos.soap.schemas import SoapRequest

log = logging.getLogger("delphos.service")

_ERRORS: dict[str, type[DelphosError]] = {
    "PROCESSING_TIMEOUT": ProcessingTimeout,
    "PROCESSING_ERROR": ProcessingError,
    "PARSE_ERROR": ParseError,
    "INTERNAL_ERROR": InternalError,
}


@dataclass(frozen=True, slots=True)
class Answer:
    """Either a cached note (known in full up front) or a generation to subscribe to."""

    cached: dict[str, Any] | None
    generation: Generation | None

    async def events(self) -> AsyncIterator[Event]:
        if self.cached is not None:
            yield "status", {"type": "cache_hit"}
            yield "soap", self.cached
            return
        assert self.generation is not None
        async for event in self.generation.subscribe():
            yield event


class NoteService:
    def __init__(
        self,
        *,
        settings: Settings,
        engine: Engine,
        cache: NoteCache,
        db: Database,
        recorder: NoteRecorder,
        fallback: Fallback | None,
    ) -> None:
        self._settings = settings
        self._engine = engine
        self._blank = BlankEngine()
        self._cache = cache
        self._db = db
        self._recorder = recorder
        self._fallback = fallback
        self._inflight: dict[tuple[str, str, str], Generation] = {}
        self.engine_calls = 0  # generations started (for tests, benchmarks and /health)

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    async def answer(self, tenant: TenantRef, req: SoapRequest) -> Answer:
        """Cache check first; otherwise join (or start) the generation for this text."""
        digest = text_hash(req.accumulated_text)
        hit = await self._cache_check(tenant, req, digest)
        if hit is not None:
            return Answer(cached=hit, generation=None)
        return Answer(cached=None, generation=self._join_or_start(tenant, req, digest))

    async def events(self, tenant: TenantRef, req: SoapRequest) -> AsyncIterator[Event]:
        answer = await self.answer(tenant, req)
        async for event in answer.events():
            yield event

    async def note(self, tenant: TenantRef, req: SoapRequest) -> dict[str, Any]:
        """The final `soap` payload, or the error mapped to its HTTP status and code."""
        async for name, data in self.events(tenant, req):
            if name == "soap":
                return data
            if name == "error":
                raise _ERRORS.get(data["code"], InternalError)(data["message"])
        raise InternalError()

    # --- cache check ---------------------------------------------------------------------

    async def _cache_check(
        self, tenant: TenantRef, req: SoapRequest, digest: str
    ) -> dict[str, Any] | None:
        limit = self._settings.cache_word_delta
        hit = await self._cache.lookup(
            tenant.id,
            req.consultation_id,
            text=req.accumulated_text,
            text_hash=digest,
            max_delta=limit,
        )
        if hit is not None:
            return {**hit.payload, "cached": True}
        if req.previous_soap_hash is None:
            return None
        # The cache lost its entry (TTL, eviction, Redis restart) but the client tells us
        # which note it holds: the stored version of THIS tenant's consultation with that
        # hash is as good as a cache entry. An unknown or foreign hash finds nothing.
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
        same = stored.text_hash == digest
        if (
            not same
            and word_delta(
                normalise_words(source_text), normalise_words(req.accumulated_text), limit
            )
            >= limit
        ):
            return None
        payload = {
            **stored.note.as_json(),
            "completeness": {"s": True, "o": True, "a": True, "p": True},
            "soap_hash": stored.soap_hash,
            "is_degraded": stored.is_degraded,
            "engine": stored.engine,
            "model": stored.model,
            "consultation_id": req.consultation_id,
            "text_hash": stored.text_hash,
            "generation_ms": stored.latency_ms,
        }
        await self._cache.store(
            tenant.id,
            req.consultation_id,
            CacheEntry(
                text_hash=stored.text_hash,
                text=source_text,
                soap_hash=stored.soap_hash,
                payload=payload,
            ),
        )
        return {**payload, "cached": True}

    # --- generation ----------------------------------------------------------------------

    def _join_or_start(self, tenant: TenantRef, req: SoapRequest, digest: str) -> Generation:
        key = (tenant.id, req.consultation_id, digest)
        current = self._inflight.get(key)
        if current is not None and current.joinable:
            return current
        blank = not req.accumulated_text.strip()
        # Blank text never reaches an engine: an empty note, never an invented visit.
        engine: Engine = self._blank if blank else self._engine
        text = req.accumulated_text

        async def on_complete(payload: dict[str, Any], result: GenerationResult) -> None:
            await self._complete(tenant, req.consultation_id, text, digest, payload, result)

        generation = Generation(
            engine=engine,
            text=text,
            timeout=self._settings.generation_timeout,
            partial_interval=1.0 / self._settings.partials_per_second,
            soap_fields={
                "engine": engine.name,
                "model": engine.model,
                "consultation_id": req.consultation_id,
                "text_hash": digest,
            },
            on_complete=on_complete,
            fallback=None if blank else self._fallback,
        )
        self._inflight[key] = generation
        if not blank:
            self.engine_calls += 1
        generation.start()

        def forget(_: object) -> None:
            if self._inflight.get(key) is generation:
                del self._inflight[key]

        generation.add_done_callback(forget)
        return generation

    async def _complete(
        self,
        tenant: TenantRef,
        consultation_id: str,
        text: str,
        digest: str,
        payload: dict[str, Any],
        result: GenerationResult,
    ) -> None:
        note: SoapNote = result.note
        entry_payload = {k: v for k, v in payload.items() if k != "cached"}
        await self._cache.store(
            tenant.id,
            consultation_id,
            CacheEntry(
                text_hash=digest, text=text, soap_hash=note.soap_hash, payload=entry_payload
            ),
        )
        await self._recorder.record(
            NoteRecord(
                tenant_id=tenant.id,
                consultation_id=consultation_id,
                note=note,
                soap_hash=note.soap_hash,
                text_hash=digest,
                source_text=text,
                word_count=len(text.split()),
                engine=str(payload["engine"]),
                model=str(payload["model"]),
                is_degraded=result.is_degraded,
                latency_ms=result.latency_ms,
                created_at=result.finished_at,
            )
        )

    async def aclose(self) -> None:
        for generation in list(self._inflight.values()):
            await generation.cancel()
