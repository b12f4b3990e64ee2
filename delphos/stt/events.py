"""What a transcription session reports: a turn's transcripts, and lagging notices.

``event.to_dict()`` is the JSON the WebSocket sends (seed 001's `transcription` payload).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from delphos.records import Turn

# A turn "looks complete" when its text ends like a sentence.
# (ASCII, ellipsis, and the CJK full stop / full-width question and exclamation marks)
_TERMINAL = (".", "?", "!", "\u2026", "\u3002", "\uff1f", "\uff01")
# Closing quotes and brackets after the punctuation (including curly quotes).
_CLOSERS = "\"')]} \u201d\u2019"


def looks_complete(text: str) -> bool:
    return text.rstrip(_CLOSERS).endswith(_TERMINAL)


@dataclass(frozen=True, slots=True)
class Transcript:
    """Text of one turn: interims while it is spoken, then exactly one final."""

    type: ClassVar[str] = "transcript"
    text: str
    is_final: bool
    turn_index: int  # 0, 1, 2 … per session; interims carry the index of their turn
    timestamp: datetime  # when the event was produced (UTC)
    started_at: datetime  # start of the turn's audio (session start + audio offset)
    ended_at: datetime  # end of the turn's speech (for interims: audio so far)
    start_s: float  # the same two instants as offsets into the session audio
    end_s: float
    flags: tuple[str, ...] = ()  # finals only: "medication" / "symptom" / "diagnosis"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "text": self.text,
            "is_final": self.is_final,
            "turn_index": self.turn_index,
            "timestamp": self.timestamp.isoformat(),
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "flags": list(self.flags),
        }

    def as_turn(self, seq: int) -> Turn:
        """A final transcript as turn ``seq`` of its consultation (not yet edited)."""
        return Turn(
            seq=seq,
            original_text=self.text,
            edited_text=None,
            flags=self.flags,
            started_at=self.started_at,
            ended_at=self.ended_at,
        )


@dataclass(frozen=True, slots=True)
class Lagging:
    """The server skipped live previews because it is busy; finals still come."""

    type: ClassVar[str] = "lagging"
    dropped_interims: int  # total dropped in this session so far
    timestamp: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "dropped_interims": self.dropped_interims,
            "timestamp": self.timestamp.isoformat(),
        }


SttEvent = Transcript | Lagging


class SessionClosed(RuntimeError):
    """``feed`` after ``stop``/``aclose``."""
