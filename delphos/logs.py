"""Logging setup that keeps patient text out of logs, whatever the level.

Several libraries log request bodies or SQL parameters at DEBUG: the LLM SDKs (the
prompt, i.e. the transcript), sse-starlette (every event: the note), aiosqlite and
SQLAlchemy (parameters: the note and its source text). Delphos's own modules never log
text; these are held at WARNING or above even when DELPHOS_LOG_LEVEL=debug
(SQLAlchemy's engine logger prints statement parameters already at INFO).
"""

from __future__ import annotations

import logging
import os

# Loggers that would print patient text at DEBUG.
TEXT_LEAKING_LOGGERS = (
    "anthropic",
    "openai",
    "httpx",
    "httpx2",
    "httpcore",
    "httpcore2",
    "sse_starlette",
    "aiosqlite",
    "sqlalchemy.engine",
    "asyncpg",
    "websockets",
    "uvicorn.protocols.websockets",
    "faster_whisper",
)


class _NoWebSocketFrames(logging.Filter):
    """Drops the `websockets` library's debug lines from the logger uvicorn lends it.

    uvicorn hands each WebSocket connection its own ``uvicorn.error`` logger, on which
    `websockets` logs every frame's start (a transcript) and every handshake header (the
    API key) at DEBUG. ``uvicorn.error`` also carries uvicorn's own startup and error
    lines, so it cannot simply be raised to WARNING like the loggers above."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG or _WEBSOCKETS_DIR not in record.pathname


_WEBSOCKETS_DIR = f"{os.sep}websockets{os.sep}"
_FRAME_FILTER = _NoWebSocketFrames()


def quiet_text_leaking_loggers() -> None:
    for name in TEXT_LEAKING_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)
    # Filters survive uvicorn's logging.dictConfig (handlers do not); addFilter is
    # idempotent for the same object.
    logging.getLogger("uvicorn.error").addFilter(_FRAME_FILTER)


def configure(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    quiet_text_leaking_loggers()
