"""Real speech for the speech-to-text tests and benchmark, synthesised with espeak-ng.

espeak-ng writes 22 050 Hz WAV; it is brought to 16 or 48 kHz with Delphos's own resampler
(what the service ships), not with sox. Without the binary, tests skip locally and fail
with ``CI=true`` (the Makefile installs it on fresh machines).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from functools import lru_cache

import numpy as np
import pytest
from numpy.typing import NDArray

from delphos.stt.audio import float_to_pcm16, read_wav, resample

Int16Array = NDArray[np.int16]

ESPEAK = "espeak-ng"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Sentences of a consultation (one clinical statement each).
CHEST_PAIN = "The patient reports chest pain for two days."
BLOOD_PRESSURE = "Blood pressure is one hundred twenty over eighty."
ASPIRIN = "Prescribe aspirin eighty one milligrams daily."
CONSULTATION = f"{CHEST_PAIN} {BLOOD_PRESSURE} {ASPIRIN}"


def espeak_available() -> bool:
    return shutil.which(ESPEAK) is not None


def require_espeak() -> None:
    if espeak_available():
        return
    message = f"{ESPEAK} is not installed (apt-get install espeak-ng)"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: real speech is required)")
    pytest.skip(message)


@lru_cache(maxsize=32)
def _synthesise(text: str, voice: str, words_per_minute: int) -> tuple[bytes, int]:
    result = subprocess.run(
        [ESPEAK, "-v", voice, "-s", str(words_per_minute), "--stdout", text],
        check=True,
        capture_output=True,
        timeout=60,
    )
    samples, rate = read_wav(result.stdout)
    return samples.tobytes(), rate


def speech(
    text: str, sample_rate: int = 16_000, *, voice: str = "en-us", words_per_minute: int = 150
) -> Int16Array:
    """``text`` spoken by espeak-ng, as int16 PCM at ``sample_rate``."""
    raw, native_rate = _synthesise(text, voice, words_per_minute)
    native = np.frombuffer(raw, dtype=np.int16)
    if native_rate == sample_rate:
        return native.copy()
    audio = resample(native.astype(np.float32) / 32768.0, native_rate, sample_rate)
    return float_to_pcm16(audio)


def as_float(pcm: Int16Array) -> NDArray[np.float32]:
    """int16 PCM as float32 in [-1, 1] (what the transcriber takes)."""
    return (pcm.astype(np.float32) / 32768.0).astype(np.float32)


def silence(seconds: float, sample_rate: int = 16_000) -> Int16Array:
    return np.zeros(int(seconds * sample_rate), dtype=np.int16)


def white_noise(
    seconds: float, sample_rate: int = 16_000, *, level: float = 0.1, seed: int = 7
) -> Int16Array:
    """Gaussian white noise with RMS ``level`` (full scale = 1.0)."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(int(seconds * sample_rate)) * level
    return float_to_pcm16(noise.astype(np.float32))


def join(*parts: Int16Array) -> Int16Array:
    return np.concatenate(parts).astype(np.int16)


def frames(pcm: Int16Array, sample_rate: int = 16_000, *, ms: int = 100) -> Iterator[bytes]:
    """``pcm`` as s16le byte frames of ``ms`` milliseconds (what a browser client sends)."""
    step = sample_rate * ms // 1000
    for start in range(0, pcm.shape[0], step):
        yield pcm[start : start + step].astype("<i2").tobytes()
