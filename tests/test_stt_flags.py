"""Clinical flags of a turn and the hallucination guards on decoded text."""

from __future__ import annotations

import numpy as np
import pytest

from delphos.stt.flags import turn_flags
from delphos.stt.guards import (
    SegmentScore,
    clean_text,
    is_annotation,
    is_known_hallucination,
    speech_level_dbfs,
)


@pytest.mark.parametrize(
    ("text", "flags"),
    [
        ("Prescribe aspirin 81 milligrams daily.", ["medication"]),
        ("Take 500mg twice.", ["medication"]),
        ("The patient reports chest pain for two days.", ["symptom"]),
        ("She has a fever and a dry cough.", ["symptom"]),
        ("My assessment is viral pharyngitis.", ["diagnosis"]),
        ("Findings are consistent with pneumonia.", ["diagnosis"]),
        ("O paciente relata dor no peito e febre.", ["symptom"]),
        ("Vou receitar um comprimido duas vezes ao dia.", ["medication"]),
        ("O DIAGNÓSTICO é pneumonia.", ["diagnosis"]),
        (
            "Diagnostico provável: gripe, com tosse; paracetamol 500 mg.",
            ["medication", "symptom", "diagnosis"],
        ),
        ("The weather was lovely on Sunday.", []),
        ("", []),
    ],
)
def test_turn_flags(text: str, flags: list[str]) -> None:
    assert turn_flags(text) == flags


def test_flags_match_whole_words_only() -> None:
    # "paint" contains "pain", "dormir" contains "dor", "dosed" is not a keyword.
    assert turn_flags("We need to paint the room before we dormir.") == []


def score(text: str, *, no_speech: float = 0.05, logprob: float = -0.3) -> SegmentScore:
    return SegmentScore(text, no_speech_prob=no_speech, avg_logprob=logprob, compression_ratio=1.2)


LOUD_DB = -20.0
QUIET_DB = -50.0


@pytest.mark.parametrize(
    "phrase", ["Thank you.", " you", "Thanks for watching!", "Bye.", "Obrigado."]
)
def test_caption_phrases_from_quiet_audio_are_dropped(phrase: str) -> None:
    assert is_known_hallucination(phrase)
    assert clean_text([score(phrase)], QUIET_DB) == ""


def test_a_loud_thank_you_is_real_speech() -> None:
    assert clean_text([score(" Thank you.")], LOUD_DB) == "Thank you."


@pytest.mark.parametrize("text", ["[Music]", "(upbeat music)", "*coughs*", "♪ ♪", "...", " - "])
def test_annotations_and_punctuation_never_become_text(text: str) -> None:
    assert is_annotation(text)
    assert clean_text([score(text)], LOUD_DB) == ""


def test_annotations_are_removed_from_real_text() -> None:
    segments = [score(" [Music] The patient has a cough."), score(" (coughs) It is dry.")]
    assert clean_text(segments, LOUD_DB) == "The patient has a cough. It is dry."


def test_unreliable_segments_are_dropped() -> None:
    segments = [
        score(" Blood pressure is normal."),
        score(" Phantom words.", no_speech=0.9, logprob=-0.8),  # the model says: no speech
        score(" Garbled words.", logprob=-1.4),  # very improbable
    ]
    assert clean_text(segments, LOUD_DB) == "Blood pressure is normal."


def test_decoder_loops_are_collapsed_but_real_repetition_is_kept() -> None:
    looping = [score(" My knee hurts."), score(" My knee hurts."), score(" My knee hurts.")]
    assert clean_text(looping, LOUD_DB) == "My knee hurts."
    assert clean_text([score(" the the the the patient")], LOUD_DB) == "the patient"
    assert clean_text([score(" No, no, no, it hurts.")], LOUD_DB) == "No, no, no, it hurts."
    twice = " Take it twice. Take it twice."
    assert clean_text([score(twice)], LOUD_DB) == twice.strip()


def test_speech_level_reflects_the_loud_part_of_the_audio() -> None:
    audio = np.zeros(16_000, dtype=np.float32)
    audio[:4_000] = 0.1  # a quarter of the audio at -20 dBFS
    assert speech_level_dbfs(audio) == pytest.approx(-20.0, abs=0.1)
    assert speech_level_dbfs(np.zeros(16_000, dtype=np.float32)) < -100
