"""Patient text stays out of logs even at DEBUG (libraries that log bodies are held back)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from delphos.logs import TEXT_LEAKING_LOGGERS

SECRET_WORDS = "Patient reports Zyxwvut quelbarrow cough since Tuesday. Denies fever."


async def test_debug_logging_never_prints_the_transcript(
    make_server: Callable[..., Any], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in TEXT_LEAKING_LOGGERS:  # as if an operator asked for everything
        logging.getLogger(name).setLevel(logging.DEBUG)
    # A new database, migrated as the server starts (as `make run` does): its migration's
    # log lines show that records are captured at all.
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'logs.db'}"
    async with (
        make_server(database_url=database_url) as srv,
        httpx.AsyncClient(base_url=srv.url, timeout=30) as client,
    ):
        resp = await client.post(
            "/v1/consultation/progressive-soap/stream",
            json={"consultation_id": "log-1", "accumulated_text": SECRET_WORDS},
            headers=srv.headers,
        )
        assert "quelbarrow" in resp.text  # the note did carry the words
        history = await client.get("/v1/consultations/log-1/soap-notes", headers=srv.headers)
        assert history.status_code == 200
    logged = "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
    assert caplog.records, "debug logging was on"
    assert "quelbarrow" not in logged
    assert "Zyxwvut" not in logged
