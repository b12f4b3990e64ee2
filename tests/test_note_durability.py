"""When a client has the final `soap` (JSON or SSE), its note is durable.

Durable means committed to the database — and then visible in the history API at once — or,
when the database does not answer in time, fsynced to the spool, so that even a server
killed the moment after it answered loses nothing.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from delphos.db.migrate import upgrade
from tests.support.fixtures.server import API_KEY, Backend
from tests.support.notes_api import (
    MakeServer,
    body,
    dialogue,
    eventually,
    headers,
    soap_of,
    versions,
    words_prefix,
)
from tests.support.pgserver import PrivatePostgres
from tests.support.ports import free_port
from tests.support.serve_process import history, server_process, wait_up
from tests.support.sse import JSON_URL, STREAM, check_order, parse_sse

# Rounds of the read-your-writes test. The default keeps the suite fast; the contract was
# verified with DELPHOS_RYW_ROUNDS=200 on both backends (see the report / bench).
ROUNDS = int(os.environ.get("DELPHOS_RYW_ROUNDS", "12"))
# Notes answered while the database hangs, before the server is killed.
HUNG_NOTES = 10


async def answer(
    client: httpx.AsyncClient, url: str, key: str, cid: str, text: str, *, sse: bool
) -> dict[str, Any]:
    """The final note as a client gets it, over SSE or as the JSON answer."""
    if sse:
        resp = await client.post(f"{url}{STREAM}", json=body(cid, text), headers=headers(key))
        assert resp.status_code == 200, resp.text
        events = parse_sse(resp.text)
        check_order(events)
        return soap_of(events)
    resp = await client.post(f"{url}{JSON_URL}", json=body(cid, text), headers=headers(key))
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def test_a_note_is_in_the_history_as_soon_as_its_answer_arrives(
    make_server: MakeServer, backend: Backend
) -> None:
    missing: list[int] = []
    async with make_server(**backend.overrides) as srv, httpx.AsyncClient(timeout=60) as client:
        for i in range(ROUNDS):
            cid = f"ryw-{i}"
            # A different text every time: each answer is a fresh generation, never a hit.
            text = words_prefix(dialogue(i % 20), 40 + i % 50)
            note = await answer(client, srv.url, srv.key, cid, text, sse=i % 2 == 0)
            assert note["cached"] is False
            stored = await versions(srv, cid)
            if [v["soap_hash"] for v in stored] != [note["soap_hash"]]:
                missing.append(i)
    assert missing == [], f"{len(missing)} of {ROUNDS} answered notes not yet in the history"


# --- a hung database and a killed server ------------------------------------------------


@asynccontextmanager
async def sse_until_soap(
    client: httpx.AsyncClient, url: str, cid: str, text: str
) -> AsyncIterator[tuple[dict[str, Any], AsyncIterator[str]]]:
    """Open a stream; hand over its `soap` and the rest of the (maybe still open) body."""
    async with client.stream(
        "POST", f"{url}{STREAM}", json=body(cid, text), headers=headers(API_KEY)
    ) as resp:
        assert resp.status_code == 200
        rest = resp.aiter_text()
        buffer = ""
        async for chunk in rest:
            buffer += chunk
            events = parse_sse(buffer[: buffer.rfind("\n\n") + 2]) if "\n\n" in buffer else []
            if events and events[-1][0] in ("soap", "error"):
                yield soap_of(events), rest
                return
        raise AssertionError("the stream ended without soap")


async def test_no_answered_note_is_lost_when_a_hung_database_meets_a_killed_server(
    private_pg: PrivatePostgres, tmp_path: Path
) -> None:
    await upgrade(private_pg.url)
    data_dir = tmp_path / "data"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    answered: dict[str, str] = {}
    stream_ends: list[bool] = []
    with server_process(data_dir, private_pg.url, port, DELPHOS_NOTE_WRITE_TIMEOUT="1") as proc:
        await wait_up(url)
        async with httpx.AsyncClient(timeout=60) as client:
            first = await answer(
                client, url, API_KEY, "hung-0", words_prefix(dialogue(0), 30), sse=False
            )
            answered["hung-0"] = first["soap_hash"]
            private_pg.freeze()
            for i in range(1, HUNG_NOTES + 1):
                cid, text = f"hung-{i}", words_prefix(dialogue(i), 30 + i)
                if i % 2:
                    answered[cid] = (await answer(client, url, API_KEY, cid, text, sse=False))[
                        "soap_hash"
                    ]
                    continue
                async with sse_until_soap(client, url, cid, text) as (note, rest):
                    answered[cid] = note["soap_hash"]
                    # The stream ends with its `soap`, not seconds later: nothing after it
                    # is waited for (a bound far above a normal close, far below the
                    # database's hang).
                    try:
                        async with asyncio.timeout(0.5):
                            async for _ in rest:
                                pass
                        stream_ends.append(True)
                    except TimeoutError:
                        stream_ends.append(False)
        # Killed the moment the last answer arrived: no shutdown, no final flush.
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    private_pg.thaw()

    with server_process(data_dir, private_pg.url, port):
        await wait_up(url)

        async def drained() -> bool:
            async with httpx.AsyncClient(timeout=10) as client:
                health = (await client.get(f"{url}/health")).json()
            return bool(health["database"]["backlog"] == 0)

        await eventually(drained, "the spool is written to the database after the restart")
        stored = {cid: await history(url, cid) for cid in answered}

    lost = [cid for cid, h in answered.items() if [v["soap_hash"] for v in stored[cid]] != [h]]
    assert lost == [], f"{len(lost)} of {len(answered)} answered notes lost"
    assert all(stream_ends), "an SSE stream stayed open after its soap"
