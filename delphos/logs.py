"""Logging setup that keeps patient text out of logs, whatever the level.

Several libraries log request bodies or SQL parameters at DEBUG: the LLM SDKs (the
prompt, i.e. the transcript), sse-starlette (every event: the note), aiosqlite and
SQLAlchemy (parameters: the note and its source text). Delphos's own modules never log
text; these are held at WARNING or above even when DELPHOS_LOG_LEVEL=debug
(SQLAlchemy's engine logger prints statement parameters already at INFO).
"""

from __future__ import annotations

import logging

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


def quiet_text_leaking_loggers() -> None:
    for name in TEXT_LEAKING_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)


def configure(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    quiet_text_leaking_loggers()
