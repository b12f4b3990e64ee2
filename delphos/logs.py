"""Logging setup that keeps patient text out of logs, whatever the level.

Several libraries log request bodies or SQL parameters at DEBUG: the LLM SDKs (the
prompt, i.e. the transcript), sse-starlette (every event: the note), aiosqlite and
SQLAlchemy (parameters: the note and its source text). Delphos's own modules never log
text; these are held at WARNING or above even when DELPHOS_LOG_LEVEL=debug
(SQLAlchemy's engine logger prints statement parameters already at INFO).
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
from datetime import UTC, datetime

# The id of the request being served, set by delphos.observe; None outside a request.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "delphos_request_id", default=None
)

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
        # Its own level, not the effective one: lowering the root level later (a test's
        # log capture, an embedding app) must not undo it.
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
    # Filters survive uvicorn's logging.dictConfig (handlers do not); addFilter is
    # idempotent for the same object.
    logging.getLogger("uvicorn.error").addFilter(_FRAME_FILTER)


class _RequestId(logging.Filter):
    """Stamps each record with the id of the request being served (or None)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line. An exception is named by its class only: its message or
    traceback may quote patient text."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc_type"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


def configure_worker(level: str, fmt: str) -> None:
    """In a worker process that `delphos serve --workers N` spawned, the parent's logging
    setup is gone (a fresh interpreter): set it up again. Leaves alone a process whose
    root logger already has handlers (the CLI's own process, tests, embedding apps)."""
    if not logging.getLogger().handlers:
        configure(level, fmt)


def configure(level: str, fmt: str = "text") -> None:
    """Root logging for `delphos serve`: text, or JSON lines (DELPHOS_LOG_FORMAT=json);
    every line carries the request id (also sent back as the X-Request-ID header)."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s")
        )
    handler.addFilter(_RequestId())
    logging.basicConfig(level=level.upper(), handlers=[handler])
    quiet_text_leaking_loggers()
