"""A client of a running server's note API: real ACI-Bench dialogue, the requests a
clinic's client makes, and reading back what the server answered and stored."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.support.fixtures.db import aci_example
from tests.support.fixtures.server import LiveServer
from tests.support.sse import STREAM, Event, check_order, parse_sse

# `make_server` (tests/support/fixtures/server.py): `async with make_server(...) as srv`.
MakeServer = Callable[..., Any]
# Upper bound for things that happen in the background (a note written after the client
# left, a backlog drained). Not a performance assertion: only "it happened at all".
EVENTUALLY = 60.0


def words_prefix(text: str, n: int) -> str:
    """``text`` up to and including its n-th word (the rest of the dialogue comes later)."""
    ends = [m.end() for m in re.finditer(r"\S+", text)]
    assert n <= len(ends), "the dialogue is shorter than the test needs"
    return text[: ends[n - 1]]


def dialogue(index: int = 0) -> str:
    return aci_example(index)[0]


def body(cid: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"consultation_id": cid, "accumulated_text": text, **extra}


def headers(key: str) -> dict[str, str]:
    return {"x-api-key": key, "Content-Type": "application/json"}


async def stream(
    client: httpx.AsyncClient, srv: LiveServer, payload: dict[str, Any], key: str | None = None
) -> list[Event]:
    resp = await client.post(f"{srv.url}{STREAM}", json=payload, headers=headers(key or srv.key))
    assert resp.status_code == 200, resp.text
    events = parse_sse(resp.text)
    check_order(events)
    return events


def soap_of(events: list[Event]) -> dict[str, Any]:
    name, data = events[-1]
    assert name == "soap", events[-1]
    return data


async def versions(srv: LiveServer, cid: str, key: str | None = None) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=srv.url, timeout=30) as client:
        resp = await client.get(
            f"/v1/consultations/{cid}/soap-notes",
            params={"limit": 100},
            headers=headers(key or srv.key),
        )
    if resp.status_code == 404:
        return []
    assert resp.status_code == 200, resp.text
    items: list[dict[str, Any]] = resp.json()["items"]
    return items


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    try:
        async with asyncio.timeout(EVENTUALLY):
            while True:
                if await check():
                    return
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(what) from None


async def grow_consultation(
    client: httpx.AsyncClient, srv: LiveServer, cid: str, notes: int
) -> list[dict[str, Any]]:
    """``notes`` versions of one consultation, its real dialogue 20 words longer each time
    (well past the 5-word delta, so each request generates)."""
    source = dialogue(16)
    answers = []
    for i in range(notes):
        events = await stream(client, srv, body(cid, words_prefix(source, 60 + 20 * i)))
        assert events[0][1]["type"] == "generating"
        answers.append(soap_of(events))
    return answers
