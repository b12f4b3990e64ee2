"""Turn boundaries in audio time, and the streaming VAD on real speech."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from delphos.stt.segmenter import (
    WINDOW,
    WINDOW_MS,
    Boundary,
    StreamingVad,
    TurnPolicy,
    TurnSegmenter,
)
from tests.support.speech import CHEST_PAIN, as_float, join, silence, speech, white_noise

LOUD = np.full(WINDOW, 0.1, dtype=np.float32)  # -20 dBFS
QUIET = np.full(WINDOW, 0.0005, dtype=np.float32)  # -66 dBFS


def run(
    segmenter: TurnSegmenter, pattern: list[tuple[float, int]], window: NDArray[np.float32] = LOUD
) -> list[tuple[int, Boundary]]:
    """Feed (probability, milliseconds) runs; return (ms since start, boundary) pairs."""
    events: list[tuple[int, Boundary]] = []
    elapsed = 0
    for prob, ms in pattern:
        for _ in range(ms // WINDOW_MS):
            elapsed += WINDOW_MS
            events += [(elapsed, b) for b in segmenter.step(window, prob)]
    return events


def test_silence_thresholds_fire_in_order_at_their_audio_time() -> None:
    segmenter = TurnSegmenter(TurnPolicy(min_turn_silence_ms=800, max_turn_silence_ms=2000))
    events = run(segmenter, [(0.0, 320), (0.9, 1_600), (0.0, 2_560)])
    speech_end = 320 + 1_600
    assert [b for _, b in events] == [
        Boundary.TURN_START,
        Boundary.PREFETCH,
        Boundary.MIN_SILENCE,
        Boundary.MAX_SILENCE,
    ]
    times = {b: t - speech_end for t, b in events}
    assert times[Boundary.MIN_SILENCE] == 800
    assert 2_000 <= times[Boundary.MAX_SILENCE] < 2_000 + WINDOW_MS
    # Pre-roll: the turn starts before the first speech window.
    assert segmenter.turn_start == 0
    assert segmenter.speech_end == speech_end * 16


def test_short_pause_does_not_end_the_turn_and_reports_resumption() -> None:
    segmenter = TurnSegmenter()
    events = run(segmenter, [(0.9, 960), (0.0, 480), (0.9, 960), (0.0, 160)])
    assert [b for _, b in events] == [Boundary.TURN_START, Boundary.PREFETCH, Boundary.RESUMED]
    assert segmenter.in_turn
    assert segmenter.voiced_ms == 960 + 960


def test_hysteresis_keeps_a_dip_in_probability_inside_speech() -> None:
    segmenter = TurnSegmenter()
    run(segmenter, [(0.9, 320), (0.4, 640)])
    assert segmenter.speaking  # 0.4 is above the 0.35 release threshold once speaking
    run(segmenter, [(0.3, 32)])
    assert not segmenter.speaking


def test_quiet_audio_is_never_speech_whatever_the_vad_says() -> None:
    segmenter = TurnSegmenter()
    assert run(segmenter, [(0.99, 2_000)], window=QUIET) == []
    assert not segmenter.in_turn


def test_continuous_speech_is_cut_at_the_maximum_turn_length() -> None:
    segmenter = TurnSegmenter(TurnPolicy(max_turn_s=10.0, soft_cut_after_s=10.0))
    events = run(segmenter, [(0.9, 12_000)])
    cut_at = [t for t, b in events if b is Boundary.FORCE_CUT]
    assert cut_at
    assert 10_000 <= cut_at[0] < 10_000 + WINDOW_MS
    assert segmenter.turn_samples >= 10 * 16_000
    segmenter.end_turn()
    # Speech goes on: a new turn opens at once, without replaying the cut audio.
    assert segmenter.step(LOUD, 0.9) == [Boundary.TURN_START]
    assert segmenter.turn_samples == WINDOW


def test_long_turn_is_cut_at_a_short_pause_before_the_hard_limit() -> None:
    segmenter = TurnSegmenter(TurnPolicy(max_turn_s=20.0, soft_cut_after_s=8.0))
    events = run(segmenter, [(0.9, 8_992), (0.0, 320)])
    cut_at = [t for t, b in events if b is Boundary.FORCE_CUT]
    assert cut_at == [8_992 + 160]


def test_policy_rejects_inconsistent_silences() -> None:
    with pytest.raises(ValueError, match="min_turn_silence_ms"):
        TurnPolicy(min_turn_silence_ms=2_000, max_turn_silence_ms=800)


def test_streaming_vad_scores_chunks_like_the_whole_stream(espeak: None) -> None:
    audio = as_float(join(silence(0.5), speech(CHEST_PAIN), silence(0.5)))
    whole_windows, whole = StreamingVad().process(audio)
    vad = StreamingVad()
    parts = [vad.process(audio[i : i + 1_600])[1] for i in range(0, audio.shape[0], 1_600)]
    np.testing.assert_allclose(np.concatenate(parts), whole, atol=1e-5)
    # Real speech is recognised as speech, the leading silence is not.
    assert float(whole[: 8_000 // WINDOW - 1].max()) < 0.5
    assert float(np.mean(whole > 0.5)) > 0.4
    assert whole_windows.shape == (whole.shape[0], WINDOW)


def test_vad_finds_no_speech_in_white_noise() -> None:
    audio = as_float(white_noise(3.0))
    _, probs = StreamingVad().process(audio)
    assert float(probs.max()) < 0.5
