"""The query parameters of WS /ws/transcribe, checked before the socket is accepted.

Each bad value is refused with `INVALID_PARAMETER` and a message naming the parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from delphos.errors import DelphosError
from delphos.records import MAX_ID_CHARS, id_problem
from delphos.settings import Settings
from delphos.stt.audio import InvalidAudio, check_sample_rate

MAX_PROMPT_CHARS = 4000


class BadParameter(DelphosError):
    status_code = 400
    code = "INVALID_PARAMETER"


@dataclass(frozen=True)
class LiveParams:
    consultation_id: str | None
    language: str | None
    min_turn_silence: int
    max_turn_silence: int
    sample_rate: int
    edit: bool
    prompt: str | None


def _int(params: Any, name: str, default: int, lo: int, hi: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = lo - 1
    if not lo <= value <= hi:
        raise BadParameter(f"{name} must be an integer from {lo} to {hi}")
    return value


def _bool(params: Any, name: str) -> bool:
    raw = (params.get(name) or "").lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise BadParameter(f"{name} must be true or false")


def parse_params(params: Any, settings: Settings) -> LiveParams:
    cid = params.get("consultation_id")
    if cid is not None and id_problem(cid) is not None:
        raise BadParameter(f"consultation_id must be 1-{MAX_ID_CHARS} characters without NUL")
    language = params.get("language") or None
    if language is not None and not (2 <= len(language) <= 8 and language.isalpha()):
        raise BadParameter("language must be a language code such as en or pt")
    min_silence = _int(params, "min_turn_silence", settings.stt_min_turn_silence_ms, 100, 10_000)
    max_silence = _int(params, "max_turn_silence", settings.stt_max_turn_silence_ms, 100, 30_000)
    if max_silence < min_silence:
        raise BadParameter("max_turn_silence must not be less than min_turn_silence")
    try:
        rate = check_sample_rate(_int(params, "sample_rate", 16_000, 1, 10_000_000))
    except InvalidAudio as exc:
        raise BadParameter(exc.message) from None
    prompt = params.get("prompt") or None
    if prompt is not None and (len(prompt) > MAX_PROMPT_CHARS or "{{turn}}" not in prompt):
        raise BadParameter(
            f"prompt must contain {{{{turn}}}} and be at most {MAX_PROMPT_CHARS} characters"
        )
    return LiveParams(
        consultation_id=cid,
        language=language.lower() if language else None,
        min_turn_silence=min_silence,
        max_turn_silence=max_silence,
        sample_rate=rate,
        edit=_bool(params, "edit"),
        prompt=prompt,
    )
