"""Hallucination guards: silence and noise must not turn into phantom text.

Whisper, given no speech, tends to produce the captions it saw most in training ("Thank
you.", "Thanks for watching!", "[Music]"). Three layers keep them out of a clinical record:

1. the segmenter never sends audio without detected speech (Silero VAD + energy);
2. each decoded segment must look like speech to the model itself (``no_speech_prob``,
   ``avg_logprob``), and decoder loops ("my knee. my knee. my knee.") are collapsed to one
   occurrence;
3. the known caption phrases are dropped when the audio is quiet, and non-speech
   annotations ("[Music]", "(coughs)", "♪") are always dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Segment-level thresholds. Whisper's own rule skips a segment only when *both* no-speech
# is likely and the log-probability is low; we also drop very improbable text outright,
# since temperature fallback (which would re-sample it) is disabled for speed.
NO_SPEECH_PROB = 0.6
NO_SPEECH_LOGPROB = -0.5
MIN_AVG_LOGPROB = -1.0
# Above this gzip ratio a decode may be a loop (Whisper's own threshold). It only marks the
# decode as doubtful: real speech can repeat itself, so loops are found word by word.
MAX_COMPRESSION_RATIO = 2.4
# A phrase of up to this many words repeated back to back this many times is a loop
# (single words need one more: "no, no, no" is speech).
_LOOP_MAX_WORDS = 12
_LOOP_REPEATS = 3

# Below this speech level (dBFS of the loud part of the audio), a known caption phrase is
# taken for a hallucination. Conversational speech into a headset sits around -30..-15.
QUIET_SPEECH_DBFS = -40.0

# Normalised (lower-case, no punctuation) phrases Whisper emits on silence or noise.
KNOWN_HALLUCINATIONS: frozenset[str] = frozenset(
    {
        "you",
        "thank you",
        "thank you very much",
        "thanks",
        "thanks for watching",
        "thank you for watching",
        "thanks for watching and see you next time",
        "please subscribe",
        "like and subscribe",
        "subscribe",
        "bye",
        "bye bye",
        "goodbye",
        "so",
        "oh",
        "um",
        "uh",
        "hmm",
        "music",
        "applause",
        "silence",
        "subtitles by the amaraorg community",
        "transcribed by",
        "the end",
        "obrigado",
        "obrigada",
        "legendas pela comunidade amaraorg",
    }
)

# Whole-text annotations: [Music], (upbeat music), *coughs*, ♪ ... ♪, or nothing but dots.
_ANNOTATION = re.compile(r"^\s*(?:\[[^\]]*\]|\([^)]*\)|\*[^*]*\*|[♪♫♬\s]+)\s*$")
_ANNOTATION_PART = re.compile(r"\[[^\]]*\]|\([^)]*\)|\*[^*]*\*|[♪♫♬]")
_WORD = re.compile(r"\w", re.UNICODE)
_NOT_WORD = re.compile(r"[^\w\s]", re.UNICODE)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class SegmentScore:
    """What the guards need from a decoded segment (faster-whisper's ``Segment``)."""

    text: str
    no_speech_prob: float
    avg_logprob: float
    compression_ratio: float


def segment_is_reliable(segment: SegmentScore) -> bool:
    if segment.avg_logprob < MIN_AVG_LOGPROB:
        return False
    return not (segment.no_speech_prob > NO_SPEECH_PROB and segment.avg_logprob < NO_SPEECH_LOGPROB)


def collapse_loops(text: str) -> str:
    """``text`` with phrases repeated back to back (a decoder loop) kept once."""
    tokens = text.split()
    keys = [normalise(token) for token in tokens]
    changed = True
    while changed:
        changed = False
        for size in range(1, min(_LOOP_MAX_WORDS, len(keys) // _LOOP_REPEATS) + 1):
            needed = _LOOP_REPEATS + (size == 1)
            start = 0
            while start + size * needed <= len(keys):
                phrase = keys[start : start + size]
                repeats = 1
                while keys[start + repeats * size : start + (repeats + 1) * size] == phrase:
                    repeats += 1
                if repeats >= needed and any(phrase):
                    cut = slice(start + size, start + repeats * size)
                    del tokens[cut], keys[cut]
                    changed = True
                start += 1
    return " ".join(tokens)


def normalise(text: str) -> str:
    """Lower-case, accents kept, punctuation removed, spaces collapsed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _SPACES.sub(" ", _NOT_WORD.sub("", folded)).strip()


def is_annotation(text: str) -> bool:
    """True for text with no words outside annotations: "[Music]", "(coughs)", "...", "♪"."""
    if _ANNOTATION.match(text):
        return True
    return _WORD.search(_ANNOTATION_PART.sub(" ", text)) is None


def strip_annotations(text: str) -> str:
    """Text without bracketed sound annotations ("[Music] hello" -> "hello")."""
    return _SPACES.sub(" ", _ANNOTATION_PART.sub(" ", text)).strip()


def is_known_hallucination(text: str) -> bool:
    return normalise(text) in KNOWN_HALLUCINATIONS


def speech_level_dbfs(audio: NDArray[np.float32], window: int = 512) -> float:
    """Loudness of the speech part: the 90th percentile of 32 ms window RMS, in dBFS."""
    if audio.size == 0:
        return -120.0
    usable = audio[: audio.size - audio.size % window] if audio.size >= window else audio
    frames = usable.reshape(-1, min(window, usable.size))
    rms = np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1))
    level = float(np.percentile(rms, 90))
    return 20.0 * float(np.log10(max(level, 1e-6)))


def clean_text(segments: Iterable[SegmentScore], level_dbfs: float) -> str:
    """The transcript of the reliable segments, or "" when nothing credible remains."""
    parts: list[str] = []
    for segment in segments:
        if not segment_is_reliable(segment):
            continue
        text = strip_annotations(segment.text)
        if not text or is_annotation(text):
            continue
        parts.append(text)
    joined = collapse_loops(_SPACES.sub(" ", " ".join(parts)).strip())
    if not joined or _WORD.search(joined) is None:
        return ""
    if level_dbfs < QUIET_SPEECH_DBFS and is_known_hallucination(joined):
        return ""
    return joined
