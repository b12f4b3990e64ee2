"""Model loading: pinned, local, shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from delphos.settings import Settings
from delphos.stt.model import (
    DEFAULT_MODEL_SHA256,
    ModelIntegrityError,
    SpeechModel,
    SpeechModelError,
    get_model,
    model_source,
)
from delphos.stt.session import TranscriptionSession
from delphos.stt.transcriber import Transcriber


def test_default_model_is_the_pinned_packaged_tiny_en(speech_model: SpeechModel) -> None:
    assert speech_model.name == "faster-whisper-tiny.en"
    assert not speech_model.multilingual
    source = model_source(Settings(stt_model_dir=None))
    assert source.sha256 == DEFAULT_MODEL_SHA256
    assert (source.path / "model.bin").is_file()


def test_the_model_is_loaded_once_and_shared(speech_model: SpeechModel) -> None:
    settings = Settings(stt_model_dir=None, stt_max_concurrency=2, stt_cpu_threads=0)
    assert get_model(settings) is speech_model


def test_a_model_file_that_does_not_match_its_hash_is_refused(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"not the weights you are looking for")
    (tmp_path / "tokenizer.json").write_text("{}")
    settings = Settings(stt_model_dir=tmp_path, stt_model_sha256=DEFAULT_MODEL_SHA256)
    with pytest.raises(ModelIntegrityError, match=r"SHA-256 [0-9a-f]{64}, expected") as caught:
        get_model(settings)
    assert caught.value.code == "STT_MODEL_INTEGRITY"


def test_a_missing_model_directory_is_a_clear_error_not_a_download(tmp_path: Path) -> None:
    settings = Settings(stt_model_dir=tmp_path / "whisper-small")
    with pytest.raises(SpeechModelError, match=r"does not exist or has no model\.bin"):
        get_model(settings)


def test_a_model_without_its_tokenizer_is_refused_rather_than_fetched(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"weights")
    with pytest.raises(SpeechModelError, match=r"no tokenizer\.json"):
        get_model(Settings(stt_model_dir=tmp_path))


def test_a_configured_directory_loads_under_its_own_name(
    tmp_path: Path, speech_model: SpeechModel
) -> None:
    # Another CTranslate2 Whisper directory (here: links to the packaged files).
    directory = tmp_path / "whisper-tiny-local"
    directory.mkdir()
    for item in speech_model.path.iterdir():
        (directory / item.name).symlink_to(item)
    model = get_model(
        Settings(stt_model_dir=directory, stt_max_concurrency=1, stt_model_sha256=None)
    )
    assert model.name == "faster-whisper-whisper-tiny-local"
    assert model.workers == 1


async def test_settings_configure_the_transcriber_and_the_session(
    speech_model: SpeechModel,
) -> None:
    settings = Settings(
        stt_model_dir=None,
        stt_max_concurrency=2,
        stt_cpu_threads=0,
        stt_min_turn_silence_ms=600,
        stt_max_turn_silence_ms=1500,
        stt_interim_interval_s=0.5,
        stt_max_session_audio_s=60,
        stt_full_window=True,
    )
    transcriber = Transcriber.from_settings(settings)
    try:
        assert transcriber.model is speech_model
        assert transcriber.max_concurrency == 2
        assert transcriber.options.final_context_margin_s is None
        session = TranscriptionSession.from_settings(transcriber, settings)
        assert session.policy.min_turn_silence_ms == 600
        assert session.policy.max_turn_silence_ms == 1500
        assert session.interim_interval_s == 0.5
        await session.feed(bytes(16_000 * 2))
        assert session.recorded_seconds == 1.0
        unrecorded = TranscriptionSession.from_settings(
            transcriber, Settings(stt_model_dir=None, audio_retention=False)
        )
        await unrecorded.feed(bytes(16_000 * 2))
        assert unrecorded.recorded_seconds == 0.0
    finally:
        transcriber.shutdown()
