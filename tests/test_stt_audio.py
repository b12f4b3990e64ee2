"""Audio input: validation messages, resampling quality and streaming continuity."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from numpy.typing import NDArray

from delphos.stt.audio import (
    MAX_FRAME_SECONDS,
    InvalidAudio,
    Resampler,
    as_float32,
    check_sample_rate,
    pcm16_from_base64,
    pcm16_from_bytes,
    read_wav,
    resample,
    wav_bytes,
)


def tone(frequency: float, rate: int, seconds: float = 1.0) -> NDArray[np.float32]:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def level_db(signal: NDArray[np.float32]) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(signal, dtype=np.float64))) + 1e-12))


def test_pcm_bytes_decode_little_endian() -> None:
    raw = np.array([0, 1, -1, 32767, -32768], dtype="<i2").tobytes()
    assert pcm16_from_bytes(raw, 16_000).tolist() == [0, 1, -1, 32767, -32768]


def test_odd_byte_count_is_rejected_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="audio frame has an odd number of bytes"):
        pcm16_from_bytes(b"\x00\x01\x02", 16_000)


def test_invalid_base64_is_rejected() -> None:
    with pytest.raises(InvalidAudio, match="not valid base64"):
        pcm16_from_base64("AAE=!!not base64", 16_000)
    good = base64.b64encode(np.array([5, -5], dtype="<i2").tobytes()).decode()
    assert pcm16_from_base64(good, 16_000).tolist() == [5, -5]


@pytest.mark.parametrize("rate", [0, -16_000, 7_999, 192_001, 1_000_000])
def test_sample_rates_outside_8_to_192_khz_are_rejected(rate: int) -> None:
    with pytest.raises(InvalidAudio, match=r"sample rate .* not supported") as caught:
        check_sample_rate(rate)
    assert caught.value.code == "INVALID_AUDIO"
    assert caught.value.status_code == 422


@pytest.mark.parametrize("rate", [44_100.5, "48000", True, None])
def test_non_integer_sample_rates_are_rejected(rate: object) -> None:
    with pytest.raises(InvalidAudio, match="integer number of hertz"):
        check_sample_rate(rate)


def test_frames_longer_than_the_cap_are_rejected() -> None:
    samples = int(MAX_FRAME_SECONDS * 48_000) + 2
    with pytest.raises(InvalidAudio, match="too long"):
        pcm16_from_bytes(bytes(samples * 2), 48_000)
    pcm16_from_bytes(bytes(int(MAX_FRAME_SECONDS * 48_000) * 2), 48_000)


def test_arrays_must_be_mono_and_finite() -> None:
    with pytest.raises(InvalidAudio, match="mono"):
        as_float32(np.zeros((100, 2), dtype=np.int16), 16_000)
    with pytest.raises(InvalidAudio, match="finite"):
        as_float32(np.array([0.0, np.nan], dtype=np.float32), 16_000)


@pytest.mark.parametrize("rate", [8_000, 11_025, 22_050, 44_100, 48_000, 96_000, 192_000])
def test_speech_band_tone_keeps_its_level_and_length(rate: int) -> None:
    signal = tone(1_000, rate)
    out = resample(signal, rate)
    assert out.shape[0] == 16_000
    middle = out[1_000:-1_000]
    assert abs(level_db(middle) - level_db(signal)) < 0.05
    # Still a 1 kHz tone: the spectrum peaks at bin 1000 of a 1 s, 16 kHz signal.
    assert int(np.argmax(np.abs(np.fft.rfft(out)))) == 1_000


@pytest.mark.parametrize(("rate", "frequency"), [(48_000, 12_000), (44_100, 9_000)])
def test_frequencies_above_8_khz_are_filtered_not_aliased(rate: int, frequency: int) -> None:
    # Naive decimation would fold these into the speech band at full level.
    out = resample(tone(frequency, rate), rate)
    assert level_db(out[1_000:-1_000]) - level_db(tone(frequency, rate)) < -60


@pytest.mark.parametrize("rate", [44_100, 48_000, 8_000])
def test_chunked_stream_equals_one_shot_resampling(rate: int) -> None:
    rng = np.random.default_rng(3)
    signal = (rng.standard_normal(rate * 2) * 0.2).astype(np.float32)
    whole = resample(signal, rate)
    resampler = Resampler(rate)
    parts: list[NDArray[np.float32]] = []
    start = 0
    while start < signal.shape[0]:
        size = int(rng.integers(1, rate // 8))
        parts.append(resampler.process(signal[start : start + size]))
        start += size
    parts.append(resampler.flush())
    streamed = np.concatenate(parts)
    # Same samples: no discontinuity (click) where the chunks meet.
    assert streamed.shape == whole.shape
    np.testing.assert_allclose(streamed, whole, atol=1e-6)


def test_16_khz_input_passes_through_unchanged() -> None:
    signal = tone(440, 16_000, 0.5)
    np.testing.assert_array_equal(resample(signal, 16_000), signal)


def test_wav_round_trip() -> None:
    pcm = np.array([0, 1000, -1000, 32767], dtype=np.int16)
    samples, rate = read_wav(wav_bytes(pcm, 16_000))
    assert rate == 16_000
    assert samples.tolist() == pcm.tolist()
    with pytest.raises(InvalidAudio, match="WAV"):
        read_wav(b"RIFF not really")
