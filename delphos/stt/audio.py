"""Audio in: PCM decoding, validation and resampling to Whisper's 16 kHz.

Browsers capture at 44.1 or 48 kHz; Whisper and Silero VAD want 16 kHz mono float32. The
resampler is a streaming polyphase windowed-sinc filter in plain numpy (scipy is not a
dependency): it keeps the tail of the previous chunk as filter history, so feeding a stream
in 100 ms pieces gives the same samples as resampling it whole — no clicks at chunk
boundaries.

Error messages describe the frame, never its content.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import wave
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from delphos.errors import ValidationFailed

TARGET_RATE = 16_000
MIN_RATE = 8_000
MAX_RATE = 192_000
# One message carries at most this much audio: bounds the work (and memory) of one call.
MAX_FRAME_SECONDS = 10.0

Float32Array = NDArray[np.float32]
Int16Array = NDArray[np.int16]

# Filter design. 24 zero crossings of the lower rate on each side and a Kaiser window
# (beta 8.6, about 90 dB side lobes) keep aliasing far below what Whisper notices; the
# cut-off sits a little under the output Nyquist frequency so the transition band does not
# fold back into speech.
_ZERO_CROSSINGS = 24
_KAISER_BETA = 8.6
_ROLLOFF = 0.92
# Outputs computed per vectorised block: bounds the temporary (outputs x taps) matrix.
_BLOCK = 4096


class InvalidAudio(ValidationFailed, ValueError):
    """An audio frame or its format is unusable (also a ``ValueError`` for plain callers)."""

    code = "INVALID_AUDIO"
    default_message = "The audio frame is invalid"


def check_sample_rate(sample_rate: object) -> int:
    """The sample rate as an int, or ``InvalidAudio`` when it is outside 8-192 kHz."""
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int | float):
        raise InvalidAudio("sample rate must be an integer number of hertz")
    if isinstance(sample_rate, float) and not sample_rate.is_integer():
        raise InvalidAudio("sample rate must be an integer number of hertz")
    rate = int(sample_rate)
    if not MIN_RATE <= rate <= MAX_RATE:
        raise InvalidAudio(
            f"sample rate {rate} Hz is not supported (expected {MIN_RATE}-{MAX_RATE} Hz)"
        )
    return rate


def _check_length(samples: int, sample_rate: int, max_seconds: float) -> None:
    if samples > max_seconds * sample_rate:
        raise InvalidAudio(
            f"audio frame is too long ({samples / sample_rate:.1f} s; "
            f"at most {max_seconds:g} s per frame)"
        )


def pcm16_from_bytes(
    data: bytes | bytearray | memoryview,
    sample_rate: int,
    *,
    max_seconds: float = MAX_FRAME_SECONDS,
) -> Int16Array:
    """Signed 16-bit little-endian mono PCM bytes as an int16 array (a copy)."""
    rate = check_sample_rate(sample_rate)
    raw = bytes(data)
    if len(raw) % 2:
        raise InvalidAudio("audio frame has an odd number of bytes (expected 16-bit PCM)")
    _check_length(len(raw) // 2, rate, max_seconds)
    return np.frombuffer(raw, dtype="<i2").astype(np.int16)


def bytes_from_base64(text: str | bytes) -> bytes:
    """Strictly decoded base64 (standard alphabet, padding required)."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidAudio("audio is not valid base64") from None


def pcm16_from_base64(
    text: str | bytes, sample_rate: int, *, max_seconds: float = MAX_FRAME_SECONDS
) -> Int16Array:
    """Base64 of s16le mono PCM (the JSON form of an audio frame) as an int16 array."""
    return pcm16_from_bytes(bytes_from_base64(text), sample_rate, max_seconds=max_seconds)


def as_float32(samples: NDArray[np.generic], sample_rate: int) -> Float32Array:
    """int16 PCM or float audio in [-1, 1] as a 1-D float32 array; validates shape/length."""
    rate = check_sample_rate(sample_rate)
    array = np.asarray(samples)
    if array.ndim != 1:
        raise InvalidAudio("audio must be mono (a one-dimensional array of samples)")
    _check_length(array.shape[0], rate, MAX_FRAME_SECONDS)
    if array.dtype == np.int16:
        return (array.astype(np.float32) / 32768.0).astype(np.float32)
    if np.issubdtype(array.dtype, np.floating):
        out = array.astype(np.float32)
        if not np.all(np.isfinite(out)):
            raise InvalidAudio("audio samples must be finite numbers")
        return out
    raise InvalidAudio("audio samples must be int16 PCM or floating point")


def float_to_pcm16(samples: Float32Array) -> Int16Array:
    """Float audio in [-1, 1] as int16 PCM, clipped (resampling can overshoot slightly)."""
    scaled = np.clip(np.rint(samples * 32768.0), -32768, 32767)
    pcm: Int16Array = scaled.astype(np.int16)
    return pcm


@lru_cache(maxsize=32)
def _design(in_rate: int, out_rate: int) -> tuple[int, int, int, Float32Array]:
    """(up, down, delay, phases): the polyphase bank for ``in_rate`` → ``out_rate``.

    Cached per rate pair (immutable arrays shared by every resampler using that pair).
    ``phases[p, j]`` is tap ``p + j * up`` of the prototype low-pass, which runs at
    ``in_rate * up``.
    """
    g = math.gcd(in_rate, out_rate)
    up, down = out_rate // g, in_rate // g
    factor = max(up, down)
    length = 2 * _ZERO_CROSSINGS * factor + 1
    centre = (length - 1) / 2
    t = (np.arange(length) - centre) / factor  # in units of the lower rate's period
    cutoff = _ROLLOFF
    taps = cutoff * np.sinc(cutoff * t) * np.kaiser(length, _KAISER_BETA)
    # DC gain ``up``: zero-stuffing by ``up`` divides the amplitude by ``up``.
    taps *= up / taps.sum()
    taps_per_phase = math.ceil(length / up)
    padded = np.zeros(taps_per_phase * up)
    padded[:length] = taps
    phases = padded.reshape(taps_per_phase, up).T.astype(np.float32)
    phases.setflags(write=False)
    return up, down, int(centre), phases


class Resampler:
    """Streaming rational resampler ``in_rate`` → ``out_rate`` (default 16 kHz).

    ``process`` returns every output sample whose filter support is already available;
    ``flush`` returns the rest (the input is treated as followed by silence). Splitting the
    input into chunks of any size gives the same output as one call.
    """

    def __init__(self, in_rate: int, out_rate: int = TARGET_RATE) -> None:
        self.in_rate = check_sample_rate(in_rate)
        self.out_rate = out_rate
        self._up, self._down, self._delay, self._phases = _design(self.in_rate, out_rate)
        self._taps = self._phases.shape[1]
        # History starts with taps-1 zeros so the first outputs see silence before the
        # stream, exactly as a one-shot convolution does.
        self._history: Float32Array = np.zeros(self._taps - 1, dtype=np.float32)
        self._history_start = -(self._taps - 1)  # input index of _history[0]
        self._n_in = 0
        self._n_out = 0
        self._flushed = False

    @property
    def passthrough(self) -> bool:
        return self._up == self._down

    def process(self, samples: Float32Array) -> Float32Array:
        if self._flushed:
            raise RuntimeError("resampler already flushed")
        samples = np.asarray(samples, dtype=np.float32)
        if self.passthrough:
            self._n_in += samples.shape[0]
            return samples.copy()
        self._history = np.concatenate([self._history, samples])
        self._n_in += samples.shape[0]
        # Output n needs input index (n*down + delay) // up, which must have arrived.
        last = (self._n_in * self._up - 1 - self._delay) // self._down
        return self._emit(last)

    def flush(self) -> Float32Array:
        """The remaining outputs, as if the stream were followed by silence."""
        if self._flushed:
            return np.zeros(0, dtype=np.float32)
        self._flushed = True
        if self.passthrough:
            return np.zeros(0, dtype=np.float32)
        total = math.ceil(self._n_in * self._up / self._down)
        pad = self._taps + self._delay // self._up + 1
        self._history = np.concatenate([self._history, np.zeros(pad, dtype=np.float32)])
        return self._emit(total - 1)

    def _emit(self, last: int) -> Float32Array:
        count = last - self._n_out + 1
        if count <= 0:
            return np.zeros(0, dtype=np.float32)
        out = np.empty(count, dtype=np.float32)
        offsets = np.arange(self._taps)
        for begin in range(0, count, _BLOCK):
            n = np.arange(self._n_out + begin, self._n_out + min(begin + _BLOCK, count))
            position = n * self._down + self._delay
            phase = position % self._up
            newest = position // self._up - self._history_start
            window = self._history[newest[:, None] - offsets[None, :]]
            out[begin : begin + n.shape[0]] = np.einsum("ij,ij->i", window, self._phases[phase])
        self._n_out += count
        # Keep only the history the next output can still reach.
        next_newest = (self._n_out * self._down + self._delay) // self._up
        keep_from = next_newest - (self._taps - 1) - self._history_start
        if keep_from > 0:
            self._history = self._history[keep_from:]
            self._history_start += keep_from
        return out


def resample(samples: Float32Array, in_rate: int, out_rate: int = TARGET_RATE) -> Float32Array:
    """One-shot resampling of a whole signal (same filter as the streaming form)."""
    resampler = Resampler(in_rate, out_rate)
    return np.concatenate([resampler.process(samples), resampler.flush()])


def wav_bytes(pcm: Int16Array, sample_rate: int = TARGET_RATE) -> bytes:
    """A mono 16-bit WAV file holding ``pcm``."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(sample_rate)
        writer.writeframes(np.asarray(pcm, dtype="<i2").tobytes())
    return buffer.getvalue()


def read_wav(data: bytes) -> tuple[Int16Array, int]:
    """(mono int16 samples, sample rate) of a 16-bit PCM WAV; channels are averaged."""
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            if reader.getsampwidth() != 2:
                raise InvalidAudio("WAV audio must be 16-bit PCM")
            channels = reader.getnchannels()
            rate = reader.getframerate()
            frames = reader.readframes(reader.getnframes())
    except (wave.Error, EOFError):
        raise InvalidAudio("not a readable WAV file") from None
    samples = np.frombuffer(frames, dtype="<i2").astype(np.int16)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return samples, rate
