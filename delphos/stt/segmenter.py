"""Turn segmentation on 16 kHz audio, in audio time (never wall time).

``StreamingVad`` runs faster-whisper's bundled Silero VAD (an ONNX file inside the
faster_whisper package: no download) over 32 ms windows, carrying the recurrent state and
context between chunks so a stream in pieces scores exactly like the whole.

``TurnSegmenter`` is a pure state machine over (window, speech probability). A window is
speech when Silero says so *and* it carries some energy (Silero alone can fire on
near-digital-silence dither). It reports boundaries; the session decides what to do with
them, because one decision needs the text: a turn ends at ``min_turn_silence_ms`` of
silence when its transcript looks complete (ends with . ? !) and at
``max_turn_silence_ms`` in any case (the AssemblyAI medical-scribe defaults, 800/2000 ms).
A turn is also cut near Whisper's 30 s window, preferably at a short pause.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

SAMPLE_RATE = 16_000
WINDOW = 512  # Silero's frame at 16 kHz
WINDOW_MS = WINDOW * 1000 // SAMPLE_RATE  # 32
_CONTEXT = 64  # samples of the previous window Silero v5+/v6 sees with each window

Float32Array = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class TurnPolicy:
    min_turn_silence_ms: int = 800
    max_turn_silence_ms: int = 2000
    # Silence after which the turn's final transcription starts speculatively, so it is
    # usually ready when min_turn_silence_ms is reached (discarded if speech resumes).
    prefetch_silence_ms: int = 320
    # Whisper decodes 30 s windows: a monologue is cut into turns no longer than this …
    max_turn_s: float = 29.0
    # … preferably at the first pause of soft_cut_pause_ms once the turn is this long:
    # tiny/base models start skipping words past ~15 s of continuous speech in one window.
    soft_cut_after_s: float = 12.0
    soft_cut_pause_ms: int = 160
    vad_threshold: float = 0.5
    # Hysteresis: once speaking, a window stays speech down to this probability.
    vad_neg_threshold: float = 0.35
    # Windows quieter than this are silence whatever the VAD says.
    min_level_dbfs: float = -60.0
    # Audio kept before the first speech window: the VAD fires a little late on onsets.
    preroll_ms: int = 320
    # Turns with less voiced audio than this are clicks and coughs: never transcribed.
    min_speech_ms: int = 200
    # Silence kept after the last speech window in the audio sent to Whisper.
    end_pad_ms: int = 256

    def __post_init__(self) -> None:
        if not 0 < self.min_turn_silence_ms <= self.max_turn_silence_ms:
            raise ValueError("need 0 < min_turn_silence_ms <= max_turn_silence_ms")
        if not self.end_pad_ms <= self.prefetch_silence_ms <= self.min_turn_silence_ms:
            raise ValueError("need end_pad_ms <= prefetch_silence_ms <= min_turn_silence_ms")
        if not 1.0 <= self.max_turn_s <= 30.0:
            raise ValueError("max_turn_s must be within 1..30 s (Whisper's window)")


class Boundary(enum.Enum):
    TURN_START = "turn_start"
    PREFETCH = "prefetch"  # silence reached prefetch_silence_ms: start the final early
    RESUMED = "resumed"  # speech came back after PREFETCH: drop the early final
    MIN_SILENCE = "min_silence"
    MAX_SILENCE = "max_silence"
    FORCE_CUT = "force_cut"  # turn too long for one Whisper window


class StreamingVad:
    """Silero speech probability per 32 ms window of a 16 kHz stream."""

    def __init__(self) -> None:
        from faster_whisper.vad import get_vad_model

        # faster-whisper caches one ONNX session per process (lru_cache); ONNX Runtime
        # sessions are safe to run from several threads. Each stream keeps its own state.
        self._session: Any = get_vad_model().session
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(_CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    @property
    def pending(self) -> Float32Array:
        """Samples not yet scored (fewer than one window)."""
        return self._pending

    def process(self, audio: Float32Array) -> tuple[Float32Array, Float32Array]:
        """(windows of shape (n, 512), speech probabilities of shape (n,))."""
        data = np.concatenate([self._pending, np.asarray(audio, dtype=np.float32)])
        count = data.shape[0] // WINDOW
        self._pending = data[count * WINDOW :].copy()
        if count == 0:
            empty = np.zeros(0, dtype=np.float32)
            return empty.reshape(0, WINDOW), empty
        windows = data[: count * WINDOW].reshape(count, WINDOW)
        previous = np.concatenate([self._context[None, :], windows[:-1, -_CONTEXT:]], axis=0)
        batch = np.ascontiguousarray(np.concatenate([previous, windows], axis=1))
        probs, self._h, self._c = self._session.run(
            None, {"input": batch, "h": self._h, "c": self._c}
        )
        self._context = windows[-1, -_CONTEXT:].copy()
        return windows, np.asarray(probs, dtype=np.float32).reshape(-1)


def level_dbfs(window: Float32Array) -> float:
    rms = float(np.sqrt(np.mean(np.square(window, dtype=np.float64))))
    return 20.0 * float(np.log10(max(rms, 1e-6)))


class TurnSegmenter:
    """Groups 32 ms windows into turns and reports turn boundaries."""

    def __init__(self, policy: TurnPolicy | None = None) -> None:
        self.policy = policy or TurnPolicy()
        p = self.policy
        self._preroll: deque[Float32Array] = deque(maxlen=max(1, p.preroll_ms // WINDOW_MS))
        self._windows: list[Float32Array] = []
        self._position = 0  # samples seen (absolute, session time)
        self._in_turn = False
        self._speaking = False
        self._turn_start = 0
        self._voiced = 0  # speech windows in the turn
        self._silence = 0  # trailing silence windows
        self._last_speech_end = 0

    # --- state ----------------------------------------------------------------------------

    @property
    def in_turn(self) -> bool:
        return self._in_turn

    @property
    def speaking(self) -> bool:
        """The last window was speech."""
        return self._in_turn and self._silence == 0

    @property
    def position(self) -> int:
        """Samples processed since the stream began."""
        return self._position

    @property
    def turn_start(self) -> int:
        """Session sample where the current turn starts (pre-roll included)."""
        return self._turn_start

    @property
    def speech_end(self) -> int:
        """Session sample just after the turn's last speech window."""
        return self._last_speech_end

    @property
    def turn_samples(self) -> int:
        return len(self._windows) * WINDOW

    @property
    def voiced_ms(self) -> int:
        return self._voiced * WINDOW_MS

    @property
    def silence_ms(self) -> int:
        return self._silence * WINDOW_MS

    def turn_audio(self) -> Float32Array:
        if not self._windows:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(self._windows)

    def speech_audio(self) -> Float32Array:
        """The turn up to its last speech plus ``end_pad_ms`` (trailing silence trimmed)."""
        pad = self.policy.end_pad_ms * SAMPLE_RATE // 1000
        end = self._last_speech_end - self._turn_start + pad
        return self.turn_audio()[:end]

    # --- transitions ----------------------------------------------------------------------

    def step(self, window: Float32Array, prob: float) -> list[Boundary]:
        p = self.policy
        threshold = p.vad_neg_threshold if self._speaking else p.vad_threshold
        speech = prob >= threshold and level_dbfs(window) >= p.min_level_dbfs
        self._speaking = speech
        start = self._position
        self._position += WINDOW

        if not self._in_turn:
            if not speech:
                self._preroll.append(window)
                return []
            self._windows = [*self._preroll, window]
            self._turn_start = start - len(self._preroll) * WINDOW
            self._preroll.clear()
            self._in_turn = True
            self._voiced = 1
            self._silence = 0
            self._last_speech_end = start + WINDOW
            return [Boundary.TURN_START]

        self._windows.append(window)
        events: list[Boundary] = []
        if speech:
            if self.silence_ms >= p.prefetch_silence_ms:
                events.append(Boundary.RESUMED)
            self._silence = 0
            self._voiced += 1
            self._last_speech_end = start + WINDOW
        else:
            self._silence += 1
            now, before = self.silence_ms, self.silence_ms - WINDOW_MS
            for limit, boundary in (
                (p.prefetch_silence_ms, Boundary.PREFETCH),
                (p.min_turn_silence_ms, Boundary.MIN_SILENCE),
                (p.max_turn_silence_ms, Boundary.MAX_SILENCE),
            ):
                if before < limit <= now:
                    events.append(boundary)

        length_s = self.turn_samples / SAMPLE_RATE
        if length_s >= p.max_turn_s or (
            length_s >= p.soft_cut_after_s
            and self.silence_ms - WINDOW_MS < p.soft_cut_pause_ms <= self.silence_ms
        ):
            events.append(Boundary.FORCE_CUT)
        return events

    def end_turn(self) -> None:
        """Close the current turn; its trailing silence becomes the next turn's pre-roll."""
        trailing = self._windows[len(self._windows) - self._silence :] if self._silence else []
        self._preroll.clear()
        self._preroll.extend(trailing)
        self._windows = []
        self._in_turn = False
        self._speaking = False
        self._voiced = 0
        self._silence = 0
