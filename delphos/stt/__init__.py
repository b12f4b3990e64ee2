"""Speech to text: faster-whisper on CPU, turn segmentation, interim and final transcripts.

The web layer needs only::

    transcriber = Transcriber.from_settings(settings)   # once per process (shared model)
    transcriber.model.name                              # "faster-whisper-tiny.en"
    session = TranscriptionSession.from_settings(transcriber, settings)  # per connection
"""

from delphos.stt.audio import InvalidAudio
from delphos.stt.events import Lagging, SessionClosed, SttEvent, Transcript
from delphos.stt.model import ModelIntegrityError, SpeechModel, SpeechModelError, get_model
from delphos.stt.session import TranscriptionSession
from delphos.stt.transcriber import DecodeOptions, Transcriber

__all__ = [
    "DecodeOptions",
    "InvalidAudio",
    "Lagging",
    "ModelIntegrityError",
    "SessionClosed",
    "SpeechModel",
    "SpeechModelError",
    "SttEvent",
    "Transcriber",
    "Transcript",
    "TranscriptionSession",
    "get_model",
]
