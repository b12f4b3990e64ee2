"""Bounded, prioritised transcription off the event loop.

Inference runs in a thread pool sized to ``max_concurrency`` slots. Two kinds of job share
the slots:

* **final** jobs (a turn's last word) wait for a slot and are served first;
* **interim** jobs (the live preview) never wait: they start only when no final is running
  or waiting (finals get the CPU as well as the slots) and leave one slot free for finals
  (when there are two or more); otherwise the interim is dropped and ``transcribe``
  returns ``None``.

So there is never a backlog of stale previews: under load the preview gets sparser while
finals keep flowing. Slot accounting is thread-safe and loop-agnostic (one transcriber can
serve several event loops, e.g. a shared instance in tests).
"""

from __future__ import annotations

import asyncio
import copy
import math
import threading
import time
from collections import deque
from concurrent.futures import Future as ThreadFuture
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from delphos.settings import Settings
from delphos.stt.guards import (
    MAX_COMPRESSION_RATIO,
    SegmentScore,
    clean_text,
    segment_is_reliable,
    speech_level_dbfs,
)
from delphos.stt.model import SpeechModel, get_model

SAMPLE_RATE = 16_000
DEFAULT_CONTEXT_MARGIN_S = 5.0  # see DecodeOptions
# A segment ending this far past the audio is a decoding artefact.
_TIMESTAMP_SLACK_S = 1.0


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    """faster-whisper options, chosen for speed and against hallucination."""

    beam_size: int = 1  # greedy: ~2x faster than beam 5, small loss on clear speech
    # Temperature 0 only: deterministic, and a failed decode costs one pass, not six.
    # Unreliable output is dropped by the guards instead of re-sampled.
    temperature: float = 0.0
    # Each turn stands alone: conditioning on earlier text propagates hallucinations.
    condition_on_previous_text: bool = False
    vad_filter: bool = True
    vad_min_silence_ms: int = 500
    vad_speech_pad_ms: int = 200
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    # Encode only the audio plus this margin instead of Whisper's full 30 s window: the
    # encoder is most of the cost, and this is ~3x faster on 3-10 s turns. A final whose
    # short-window decode looks doubtful is decoded again over the full window (see _run).
    # Measured on 91 ACI-bench turns (451 s, espeak-ng voice): word error rate 0.195 in
    # half the time vs 0.199 with the full window; 6 turns fell back. Margins of 3 s and
    # less lose words, at 1 s the decoder loops. None = the full window.
    final_context_margin_s: float | None = DEFAULT_CONTEXT_MARGIN_S
    interim_context_margin_s: float | None = DEFAULT_CONTEXT_MARGIN_S

    def kwargs(self, language: str | None) -> dict[str, Any]:
        return {
            "language": language,
            "beam_size": self.beam_size,
            "best_of": 1,
            "temperature": self.temperature,
            "condition_on_previous_text": self.condition_on_previous_text,
            "vad_filter": self.vad_filter,
            "vad_parameters": {
                "min_silence_duration_ms": self.vad_min_silence_ms,
                "speech_pad_ms": self.vad_speech_pad_ms,
            },
            "no_speech_threshold": self.no_speech_threshold,
            "log_prob_threshold": self.log_prob_threshold,
            "compression_ratio_threshold": self.compression_ratio_threshold,
        }


@dataclass(frozen=True, slots=True)
class TranscriptionResult:
    text: str  # "" when the guards found nothing credible
    audio_seconds: float
    elapsed_seconds: float  # inference time in the worker thread
    segments: tuple[SegmentScore, ...] = field(default=(), repr=False)


_FRAMES_PER_SECOND = 100  # Whisper's log-mel frames
_MIN_CONTEXT_FRAMES = 300
_FULL_CONTEXT_FRAMES = 3000


def context_frames(content_frames: int, margin_s: float) -> int:
    """Encoder frames for ``content_frames`` of audio: content + margin, whole seconds."""
    wanted = content_frames + margin_s * _FRAMES_PER_SECOND
    rounded = math.ceil(wanted / _FRAMES_PER_SECOND) * _FRAMES_PER_SECOND
    return int(min(_FULL_CONTEXT_FRAMES, max(_MIN_CONTEXT_FRAMES, rounded)))


def short_context_model(whisper: Any, margin_s: float) -> Any:
    """A view of ``whisper`` (same weights) whose encoder skips the window's padding.

    faster-whisper pads every window's features to 30 s with zeros and encodes them all;
    CTranslate2 accepts shorter inputs, so the trailing all-zero frames beyond the margin
    are cut before encoding.
    """
    from faster_whisper import WhisperModel

    if not isinstance(whisper, WhisperModel):
        return whisper  # a wrapper (tests) or another implementation: leave it alone
    full_encode = whisper.encode
    view = copy.copy(whisper)

    def encode(features: NDArray[np.float32]) -> Any:
        columns = np.flatnonzero(np.any(features.reshape(-1, features.shape[-1]) != 0, axis=0))
        content = int(columns[-1]) + 1 if columns.size else 1
        return full_encode(features[..., : context_frames(content, margin_s)])

    view.encode = encode
    return view


def _view(whisper: Any, margin_s: float | None) -> Any:
    return whisper if margin_s is None else short_context_model(whisper, margin_s)


class _Waiter:
    """A final job waiting for a slot; resolved from whichever thread frees one."""

    __slots__ = ("future", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()

    def grant(self) -> bool:
        """Wake the waiter; False when its event loop is gone (the slot goes elsewhere)."""

        def _set() -> None:
            if not self.future.done():
                self.future.set_result(None)

        try:
            self.loop.call_soon_threadsafe(_set)
        except RuntimeError:  # loop closed
            return False
        return True


class Transcriber:
    def __init__(
        self,
        model: SpeechModel,
        max_concurrency: int | None = None,
        *,
        options: DecodeOptions | None = None,
    ) -> None:
        self.model = model
        self.max_concurrency = max(1, max_concurrency or model.workers)
        self.options = options or DecodeOptions()
        self._final_whisper = _view(model.whisper, self.options.final_context_margin_s)
        self._interim_whisper = _view(model.whisper, self.options.interim_context_margin_s)
        self._executor = ThreadPoolExecutor(
            max_workers=self.max_concurrency, thread_name_prefix="delphos-stt"
        )
        self.interim_slots = max(1, self.max_concurrency - 1)
        self._lock = threading.Lock()
        self._busy = 0
        self._busy_interims = 0
        self._waiting: deque[_Waiter] = deque()
        self.context_fallbacks = 0  # finals decoded twice (see _run)
        self.dropped_interims = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> Transcriber:
        """The process's shared model behind a transcriber configured by ``settings``."""
        margin = None if settings.stt_full_window else DEFAULT_CONTEXT_MARGIN_S
        options = DecodeOptions(final_context_margin_s=margin, interim_context_margin_s=margin)
        return cls(get_model(settings), settings.stt_max_concurrency, options=options)

    @property
    def busy_slots(self) -> int:
        with self._lock:
            return self._busy

    @property
    def waiting_finals(self) -> int:
        with self._lock:
            return len(self._waiting)

    async def transcribe(
        self,
        audio: NDArray[np.float32],
        *,
        final: bool,
        language: str | None = None,
        speculative: bool = False,
    ) -> str | None:
        """Text of 16 kHz mono ``audio``; ``None`` when the job was dropped for load.

        ``speculative`` finals (work that may be thrown away) run only on a free slot:
        like interims they are dropped rather than queued.
        """
        result = await self.transcribe_detailed(
            audio, final=final, language=language, speculative=speculative
        )
        return None if result is None else result.text

    async def transcribe_detailed(
        self,
        audio: NDArray[np.float32],
        *,
        final: bool,
        language: str | None = None,
        speculative: bool = False,
    ) -> TranscriptionResult | None:
        if not await self._acquire(final, wait=not speculative):
            return None
        try:
            job: ThreadFuture[TranscriptionResult] = self._executor.submit(
                self._run, np.ascontiguousarray(audio, dtype=np.float32), language, final
            )
        except BaseException:
            self._release(final)
            raise
        # The slot is freed when the thread finishes, not when the caller stops waiting:
        # a cancelled caller cannot cancel CTranslate2 mid-inference.
        job.add_done_callback(lambda _: self._release(final))
        return await asyncio.wrap_future(job)

    def shutdown(self) -> None:
        """Stop the worker threads (after the running jobs finish)."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    # --- slots ----------------------------------------------------------------------------

    async def _acquire(self, final: bool, *, wait: bool = True) -> bool:
        with self._lock:
            if not final:
                finals_running = self._busy - self._busy_interims
                if (
                    self._busy < self.max_concurrency
                    and self._busy_interims < self.interim_slots
                    and not self._waiting
                    and not finals_running
                ):
                    self._busy += 1
                    self._busy_interims += 1
                    return True
                self.dropped_interims += 1
                return False
            if self._busy < self.max_concurrency and not self._waiting:
                self._busy += 1
                return True
            if not wait:
                return False
            waiter = _Waiter(asyncio.get_running_loop())
            self._waiting.append(waiter)
        try:
            await waiter.future
        except asyncio.CancelledError:
            with self._lock:
                still_queued = waiter in self._waiting
                if still_queued:
                    self._waiting.remove(waiter)
            if not still_queued:
                # The slot was handed to us as we were cancelled: pass it on.
                self._release(final=True)
            raise
        return True

    def _release(self, final: bool) -> None:
        with self._lock:
            if not final:
                self._busy_interims -= 1
            # Hand the slot straight to the oldest waiting final (busy count unchanged), so
            # no interim can slip in between.
            while self._waiting:
                if self._waiting.popleft().grant():
                    return
            self._busy -= 1

    # --- inference (worker thread) --------------------------------------------------------

    def _run(
        self, audio: NDArray[np.float32], language: str | None, final: bool
    ) -> TranscriptionResult:
        started = time.perf_counter()
        audio_seconds = audio.shape[0] / SAMPLE_RATE
        if audio.shape[0] == 0:
            return TranscriptionResult("", 0.0, 0.0)
        if language is not None and not self.model.multilingual:
            language = "en"
        if final:
            scores, doubtful = self._decode(self._final_whisper, audio, language)
            if doubtful and self._final_whisper is not self.model.whisper:
                # Context fallback: the short window struggled (low confidence, a loop or
                # timestamps past the audio); decode once more over Whisper's full window,
                # as the model was trained. Rare (~7% of turns), and only for finals.
                scores, _ = self._decode(self.model.whisper, audio, language)
                with self._lock:
                    self.context_fallbacks += 1
        else:
            scores, _ = self._decode(self._interim_whisper, audio, language)
        return TranscriptionResult(
            text=clean_text(scores, speech_level_dbfs(audio)),
            audio_seconds=audio_seconds,
            elapsed_seconds=time.perf_counter() - started,
            segments=scores,
        )

    def _decode(
        self, whisper: Any, audio: NDArray[np.float32], language: str | None
    ) -> tuple[tuple[SegmentScore, ...], bool]:
        """(segment scores, whether the decode looks doubtful)."""
        segments, _info = whisper.transcribe(audio, **self.options.kwargs(language))
        scores: list[SegmentScore] = []
        doubtful = False
        limit = audio.shape[0] / SAMPLE_RATE + _TIMESTAMP_SLACK_S
        for segment in segments:
            score = SegmentScore(
                text=str(segment.text),
                no_speech_prob=float(segment.no_speech_prob),
                avg_logprob=float(segment.avg_logprob),
                compression_ratio=float(segment.compression_ratio),
            )
            doubtful = (
                doubtful
                or not segment_is_reliable(score)
                or score.compression_ratio > MAX_COMPRESSION_RATIO
                or float(segment.end) > limit
            )
            scores.append(score)
        return tuple(scores), doubtful
