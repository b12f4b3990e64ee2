"""The ``local`` engine: Delphos's offline, deterministic default (no network, no key).

It sorts the clinician's own sentences into a SOAP note (``local_note.build_note``) and
streams the note's JSON text in small chunks, through the same incremental parser the LLM
engines feed, so the local path exercises the real streaming code.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator

from delphos.engines.base import EngineRejected
from delphos.engines.local_note import build_note as _build_note
from delphos.records import SoapNote


class LocalEngine:
    name = "local"
    # Versions the rules: a change in what notes the rules produce bumps the number.
    model = "delphos-local-5"

    def __init__(self, chunk_chars: int = 24) -> None:
        if chunk_chars < 1:
            raise ValueError("chunk_chars must be at least 1")
        self.chunk_chars = chunk_chars

    def build_note(self, transcript: str) -> SoapNote:
        """The note for ``transcript``: pure and deterministic, byte for byte."""
        return _build_note(transcript)

    async def stream(self, transcript: str) -> AsyncGenerator[str, None]:
        # The rules are CPU-bound (a 100,000-character text takes a while): a thread keeps
        # the event loop, /health and every other client answering meanwhile, and lets the
        # generation deadline fire.
        note = await asyncio.to_thread(self.build_note, transcript)
        text = json.dumps(note.sections(), ensure_ascii=False)
        size = self.chunk_chars
        # Cut anywhere, even inside an escape, as an LLM's deltas are: the parser must cope.
        for offset in range(0, len(text), size):
            yield text[offset : offset + size]
            await asyncio.sleep(0)

    async def complete(self, system: str, user: str, max_tokens: int = 1024) -> str:
        raise EngineRejected("the local engine does not answer free-form prompts")

    async def aclose(self) -> None:
        return None
