"""The progressive-SOAP pipeline, as its diagram reads:

request → cache decision → engine stream → incremental parser → SSE events → persistence.

`NoteService.events()` yields the contract's events for one request: `status` first, then
`partial`s, then exactly one `soap` or `error`. Transport (SSE or JSON) is the route's job.
Each step has its module: the cache decision (`cache_decision`), one engine run turned into
events (`generation`, `parser`, `replay`), the sharing of a run among this process's
listeners (`sharing`), across workers (`crossworker`, `relay`), and persistence
(`persistence`). This module only decides, per request, which of them answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass

from delphos.cache.store import NoteCache
from delphos.coordination import Coordinator
from delphos.db.database import Database
from delphos.db.recorder import NoteRecorder
from delphos.engines.base import Engine
from delphos.errors import InternalError
from delphos.evidence import EvidenceRunner
from delphos.metrics import CACHE_LOOKUPS, GENERATIONS_STARTED
from delphos.pace import PartialPace
from delphos.records import TenantRef, text_hash
from delphos.settings import Settings
from delphos.soap.blank import BlankEngine
from delphos.soap.cache_decision import CacheDecision
from delphos.soap.crossworker import CrossWorker, lock_name
from delphos.soap.events import CACHE_HIT, NoteEvent, NoteSource, error_of
from delphos.soap.generation import Fallback, Generation, GenerationResult
from delphos.soap.persistence import NotePersistence
from delphos.soap.schemas import ErrorEvent, SoapEvent, SoapRequest
from delphos.soap.sharing import Run, RunKey, Runs

log = logging.getLogger("delphos.service")

# The counter's children, looked up once (`labels()` takes a lock on every call).
_HITS = CACHE_LOOKUPS.labels("hit")
_MISSES = CACHE_LOOKUPS.labels("miss")


@dataclass(frozen=True, slots=True)
class Answer:
    """Either a cached note (known in full up front) or the event stream of a generation."""

    # A hit's `soap` event as one-line UTF-8 JSON ("cached": true): the SSE route writes
    # it out as it is, the hot path never decodes and re-encodes the note.
    cached_json: bytes | None
    stream: AsyncGenerator[NoteEvent, None] | None

    def events(self) -> AsyncGenerator[NoteEvent, None]:
        """The answer's events: a hit's two, or the generation's stream itself. Not a
        generator wrapping it: every event of every open stream would pass through one
        more layer, and a client leaving closes the stream it holds directly."""
        if self.cached_json is not None:
            return _hit_events(self.cached_json)
        assert self.stream is not None
        return self.stream


async def _hit_events(cached_json: bytes) -> AsyncGenerator[NoteEvent, None]:
    # Decoded only for a caller that needs the record (the live session); the SSE and
    # JSON routes write `cached_json` out as it is.
    yield CACHE_HIT
    yield SoapEvent.model_validate_json(cached_json)


class NoteService:
    def __init__(
        self,
        *,
        settings: Settings,
        engine: Engine,
        cache: NoteCache,
        coordinator: Coordinator,
        db: Database,
        recorder: NoteRecorder,
        fallback: Fallback | None,
        evidence: EvidenceRunner,
        pace: PartialPace,
    ) -> None:
        self._settings = settings
        self._pace = pace
        self._evidence = evidence
        self._engine = engine
        self._blank = BlankEngine()
        self._coordinator = coordinator
        self._fallback = fallback
        self._decision = CacheDecision(settings=settings, cache=cache, db=db, evidence=evidence)
        self._persistence = NotePersistence(cache=cache, recorder=recorder)
        self._runs = Runs()
        self._workers = CrossWorker(
            coordinator=coordinator,
            runs=self._runs,
            stream_ttl=settings.generation_timeout + 60.0,
        )
        self.engine_calls = 0  # generations started (for tests, benchmarks and /health)

    @property
    def inflight(self) -> int:
        return len(self._runs)

    async def answer(self, tenant: TenantRef, req: SoapRequest) -> Answer:
        """Cache decision first; otherwise join (or start, or follow) the generation."""
        hit = await self._decision.check(tenant, req)
        (_MISSES if hit is None else _HITS).inc()
        if hit is not None:
            return Answer(cached_json=hit, stream=None)
        return await self._join_or_start(tenant, req, text_hash(req.accumulated_text))

    async def events(self, tenant: TenantRef, req: SoapRequest) -> AsyncGenerator[NoteEvent, None]:
        answer = await self.answer(tenant, req)
        # Closed with this generator, not when the garbage collector gets to it: a caller
        # that stops early leaves the run at once.
        async with aclosing(answer.events()) as events:
            async for event in events:
                yield event

    async def note_json(self, tenant: TenantRef, req: SoapRequest) -> bytes:
        """The final `soap` event's JSON, or the error mapped to its HTTP status and code.
        A hit is its stored JSON as it is: never decoded and re-encoded."""
        answer = await self.answer(tenant, req)
        if answer.cached_json is not None:
            return answer.cached_json
        async with aclosing(answer.events()) as events:
            async for event in events:
                if isinstance(event, SoapEvent):
                    return event.data_json
                if isinstance(event, ErrorEvent):
                    raise error_of(event)
        raise InternalError()

    # --- generation: join, start, or follow another worker's ------------------------------

    async def _join_or_start(self, tenant: TenantRef, req: SoapRequest, digest: str) -> Answer:
        key: RunKey = (tenant.id, req.consultation_id, digest)
        run = self._runs.joinable(key)
        if run is not None:
            return Answer(cached_json=None, stream=self._runs.listen(run))
        blank = not req.accumulated_text.strip()
        if blank or not self._coordinator.shared:
            # One process (or nothing to generate): in-process coalescing is the whole story.
            run = self._start(tenant, req, digest)
            return Answer(cached_json=None, stream=self._runs.listen(run))
        name = lock_name(tenant.id, req.consultation_id, digest)
        while True:
            token = await self._workers.try_lock(name)
            # A request of this process may have started the run while Redis answered.
            run = self._runs.joinable(key)
            if run is not None:
                if token is not None:
                    await self._coordinator.unlock(name, token)
                return Answer(cached_json=None, stream=self._runs.listen(run))
            if token is not None:
                run = self._start(tenant, req, digest, lock=(name, token))
                return Answer(cached_json=None, stream=self._runs.listen(run))
            owner = await self._coordinator.lock_owner(name)
            if owner is not None:

                async def take_over(token: str, name: str = name) -> Run:
                    return await self._take_over(tenant, req, digest, name, token)

                stream = self._workers.follow(name, owner, take_over)
                return Answer(cached_json=None, stream=stream)
            # The holder let go between the two calls: it has probably cached the note.
            hit = await self._decision.check(tenant, req)
            if hit is not None:
                return Answer(cached_json=hit, stream=None)

    async def _take_over(
        self, tenant: TenantRef, req: SoapRequest, digest: str, name: str, token: str
    ) -> Run:
        """The lock is ours after its holder stopped without a note: answer from this
        process's run if one started meanwhile, else generate here."""
        run = self._runs.joinable((tenant.id, req.consultation_id, digest))
        if run is not None:
            await self._coordinator.unlock(name, token)
            return run
        log.info("generation holder gone without a note; generating here")
        return self._start(tenant, req, digest, lock=(name, token))

    def _start(
        self,
        tenant: TenantRef,
        req: SoapRequest,
        digest: str,
        lock: tuple[str, str] | None = None,
    ) -> Run:
        key: RunKey = (tenant.id, req.consultation_id, digest)
        blank = not req.accumulated_text.strip()
        # Blank text never reaches an engine: an empty note, never an invented visit.
        engine: Engine = self._blank if blank else self._engine
        text = req.accumulated_text

        async def on_complete(event: SoapEvent, result: GenerationResult) -> None:
            await self._persistence.complete(
                tenant, req.consultation_id, text, digest, event, result
            )

        generation = Generation(
            engine=engine,
            text=text,
            timeout=self._settings.generation_timeout,
            pace=self._pace,
            source=NoteSource(engine.name, engine.model, req.consultation_id, digest),
            on_complete=on_complete,
            fallback=None if blank else self._fallback,
            evidence=self._evidence,
        )
        run = Run(key=key, generation=generation, lock=lock)
        if not blank:
            self.engine_calls += 1
            GENERATIONS_STARTED.inc()
        generation.start()
        self._runs.add(run)
        if lock is not None:
            run.keeper = asyncio.get_running_loop().create_task(
                self._workers.keep(run, *lock), name="delphos-generation-keeper"
            )
        return run

    async def aclose(self) -> None:
        self._workers.closing = True
        for run in self._runs.all():
            await run.generation.cancel()
            if run.keeper is not None:
                await asyncio.gather(run.keeper, return_exceptions=True)
