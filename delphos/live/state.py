"""Live-transcription resources: the shared speech model (loaded on first use, off the
event loop), browser tokens, and background work that outlives a vanished client."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Coroutine
from typing import Any, Protocol

from delphos.coordination import Coordinator
from delphos.engines.base import Engine
from delphos.live.tokens import TokenIssuer
from delphos.scope import Services
from delphos.settings import Settings
from delphos.soap.service import NoteService
from delphos.stt.transcriber import Transcriber

log = logging.getLogger("delphos.live")


class LiveState:
    def __init__(self, settings: Settings, coordinator: Coordinator) -> None:
        self.settings = settings
        secret = (
            settings.token_secret.encode() if settings.token_secret else secrets.token_bytes(32)
        )
        self.tokens = TokenIssuer(secret, settings.token_ttl_seconds, coordinator)
        self.audio_seconds = settings.stt_max_session_audio_s if settings.audio_retention else 0.0
        self._transcriber: Transcriber | None = None
        self._lock = asyncio.Lock()
        self._background: set[asyncio.Task[Any]] = set()

    async def speech(self) -> Transcriber:
        """The process's transcriber; the model loads once, in a thread, on first use."""
        async with self._lock:
            if self._transcriber is None:
                self._transcriber = await asyncio.to_thread(
                    Transcriber.from_settings, self.settings
                )
            return self._transcriber

    def detach(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def aclose(self) -> None:
        if self._background:
            # Let a vanished client's last note and turns finish (bounded).
            await asyncio.wait(self._background, timeout=30)
        for task in self._background:
            task.cancel()
        if self._transcriber is not None:
            self._transcriber.shutdown()


class LiveServices(Services, Protocol):
    """What the live handlers read from the app's state."""

    live: LiveState
    notes: NoteService
    engine: Engine
