"""When something fails inside a request, the client gets a stable code, and the logs get
the failure's class and place, never its message or traceback (which may quote patient
text: a driver's SQL parameters, a value in an exception).

A database that is down or out of free connections is a 503 with Retry-After, the
request may succeed in a moment; anything else unexpected is a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from websockets.asyncio.client import connect

from delphos.db import repository as repo
from delphos.db.database import Database
from delphos.live import ws as live_ws
from tests.support.fixtures.server import Backend
from tests.support.live_ws import collect, ws_url

# Stands for patient text in an exception's message or a statement's parameters.
SECRET = "Jane Roe, BP 151/97, warfarin 7.5 mg"
HISTORY = "/v1/consultations/visit-1/soap-notes"


def assert_logged_without_text(caplog: pytest.LogCaptureFixture, error_class: str) -> None:
    logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any(error_class in r.getMessage() for r in logged), [r.getMessage() for r in logged]
    for record in logged:
        assert record.exc_info is None, f"a traceback was logged: {record.getMessage()}"
        assert SECRET not in record.getMessage()
        assert "visit-1" not in record.getMessage(), "the route's template, not the path"


async def test_an_unexpected_error_is_a_500_with_its_code_and_logged_by_class_only(
    make_server: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> None:
        raise ValueError(f"cannot read {SECRET}")

    monkeypatch.setattr(repo, "get_consultation", broken)
    async with make_server() as srv, httpx.AsyncClient(base_url=srv.url) as client:
        resp = await client.get(HISTORY, headers=srv.headers)
        after = await client.get("/health")

    assert resp.status_code == 500
    assert resp.json()["code"] == "INTERNAL_ERROR"
    assert SECRET not in resp.text
    assert resp.headers["x-request-id"], "the answer still carries its request id"
    assert after.status_code == 200, "the server goes on"
    assert_logged_without_text(caplog, "ValueError")


async def test_an_unexpected_error_on_a_websocket_closes_it_as_a_server_error_logged_by_class(
    make_server: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise ValueError(f"cannot read {SECRET}")

    monkeypatch.setattr(live_ws, "parse_params", broken)
    async with (
        make_server() as srv,
        connect(ws_url(srv), additional_headers={"x-api-key": srv.key}) as ws,
    ):
        await collect(ws, limit_s=10)
    assert ws.close_code == 1011  # "internal error"
    assert_logged_without_text(caplog, "ValueError")


async def test_an_unreachable_database_is_a_503_with_retry_after(
    make_server: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing listens on port 9: every connection attempt is refused at once. The static
    # key needs no database, so the history query itself meets the outage.
    async with (
        make_server(database_url="postgresql://postgres@127.0.0.1:9/none", migrate=False) as srv,
        httpx.AsyncClient(base_url=srv.url, timeout=30) as client,
    ):
        resp = await client.get(HISTORY, headers=srv.headers)

    assert resp.status_code == 503, resp.text
    assert resp.json()["code"] == "SERVICE_UNAVAILABLE"
    assert int(resp.headers["retry-after"]) > 0
    logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert logged, "the outage is logged"
    assert all(r.exc_info is None for r in logged)


@pytest.mark.parametrize("backend", ["services"], indirect=True)
async def test_a_pool_with_no_free_connection_is_a_503_not_a_500(
    make_server: Callable[..., Any], caplog: pytest.LogCaptureFixture, backend: Backend
) -> None:
    # Every pooled connection held (as by a burst of slow requests): the next request
    # waits the configured timeout, then must be told to retry, not see a server fault.
    # The pool is the operator's size, no larger: with a larger one, the request is served.
    async with (
        make_server(**backend.overrides, db_pool_size=2, db_pool_timeout=0.5) as srv,
        httpx.AsyncClient(base_url=srv.url, timeout=60) as client,
    ):
        engine = srv.app_state.db.engine
        async with AsyncExitStack() as held:
            for _ in range(2):
                await held.enter_async_context(engine.connect())
            resp = await client.get(HISTORY, headers=srv.headers)
        after = await client.get(HISTORY, headers=srv.headers)

    assert resp.status_code == 503, resp.text
    assert resp.json()["code"] == "SERVICE_UNAVAILABLE"
    assert "retry-after" in resp.headers
    assert after.status_code == 404, "connections back in the pool: answered again"
    assert_logged_without_text(caplog, "TimeoutError")


async def test_a_failed_statement_does_not_quote_its_parameters(db: Database) -> None:
    # A failed statement's message ends up in logs and tracebacks wherever it is raised.
    with pytest.raises(Exception) as failed:  # noqa: PT011 - each driver has its own class
        async with db.session() as session:
            await session.execute(
                text("INSERT INTO no_such_table (note) VALUES (:note)"), {"note": SECRET}
            )
    assert "no_such_table" in str(failed.value), "the statement's own error is kept"
    assert SECRET not in str(failed.value)
