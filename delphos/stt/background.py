"""A session's background transcriptions: live previews, and the turn's early final.

The final transcription of a turn starts early, at PREFETCH silence, so that the final
is ready (or nearly) when the turn ends; it is thrown away if speech resumes. Work whose
result is no longer wanted is cancelled, never awaited.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from delphos.stt.segmenter import TurnSegmenter
from delphos.stt.transcriber import Transcriber


def discard(task: asyncio.Task[Any]) -> None:
    """Cancel background work whose result is no longer wanted."""
    if not task.done():
        task.cancel()
    elif not task.cancelled():
        task.exception()  # retrieved: a failure of unwanted work is not worth a log line


@dataclass(slots=True)
class Interim:
    """A preview transcription running in the background (never blocks ``feed``)."""

    task: asyncio.Task[str | None]
    end_sample: int  # session sample at the end of the previewed audio


@dataclass(slots=True)
class _Candidate:
    """A turn's final transcription started early (at PREFETCH silence)."""

    task: asyncio.Task[str | None]  # None: speculative and no slot was free
    speech_end: int  # the segmenter's speech_end when it started
    text: str | None = field(default=None)


class EarlyFinal:
    """At most one early final transcription of the current turn's speech."""

    def __init__(self, transcriber: Transcriber, language: str | None) -> None:
        self._transcriber = transcriber
        self._language = language
        self._candidate: _Candidate | None = None

    def start(self, seg: TurnSegmenter, *, speculative: bool = False) -> None:
        self.cancel()
        task = asyncio.create_task(
            self._transcriber.transcribe(
                seg.speech_audio(), final=True, language=self._language, speculative=speculative
            )
        )
        self._candidate = _Candidate(task=task, speech_end=seg.speech_end)

    def cancel(self) -> None:
        if self._candidate is not None:
            discard(self._candidate.task)
            self._candidate = None

    async def text(self, seg: TurnSegmenter) -> str:
        """The early final if it still covers the turn's speech; else transcribe now."""
        candidate = self._candidate
        if candidate is not None and candidate.speech_end == seg.speech_end:
            if candidate.text is None:
                candidate.text = await candidate.task
            if candidate.text is not None:
                return candidate.text
        # No early final, a stale one, or a speculative one that found no free slot.
        self.start(seg)
        candidate = self._candidate
        assert candidate is not None
        candidate.text = await candidate.task or ""
        return candidate.text
