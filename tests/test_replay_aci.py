"""Replay of ACI-bench (valid split) as a live client would send it, through a real server.

Each conversation is one consultation; after every turn the client sends the whole text so
far as ``accumulated_text`` (with the ``previous_soap_hash`` it last received, as the
DELPHOS clients do). Every request must end in ``soap``; the test reports how many engine
calls the 5-word delta saved. Run with ``-s`` to see the figures.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.fixtures.server import Backend, LiveServer
from tests.support.fixtures.services import IN_CI
from tests.support.sse import check_order, parse_sse

VALID = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "aci-bench" / "valid.json"
STREAM = "/v1/consultation/progressive-soap/stream"

pytestmark = pytest.mark.slow


@dataclass
class Tally:
    requests: int = 0
    generated: int = 0
    hits: int = 0

    @property
    def saved(self) -> int:
        return self.requests - self.generated


def conversations() -> list[tuple[str, list[str]]]:
    if not VALID.is_file():
        message = f"ACI-bench data not found at {VALID}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    data: list[dict[str, str]] = json.loads(VALID.read_text(encoding="utf-8"))["data"]
    return [
        (f"aci-valid-{i:02d}", [line for line in row["src"].splitlines() if line.strip()])
        for i, row in enumerate(data)
    ]


async def replay(
    client: httpx.AsyncClient, srv: LiveServer, cid: str, turns: list[str], tally: Tally
) -> None:
    previous: str | None = None
    for n in range(1, len(turns) + 1):
        body: dict[str, Any] = {
            "consultation_id": cid,
            "accumulated_text": "\n".join(turns[:n]),
            "previous_soap_hash": previous,
        }
        resp = await client.post(STREAM, json=body, headers=srv.headers)
        assert resp.status_code == 200, resp.text
        events = parse_sse(resp.text)
        check_order(events)
        name, data = events[-1]
        assert name == "soap", f"{cid} turn {n} ended in {name}: {data}"
        tally.requests += 1
        if events[0][1]["type"] == "cache_hit":
            tally.hits += 1
            assert data["cached"] is True
        else:
            tally.generated += 1
            assert data["cached"] is False
        previous = data["soap_hash"]


async def test_replay_turn_by_turn_every_request_ends_in_soap_and_the_delta_saves_calls(
    make_server: Callable[..., Any], backend: Backend, record_property: Callable[[str, Any], None]
) -> None:
    tally = Tally()
    stored_versions = 0
    async with (
        make_server(**backend.overrides) as srv,
        httpx.AsyncClient(base_url=srv.url, timeout=60) as client,
    ):
        for cid, turns in conversations():
            await replay(client, srv, cid, turns, tally)
            info = await client.get(f"/v1/consultations/{cid}", headers=srv.headers)
            stored_versions += int(info.json()["versions"])
        engine_calls = srv.app_state.notes.engine_calls

    share = tally.saved / tally.requests
    print(
        f"\n[aci-bench valid replay, {backend.name}] {tally.requests} requests, "
        f"{engine_calls} engine calls, {tally.saved} saved by the cache "
        f"({share:.1%}; {tally.hits} cache hits)"
    )
    record_property("replay_requests", tally.requests)
    record_property("replay_engine_calls", engine_calls)
    record_property("replay_saved_calls", tally.saved)
    assert tally.requests == sum(len(turns) for _, turns in conversations())
    assert engine_calls == tally.generated, "every generation was a real engine call"
    assert stored_versions == tally.generated, "every generated note was stored, no hit was"
    assert tally.hits == tally.saved
    assert tally.saved > 0
