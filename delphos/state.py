"""Everything a request needs, created in the app's lifespan and closed on shutdown."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from delphos.auth import Authenticator
from delphos.cache import build_cache
from delphos.cache.store import NoteCache
from delphos.coordination import Coordinator, build_coordinator
from delphos.db.database import Database, private_dir
from delphos.db.recorder import NoteRecorder
from delphos.db.repository import ensure_tenant, tenant_id_for
from delphos.engines.base import Engine
from delphos.engines.factory import build_engine
from delphos.engines.local import LocalEngine
from delphos.evidence import EvidenceRunner
from delphos.evidence.runner import MAX_STATEMENTS, POSTED_WAITING_PER_PROCESS
from delphos.live.state import LiveState
from delphos.pace import LoopLag, PartialPace
from delphos.records import TenantRef
from delphos.settings import Settings
from delphos.soap.service import NoteService
from delphos.sse_response import ServerExit

log = logging.getLogger("delphos.state")


@dataclass
class AppState:
    settings: Settings
    db: Database
    cache: NoteCache
    coordinator: Coordinator
    engine: Engine
    recorder: NoteRecorder
    notes: NoteService
    auth: Authenticator
    bootstrap_tenant: TenantRef
    live: LiveState
    # The evidence of the notes it writes, and of notes posted to /v1/notes/verify: apart,
    # so that a posted note never delays a clinician's `soap` event (runner.py).
    evidence: EvidenceRunner
    posted_evidence: EvidenceRunner
    # uvicorn's shutdown, watched once for every open stream.
    server_exit: ServerExit
    # The event loop's lateness, pacing the periodic partials (delphos.pace).
    loop_lag: LoopLag

    @classmethod
    async def create(cls, settings: Settings, *, engine: Engine | None = None) -> AppState:
        private_dir(settings.data_dir)
        engine = engine or build_engine(settings)
        db = Database(
            settings.resolved_database_url,
            pool_size=settings.db_pool_size,
            pool_timeout=settings.db_pool_timeout,
        )
        cache = build_cache(settings)
        coordinator = build_coordinator(settings)
        recorder = NoteRecorder(
            db,
            settings.data_dir / "note-backlog.jsonl",
            write_timeout=settings.note_write_timeout,
        )
        await recorder.start()
        tenant = TenantRef(
            id=tenant_id_for(settings.bootstrap_tenant), name=settings.bootstrap_tenant
        )
        if settings.api_keys:
            try:
                tenant = await ensure_tenant(db, settings.bootstrap_tenant)
            except Exception as exc:  # the database may come up later; notes are spooled
                log.warning("could not register the bootstrap tenant: %s", type(exc).__name__)
        local = LocalEngine()
        evidence = EvidenceRunner(settings.evidence_processes, max_statements=MAX_STATEMENTS)
        pace = PartialPace(1.0 / settings.partials_per_second)
        notes = NoteService(
            settings=settings,
            engine=engine,
            cache=cache,
            coordinator=coordinator,
            db=db,
            recorder=recorder,
            fallback=local.build_note if settings.fallback_to_local else None,
            evidence=evidence,
            pace=pace,
        )
        auth = Authenticator(
            db=db,
            bootstrap_keys=settings.api_keys,
            bootstrap_tenant=tenant,
            cache_seconds=settings.key_cache_seconds,
        )
        return cls(
            settings=settings,
            db=db,
            cache=cache,
            coordinator=coordinator,
            engine=engine,
            recorder=recorder,
            notes=notes,
            auth=auth,
            bootstrap_tenant=tenant,
            live=LiveState(settings, coordinator),
            evidence=evidence,
            posted_evidence=EvidenceRunner(
                settings.evidence_processes,
                max_waiting=POSTED_WAITING_PER_PROCESS * max(1, settings.evidence_processes),
                max_statements=MAX_STATEMENTS,
            ),
            server_exit=ServerExit(),
            loop_lag=LoopLag(pace),
        )

    async def aclose(self) -> None:
        # Order matters: stop generating, flush notes, then close the clients they use.
        await self.live.aclose()
        await self.notes.aclose()
        await self.evidence.aclose()
        await self.posted_evidence.aclose()
        await self.recorder.aclose()
        await self.engine.aclose()
        await self.cache.aclose()
        await self.coordinator.aclose()
        await self.db.aclose()
        await self.server_exit.aclose()
        self.loop_lag.close()
