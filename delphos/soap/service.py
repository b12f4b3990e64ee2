"""The progressive-SOAP pipeline, as its diagram reads:

request → cache check → engine stream → incremental parser → SSE events → persistence.

`NoteService.events()` yields the contract's events for one request: `status` first, then
`partial`s, then exactly one `soap` or `error`. Transport (SSE or JSON) is the route's job.

Coalescing: requests for the same tenant, consultation and text share one generation. In
one process they subscribe to the same `Generation`. Across workers (Redis) the first
takes the short lock ``gen:{tenant}:{consultation}:{text_hash}`` and publishes every event
to a Redis Stream named by its lock token; a worker that finds the lock taken replays that
stream from the start to its own client. A holder that dies stops refreshing its lock; the
waiters then take the lock over and generate themselves.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from delphos.cache.delta import normalise_words, word_delta
from delphos.cache.store import CacheEntry, NoteCache, encode_payload, hit_json
from delphos.db.database import Database
from delphos.db.recorder import NoteRecorder
from delphos.db.repository import find_source, store_evidence
from delphos.engines.base import Engine
from delphos.errors import (
    DelphosError,
    InternalError,
    ParseError,
    ProcessingError,
    ProcessingTimeout,
)
from delphos.evidence import evidence_json
from delphos.metrics import CACHE_LOOKUPS, GENERATIONS_STARTED
from delphos.records import NoteRecord, SoapNote, TenantRef, text_hash
from delphos.settings import Settings
from delphos.soap.blank import BlankEngine
from delphos.soap.generation import Event, Fallback, Generation, GenerationResult, soap_payload
from delphos.soap.relay import ABANDONED, TERMINAL, Relay, remote_events
from delphos.soap.schemas import SoapRequest

log = logging.getLogger("delphos.service")

# The counter's children, looked up once (`labels()` takes a lock on every call).
_HITS = CACHE_LOOKUPS.labels("hit")
_MISSES = CACHE_LOOKUPS.labels("miss")

_ERRORS: dict[str, type[DelphosError]] = {
    "PROCESSING_TIMEOUT": ProcessingTimeout,
    "PROCESSING_ERROR": ProcessingError,
    "PARSE_ERROR": ParseError,
    "INTERNAL_ERROR": InternalError,
}


# The cross-worker generation lock lives this long unless its holder refreshes it (every
# third of it): a dead worker's lock frees within seconds, a live one keeps it.
LOCK_SECONDS = 6.0
_RunKey = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class Answer:
    """Either a cached note (known in full up front) or the event stream of a generation."""

    # A hit's `soap` event as one-line UTF-8 JSON ("cached": true): the SSE route writes
    # it out as it is, the hot path never decodes and re-encodes the note.
    cached_json: bytes | None
    stream: AsyncIterator[Event] | None

    @property
    def cached(self) -> dict[str, Any] | None:
        if self.cached_json is None:
            return None
        value: dict[str, Any] = json.loads(self.cached_json)
        return value

    async def events(self) -> AsyncIterator[Event]:
        cached = self.cached
        if cached is not None:
            yield "status", {"type": "cache_hit"}
            yield "soap", cached
            return
        assert self.stream is not None
        # Close the inner stream the moment this one closes (a client leaving), not when
        # the garbage collector finalises it: departures must count at once.
        async with aclosing(self.stream) as stream:  # type: ignore[type-var]
            async for event in stream:
                yield event


@dataclass(eq=False)
class _Run:
    """One generation in this process, who listens to it, and its cross-worker lock."""

    key: _RunKey
    generation: Generation
    lock: tuple[str, str] | None  # (name, token) while other workers may be waiting
    listeners: int = 0
    # Every section was complete in the last partial (or the final event is out): the note
    # is finished (cached, persisted) even if every client leaves before the closing brace.
    settled: bool = False
    abandoned: bool = False
    keeper: asyncio.Task[None] | None = None

    @property
    def joinable(self) -> bool:
        return not self.abandoned and self.generation.joinable

    def progress(self, name: str, data: dict[str, Any]) -> None:
        if name in TERMINAL or (name == "partial" and all(data["completeness"].values())):
            self.settled = True


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
        self._inflight: dict[_RunKey, _Run] = {}
        self._closing = False
        # A relayed event stream outlives its generation by this long (late readers).
        self._stream_ttl = settings.generation_timeout + 60.0
        self.engine_calls = 0  # generations started (for tests, benchmarks and /health)
        self._warm = False

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    async def answer(self, tenant: TenantRef, req: SoapRequest) -> Answer:
        """Cache check first; otherwise join (or start, or follow) the generation."""
        # The text's SHA-256 is only needed past a miss: a hit compares the text itself
        # (hashing a long consultation costs more than the whole rest of a hit).
        hit = await self._cache_check(tenant, req)
        (_MISSES if hit is None else _HITS).inc()
        if hit is not None:
            return Answer(cached_json=hit, stream=None)
        return await self._join_or_start(tenant, req, text_hash(req.accumulated_text))

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

    async def _cache_check(self, tenant: TenantRef, req: SoapRequest) -> bytes | None:
        """The `soap` event of a hit as one-line UTF-8 JSON, or None."""
        limit = self._settings.cache_word_delta
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
        same = stored.text_hash == text_hash(req.accumulated_text)
        if (
            not same
            and word_delta(
                normalise_words(source_text), normalise_words(req.accumulated_text), limit
            )
            >= limit
        ):
            return None
        payload = soap_payload(
            stored.note,
            cached=True,
            is_degraded=stored.is_degraded,
            engine=stored.engine,
            model=stored.model,
            consultation_id=req.consultation_id,
            text_hash=stored.text_hash,
            generation_ms=stored.latency_ms,
            usage=stored.usage,
        )
        payload["evidence"] = stored.evidence
        if stored.evidence is None:
            # A version stored before evidence existed is checked now, once: kept with it.
            payload["evidence"] = await evidence_json(source_text, stored.note.sections())
            if payload["evidence"] is not None and stored.id is not None:
                try:
                    await store_evidence(self._db, stored.id, payload["evidence"])
                except Exception as exc:
                    log.warning("storing evidence failed: %s", type(exc).__name__)
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
        return hit_json(encode_payload(payload))

    # --- generation: join, start, or follow another worker's ------------------------------

    async def _join_or_start(self, tenant: TenantRef, req: SoapRequest, digest: str) -> Answer:
        key: _RunKey = (tenant.id, req.consultation_id, digest)
        run = self._joinable(key)
        if run is not None:
            return Answer(cached_json=None, stream=self._listen(run))
        blank = not req.accumulated_text.strip()
        if blank or not self._cache.shared:
            # One process (or nothing to generate): in-process coalescing is the whole story.
            return Answer(cached_json=None, stream=self._listen(self._start(tenant, req, digest)))
        name = f"gen:{tenant.id}:{req.consultation_id}:{digest}"
        while True:
            token = await self._cache.try_lock(name, LOCK_SECONDS)
            # A request of this process may have started the run while Redis answered.
            run = self._joinable(key)
            if run is not None:
                if token is not None:
                    await self._cache.unlock(name, token)
                return Answer(cached_json=None, stream=self._listen(run))
            if token is not None:
                run = self._start(tenant, req, digest, lock=(name, token))
                return Answer(cached_json=None, stream=self._listen(run))
            owner = await self._cache.lock_owner(name)
            if owner is not None:
                stream = self._follow(tenant, req, digest, name, owner)
                return Answer(cached_json=None, stream=stream)
            # The holder let go between the two calls: it has probably cached the note.
            hit = await self._cache_check(tenant, req)
            if hit is not None:
                return Answer(cached_json=hit, stream=None)

    def _joinable(self, key: _RunKey) -> _Run | None:
        run = self._inflight.get(key)
        return run if run is not None and run.joinable else None

    def _start(
        self,
        tenant: TenantRef,
        req: SoapRequest,
        digest: str,
        lock: tuple[str, str] | None = None,
    ) -> _Run:
        key: _RunKey = (tenant.id, req.consultation_id, digest)
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
        run = _Run(key=key, generation=generation, lock=lock)
        self._inflight[key] = run
        if not blank:
            self.engine_calls += 1
            GENERATIONS_STARTED.inc()
        generation.start()
        # The keeper counts as a subscriber from now, not from when its task first runs.
        generation.reserve()
        run.keeper = asyncio.get_running_loop().create_task(
            self._keep(run), name="delphos-generation-keeper"
        )

        def forget(_: object) -> None:
            if self._inflight.get(key) is run:
                del self._inflight[key]

        generation.add_done_callback(forget)
        return run

    def _listen(self, run: _Run) -> AsyncIterator[Event]:
        """One client's view of a local run; the last client to leave early abandons it.

        The client counts from the moment it joins, not from its first read: otherwise the
        only other client leaving in between would abandon the run under it."""
        run.listeners += 1
        return self._listening(run)

    async def _listening(self, run: _Run) -> AsyncIterator[Event]:
        try:
            # aclosing: the subscription ends the moment this client does, not whenever the
            # garbage collector gets to it (subscribe() is a generator typed as an iterator).
            async with aclosing(run.generation.subscribe()) as events:  # type: ignore[type-var]
                async for name, data in events:
                    run.progress(name, data)
                    yield name, data
        finally:
            run.listeners -= 1
            if run.listeners == 0:
                self._abandon_if_unfinished(run)

    def _abandon_if_unfinished(self, run: _Run) -> None:
        if run.generation.done.is_set() or run.settled or run.abandoned:
            return
        # Nobody is listening and the note is not complete: stop the keeper, the last
        # subscriber, and the generation cancels its engine at once (no tokens burnt for
        # nobody). A new request starts afresh.
        run.abandoned = True
        if self._inflight.get(run.key) is run:
            del self._inflight[run.key]
        if run.keeper is not None:
            run.keeper.cancel()

    async def _keep(self, run: _Run) -> None:
        """Subscribed for the whole run, so the note is finished once its sections are
        complete even with no client left; with Redis it also publishes every event for
        the workers waiting on the lock, and keeps the lock alive meanwhile."""
        heartbeat: asyncio.Task[None] | None = None
        if run.lock is not None:
            heartbeat = asyncio.get_running_loop().create_task(self._heartbeat(*run.lock))
        finished = False
        try:
            # subscribe() is an async generator typed as an iterator, hence the ignore.
            async with aclosing(run.generation.subscribe(reserved=True)) as events:  # type: ignore[type-var]
                async for name, data in events:
                    run.progress(name, data)
                    if run.lock is None:
                        continue
                    if name == "error" and self._closing:
                        break  # shutting down: the waiting workers generate themselves
                    await self._cache.publish_event(run.lock[1], name, data, self._stream_ttl)
                    finished = finished or name in TERMINAL
        finally:
            if heartbeat is not None:
                heartbeat.cancel()
            if run.lock is not None:
                lock_name, token = run.lock
                if not finished:
                    await self._cache.publish_event(token, ABANDONED, {}, self._stream_ttl)
                await self._cache.unlock(lock_name, token)

    async def _heartbeat(self, name: str, token: str) -> None:
        while True:
            await asyncio.sleep(LOCK_SECONDS / 3)
            if not await self._cache.extend_lock(name, token, LOCK_SECONDS):
                # Expired (a stalled loop, a Redis restart): another worker may generate
                # too. Nothing to undo; this run still finishes its own note.
                log.info("generation lock lost; another worker may generate the same note")
                return

    async def _follow(
        self, tenant: TenantRef, req: SoapRequest, digest: str, name: str, owner: str
    ) -> AsyncIterator[Event]:
        """Relay another worker's generation from its first event; take over if it dies."""
        relay = Relay()
        yield "status", {"type": "generating"}
        relay.accept("status", {"type": "generating"})
        holder: str | None = owner
        while True:
            if holder is not None:
                async for event in remote_events(self._cache, name, holder):
                    out = relay.accept(*event)
                    if out is not None:
                        yield out
                if relay.finished:
                    return
            # The holder stopped without a note (left, died, or Redis is unreadable).
            token = await self._cache.try_lock(name, LOCK_SECONDS)
            if token is None:
                holder = await self._cache.lock_owner(name)
                continue
            run = self._joinable((tenant.id, req.consultation_id, digest))
            if run is not None:
                await self._cache.unlock(name, token)
            else:
                log.info("generation holder gone without a note; generating here")
                run = self._start(tenant, req, digest, lock=(name, token))
            async for event in self._listen(run):
                out = relay.accept(*event)
                if out is not None:
                    yield out
            return

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
        record = NoteRecord(
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
            tenant_name=tenant.name,
            usage=result.usage,
            evidence=payload.get("evidence"),
        )
        if result.is_degraded:
            # A degraded note (LLM failed, local rules completed it) is stored but not
            # cached: the next request for this text should get the real engine again.
            await self._recorder.record(record)
            return
        # Both before the `soap` event goes out, side by side: the answer waits for the
        # slower of the two round trips, not their sum. The cache never raises (a Redis
        # outage is a dropped store), nor does the recorder (an outage is a spooled note).
        entry = CacheEntry(text_hash=digest, text=text, soap_hash=note.soap_hash, payload=payload)
        await asyncio.gather(
            self._recorder.record(record), self._cache.store(tenant.id, consultation_id, entry)
        )
        self._freeze_once_warm()

    def _freeze_once_warm(self) -> None:
        """After the first note, move what it loaded (engine and evidence lexicons: about a
        million objects) out of the cyclic collector's reach, as startup does for its own.

        Left in, every full collection walked them: ~450 ms with the loop stopped, several
        times in 8 s of cache hits at 50 connections (the hit benchmark's p99). A one-off,
        and O(1): whatever request objects are alive right now are frozen with it."""
        if not self._warm:
            self._warm = True
            gc.freeze()

    async def aclose(self) -> None:
        self._closing = True
        for run in list(self._inflight.values()):
            await run.generation.cancel()
            if run.keeper is not None:
                await asyncio.gather(run.keeper, return_exceptions=True)
