"""One live transcription: audio frames in, interim and final transcripts out.

The WebSocket layer owns one ``TranscriptionSession`` per connection and calls, in order
(never concurrently)::

    session = TranscriptionSession.from_settings(transcriber, settings)
    events = await session.feed(pcm_bytes, sample_rate)   # per audio frame
    events = await session.stop()                           # at the end: last final
    session.audio_wav_bytes()                               # optional recording
    await session.aclose()                                  # instead of stop() on abort

and sends each returned event (``event.to_dict()`` is JSON-ready).

Turn detection runs on audio time, not wall time: the same audio gives the same turns
however fast it is fed. Back-pressure is natural: ``feed`` returns once the frame is
processed, which includes waiting for a turn's final transcription, so a client that sends
faster than the server can transcribe is slowed down by its own socket. Interims run in
the background (one at a time per session) and are returned by a later ``feed``; interim
work that cannot start at once is dropped (and reported with ``Lagging``), never queued.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from delphos.settings import Settings
from delphos.stt.audio import (
    TARGET_RATE,
    Float32Array,
    Resampler,
    as_float32,
    check_sample_rate,
    float_to_pcm16,
    pcm16_from_bytes,
    wav_bytes,
)
from delphos.stt.background import EarlyFinal, Interim, discard
from delphos.stt.events import Lagging, SessionClosed, SttEvent, Transcript, looks_complete
from delphos.stt.flags import turn_flags
from delphos.stt.segmenter import Boundary, StreamingVad, TurnPolicy, TurnSegmenter
from delphos.stt.transcriber import Transcriber

# Interims start once the turn has this much speech: shorter previews are mostly noise.
_MIN_INTERIM_SPEECH_MS = 500


def _utc_now() -> datetime:
    return datetime.now(UTC)


class TranscriptionSession:
    def __init__(
        self,
        transcriber: Transcriber,
        *,
        language: str | None = None,
        min_turn_silence_ms: int = 800,
        max_turn_silence_ms: int = 2000,
        sample_rate: int = TARGET_RATE,
        interim_interval_s: float = 1.0,
        keep_audio_s: float = 0.0,
        policy: TurnPolicy | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        """``sample_rate`` is the default rate of fed audio; ``keep_audio_s`` caps the
        recording kept for ``audio_wav_bytes`` (0 = keep none)."""
        base = policy or TurnPolicy()
        self.policy = replace(
            base,
            min_turn_silence_ms=min_turn_silence_ms,
            max_turn_silence_ms=max_turn_silence_ms,
            prefetch_silence_ms=min(base.prefetch_silence_ms, min_turn_silence_ms),
            end_pad_ms=min(base.end_pad_ms, base.prefetch_silence_ms, min_turn_silence_ms),
        )
        if interim_interval_s <= 0:
            raise ValueError("interim_interval_s must be positive")
        self.transcriber = transcriber
        self.language = language
        self.sample_rate = check_sample_rate(sample_rate)
        self.interim_interval_s = interim_interval_s
        self._clock = clock
        self.started_at = clock()
        self._resampler = Resampler(self.sample_rate)
        self._vad = StreamingVad()
        self._segmenter = TurnSegmenter(self.policy)
        self._turn_index = 0
        self._interims_shown = 0  # in the current turn
        self._last_interim_text = ""
        self._last_interim_at = 0  # turn samples at the last interim attempt
        self._interim: Interim | None = None  # the preview being transcribed
        self._early = EarlyFinal(transcriber, language)
        self._dropped = 0
        self._max_audio_bytes = int(max(0.0, keep_audio_s) * TARGET_RATE) * 2
        self._audio = bytearray()
        self._samples_in = 0  # 16 kHz samples received
        self._busy = False
        self._closed = False

    @classmethod
    def from_settings(
        cls, transcriber: Transcriber, settings: Settings, *, language: str | None = None
    ) -> TranscriptionSession:
        """A session with the configured turn rule, interim rate and recording cap."""
        return cls(
            transcriber,
            language=language,
            min_turn_silence_ms=settings.stt_min_turn_silence_ms,
            max_turn_silence_ms=settings.stt_max_turn_silence_ms,
            interim_interval_s=settings.stt_interim_interval_s,
            keep_audio_s=settings.stt_max_session_audio_s if settings.audio_retention else 0.0,
        )

    # --- public ---------------------------------------------------------------------------

    @property
    def turns(self) -> int:
        """Finals produced so far."""
        return self._turn_index

    @property
    def dropped_interims(self) -> int:
        return self._dropped

    @property
    def audio_seconds(self) -> float:
        """Audio received so far (at 16 kHz)."""
        return self._samples_in / TARGET_RATE

    @property
    def recorded_seconds(self) -> float:
        return len(self._audio) / 2 / TARGET_RATE

    @property
    def closed(self) -> bool:
        return self._closed

    async def feed(
        self, pcm: bytes | bytearray | memoryview | NDArray[Any], sample_rate: int | None = None
    ) -> list[SttEvent]:
        """Process one frame: s16le mono bytes, or an int16 / float ([-1, 1]) array.

        Raises ``InvalidAudio`` (a ``ValueError``) for an unusable frame; the session stays
        usable. Returns the events the frame produced, in order.
        """
        rate = check_sample_rate(self.sample_rate if sample_rate is None else sample_rate)
        if isinstance(pcm, bytes | bytearray | memoryview):
            samples = as_float32(pcm16_from_bytes(pcm, rate), rate)
        else:
            samples = as_float32(pcm, rate)
        with self._exclusive():
            if rate != self._resampler.in_rate:
                # The client changed rate mid-stream: finish the old filter's tail first.
                tail = self._resampler.flush()
                self._resampler = Resampler(rate)
                events = await self._consume(tail)
            else:
                events = []
            events += await self._consume(self._resampler.process(samples))
            return events

    async def stop(self) -> list[SttEvent]:
        """Flush the stream: the last turn's final (if any). Idempotent."""
        if self._closed:
            return []
        with self._exclusive():
            events = await self._consume(self._resampler.flush())
            self._closed = True
            seg = self._segmenter
            if seg.in_turn:
                voiced = seg.voiced_ms >= self.policy.min_speech_ms
                events += await self._finish_turn(await self._early.text(seg) if voiced else "")
            self._early.cancel()
            self._cancel_interim()
            return events

    async def aclose(self) -> None:
        """Abandon the session (client gone): no final, background work cancelled.

        Call it once no ``feed``/``stop`` is running (e.g. after cancelling the task that
        ran them).
        """
        self._closed = True
        self._early.cancel()
        self._cancel_interim()

    def audio_wav_bytes(self) -> bytes:
        """The kept session audio as a 16 kHz mono 16-bit WAV file."""
        return wav_bytes(np.frombuffer(bytes(self._audio), dtype="<i2").astype(np.int16))

    # --- processing -----------------------------------------------------------------------

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        if self._closed:
            raise SessionClosed("transcription session is stopped")
        if self._busy:
            raise RuntimeError("feed() and stop() must not run concurrently on one session")
        self._busy = True
        try:
            yield
        finally:
            self._busy = False

    async def _consume(self, audio: Float32Array) -> list[SttEvent]:
        if audio.size == 0:
            return []
        self._samples_in += audio.shape[0]
        self._record(audio)
        windows, probs = self._vad.process(audio)
        events: list[SttEvent] = []
        seg = self._segmenter
        for window, prob in zip(windows, probs, strict=True):
            for boundary in self._prioritise(seg.step(window, float(prob))):
                events += await self._on_boundary(boundary)
            if self._interim_due():
                # One preview at a time per session. In real time the previous one finished
                # long ago; fed faster than real time, waiting here keeps results
                # independent of the feeding speed.
                events += await self._interim_result(wait=True)
                self._start_interim()
        return events + await self._interim_result(wait=False)

    @staticmethod
    def _prioritise(boundaries: list[Boundary]) -> list[Boundary]:
        # A cut ends the turn: the other boundaries of the same window no longer matter.
        return [Boundary.FORCE_CUT] if Boundary.FORCE_CUT in boundaries else boundaries

    async def _on_boundary(self, boundary: Boundary) -> list[SttEvent]:
        seg = self._segmenter
        if boundary is Boundary.TURN_START:
            self._interims_shown = 0
            self._last_interim_text = ""
            self._last_interim_at = 0
            return []
        if boundary is Boundary.PREFETCH:
            if seg.voiced_ms >= self.policy.min_speech_ms:
                # Only on idle capacity: speech may resume and the work be thrown away.
                self._early.start(seg, speculative=True)
            return []
        if boundary is Boundary.RESUMED:
            self._early.cancel()
            return []
        if boundary is Boundary.MIN_SILENCE:
            if seg.voiced_ms < self.policy.min_speech_ms:
                return await self._finish_turn("")  # a click or a cough
            text = await self._early.text(seg)
            if not text or looks_complete(text):
                return await self._finish_turn(text)
            return []  # incomplete sentence: wait up to max_turn_silence_ms
        if boundary is Boundary.MAX_SILENCE:
            text = await self._early.text(seg) if seg.voiced_ms >= self.policy.min_speech_ms else ""
            return await self._finish_turn(text)
        # FORCE_CUT: mid-speech, a preview of the old turn would only confuse the client.
        self._early.cancel()
        self._cancel_interim()
        return await self._finish_turn(await self._final_text(seg.turn_audio()))

    def _interim_due(self) -> bool:
        seg = self._segmenter
        return (
            seg.speaking
            and seg.voiced_ms >= _MIN_INTERIM_SPEECH_MS
            and seg.turn_samples - self._last_interim_at >= self.interim_interval_s * TARGET_RATE
        )

    def _start_interim(self) -> None:
        seg = self._segmenter
        self._last_interim_at = seg.turn_samples
        task = asyncio.create_task(
            self.transcriber.transcribe(seg.turn_audio(), final=False, language=self.language)
        )
        self._interim = Interim(task=task, end_sample=seg.position)

    async def _interim_result(self, *, wait: bool) -> list[SttEvent]:
        """The running preview's events, once it is done (or at once with ``wait``)."""
        interim = self._interim
        if interim is None or not (wait or interim.task.done()):
            return []
        self._interim = None
        text = await interim.task
        if text is None:
            self._dropped += 1
            return [Lagging(dropped_interims=self._dropped, timestamp=self._clock())]
        if not text or text == self._last_interim_text:
            return []
        self._last_interim_text = text
        self._interims_shown += 1
        return [self._transcript(text, is_final=False, end_sample=interim.end_sample)]

    def _cancel_interim(self) -> None:
        if self._interim is not None:
            discard(self._interim.task)
            self._interim = None

    async def _final_text(self, audio: Float32Array) -> str:
        text = await self.transcriber.transcribe(audio, final=True, language=self.language)
        return text or ""

    async def _finish_turn(self, text: str) -> list[SttEvent]:
        seg = self._segmenter
        # The turn's last preview goes out before its final if it is ready; if not, the
        # final supersedes it (waiting for it would only delay the final).
        events: list[SttEvent] = await self._interim_result(wait=False)
        self._cancel_interim()
        # A turn that showed interims always gets its final, even empty, so the client
        # can clear the preview; a turn that showed nothing and says nothing stays silent.
        if text or self._interims_shown:
            events.append(
                self._transcript(
                    text, is_final=True, end_sample=seg.speech_end, flags=turn_flags(text)
                )
            )
            self._turn_index += 1
        self._early.cancel()
        seg.end_turn()
        self._interims_shown = 0
        self._last_interim_text = ""
        return events

    def _transcript(
        self, text: str, *, is_final: bool, end_sample: int, flags: list[str] | None = None
    ) -> Transcript:
        start_s = self._segmenter.turn_start / TARGET_RATE
        end_s = end_sample / TARGET_RATE
        return Transcript(
            text=text,
            is_final=is_final,
            turn_index=self._turn_index,
            timestamp=self._clock(),
            started_at=self.started_at + timedelta(seconds=start_s),
            ended_at=self.started_at + timedelta(seconds=end_s),
            start_s=start_s,
            end_s=end_s,
            flags=tuple(flags or ()),
        )

    def _record(self, audio: Float32Array) -> None:
        room = self._max_audio_bytes - len(self._audio)
        if room <= 0:
            return
        pcm = float_to_pcm16(audio[: room // 2])
        self._audio += pcm.astype("<i2").tobytes()
