"""Cache and persistence through a real server, on both backend pairs.

Every test runs against ``embedded`` (SQLite file + in-process cache) and ``services``
(the shared Postgres and Redis, isolated per test) unless it is about Redis itself. Text
is real ACI-bench dialogue; "changed words" are the dialogue's own next words.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from delphos.coordination import RedisCoordinator
from delphos.db import keys
from delphos.db import repository as repo
from delphos.db.migrate import upgrade
from delphos.engines.anthropic_engine import AnthropicEngine
from delphos.records import text_hash
from delphos.settings import Settings
from tests.support.fakes.llm_server import FakeLLMServer, Scenario
from tests.support.fixtures.db import aci_example
from tests.support.fixtures.server import Backend, LiveServer
from tests.support.notes_api import (
    EVENTUALLY,
    MakeServer,
    body,
    dialogue,
    eventually,
    headers,
    soap_of,
    stream,
    versions,
    words_prefix,
)
from tests.support.pgserver import PrivatePostgres
from tests.support.redisserver import PrivateRedis
from tests.support.sse import JSON_URL, STREAM, Event, check_order, parse_sse

# --- helpers ----------------------------------------------------------------------------


def without_words(text: str, start: int, count: int) -> str:
    words = text.split()
    return " ".join(words[:start] + words[start + count :])


def note_json(index: int = 0) -> str:
    """A real reference note as the SOAP JSON object an LLM would stream."""
    return json.dumps(aci_example(index)[1].sections(), ensure_ascii=False)


def status_of(events: list[Event]) -> str:
    return str(events[0][1]["type"])


async def sse_events(resp: httpx.Response) -> AsyncGenerator[Event, None]:
    """Events as they arrive on an open streaming response."""
    buffer = ""
    async for chunk in resp.aiter_text():
        buffer += chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            for event in parse_sse(block + "\n\n"):
                yield event


def anthropic_engine(fake: FakeLLMServer) -> AnthropicEngine:
    return AnthropicEngine(Settings(anthropic_base_url=fake.base_url), api_key="sk-test-fake")


# --- the cache decision, through the server -------------------------------------------------


async def test_same_text_is_a_cache_hit_with_no_engine_call_and_no_version(
    make_server: MakeServer, backend: Backend
) -> None:
    text = words_prefix(dialogue(0), 120)
    async with make_server(**backend.overrides) as srv, httpx.AsyncClient(timeout=30) as client:
        first = await stream(client, srv, body("visit-1", text))
        again = await stream(client, srv, body("visit-1", text))
        json_again = await client.post(
            f"{srv.url}{JSON_URL}", json=body("visit-1", text), headers=srv.headers
        )
        calls = srv.app_state.notes.engine_calls
        stored = await versions(srv, "visit-1")

    assert status_of(first) == "generating"
    assert soap_of(first)["cached"] is False
    assert [name for name, _ in again] == ["status", "soap"], "a hit sends no partial"
    assert again[0][1] == {"type": "cache_hit"}
    assert soap_of(again)["cached"] is True
    assert soap_of(again)["soap_hash"] == soap_of(first)["soap_hash"]
    # The hit is the note as it was sent, evidence and all; only "cached" differs.
    assert {**soap_of(again), "cached": False} == soap_of(first)
    assert json_again.status_code == 200
    assert json_again.json()["cached"] is True
    assert json_again.text.count('"cached":') == 1, "the stored note carries no flag of its own"
    assert json_again.json()["soap_hash"] == soap_of(first)["soap_hash"]
    assert calls == 1, "hits never reach the engine"
    assert len(stored) == 1, "hits add no version"


async def test_fewer_than_five_changed_words_hit_five_or_more_generate(
    make_server: MakeServer, backend: Backend
) -> None:
    source = dialogue(1)
    base = words_prefix(source, 150)
    async with make_server(**backend.overrides) as srv, httpx.AsyncClient(timeout=30) as client:
        first = soap_of(await stream(client, srv, body("visit-d", base)))
        # The next four words of the conversation arrive: still the same note.
        grew_4 = await stream(client, srv, body("visit-d", words_prefix(source, 154)))
        # Four words dropped in the middle (an edit, not an append): same note too.
        edited_4 = await stream(client, srv, body("visit-d", without_words(base, 60, 4)))
        calls_after_hits = srv.app_state.notes.engine_calls
        # The delta is measured against the text the note was made from: five words more
        # than *that* is a new note, however the client got there.
        grew_5 = await stream(client, srv, body("visit-d", words_prefix(source, 155)))
        calls = srv.app_state.notes.engine_calls
        stored = await versions(srv, "visit-d")

    for hit in (grew_4, edited_4):
        assert status_of(hit) == "cache_hit"
        assert soap_of(hit)["cached"] is True
        assert soap_of(hit)["soap_hash"] == first["soap_hash"]
        assert soap_of(hit)["text_hash"] == text_hash(base), "the note says what it was made of"
    assert calls_after_hits == 1
    assert status_of(grew_5) == "generating"
    assert soap_of(grew_5)["cached"] is False
    assert soap_of(grew_5)["text_hash"] == text_hash(words_prefix(source, 155))
    assert calls == 2
    assert len(stored) == 2


async def test_another_tenant_never_gets_the_first_tenants_note(
    make_server: MakeServer, backend: Backend
) -> None:
    text = words_prefix(dialogue(2), 100)
    async with make_server(**backend.overrides) as srv, httpx.AsyncClient(timeout=30) as client:
        other_key, _ = await keys.create_key(srv.app_state.db, "clinic-b")
        mine = soap_of(await stream(client, srv, body("shared-id", text)))
        # Same consultation id, same text, even the first tenant's hash: a generation.
        theirs = await stream(
            client,
            srv,
            body("shared-id", text, previous_soap_hash=mine["soap_hash"]),
            key=other_key,
        )
        calls = srv.app_state.notes.engine_calls
        mine_stored = await versions(srv, "shared-id")
        theirs_stored = await versions(srv, "shared-id", key=other_key)
        # And the history API will not even confirm the other tenant's note exists.
        peek = await client.get(
            f"{srv.url}/v1/consultations/shared-id/soap-notes/{mine_stored[0]['soap_hash']}",
            headers=headers(other_key),
        )
        # The second tenant's note is cached for the second tenant only.
        mine_again = await stream(client, srv, body("shared-id", text))

    assert status_of(theirs) == "generating"
    assert soap_of(theirs)["cached"] is False
    assert calls == 2
    assert len(mine_stored) == 1
    assert len(theirs_stored) == 1
    assert peek.status_code == 200, "tenant B sees its own version with the same hash"
    assert peek.json()["created_at"] == theirs_stored[0]["created_at"]
    assert peek.json()["created_at"] != mine_stored[0]["created_at"]
    assert status_of(mine_again) == "cache_hit"


async def test_previous_soap_hash_answers_from_the_stored_note_after_the_cache_is_lost(
    make_server: MakeServer, backend: Backend
) -> None:
    source = dialogue(3)
    text = words_prefix(source, 130)
    async with make_server(**backend.overrides) as srv, httpx.AsyncClient(timeout=30) as client:
        first = soap_of(await stream(client, srv, body("visit-h", text)))

    # A new process on the same database: the in-process cache is gone, and so is Redis's.
    await backend.flush_cache()
    async with make_server(**backend.overrides) as srv, httpx.AsyncClient(timeout=30) as client:
        same = await stream(
            client, srv, body("visit-h", text, previous_soap_hash=first["soap_hash"])
        )
        # The stored note went back into the cache: no hash needed now.
        cached_again = await stream(client, srv, body("visit-h", text))
        grew_3 = await stream(
            client,
            srv,
            body("visit-h", words_prefix(source, 133), previous_soap_hash=first["soap_hash"]),
        )
        calls = srv.app_state.notes.engine_calls
        stored = await versions(srv, "visit-h")

    assert status_of(same) == "cache_hit"
    assert soap_of(same)["cached"] is True
    assert soap_of(same)["soap_hash"] == first["soap_hash"]
    assert {k: soap_of(same)[k] for k in ("subjective", "objective", "assessment", "plan")} == {
        k: first[k] for k in ("subjective", "objective", "assessment", "plan")
    }
    assert status_of(cached_again) == "cache_hit"
    assert status_of(grew_3) == "cache_hit"
    assert calls == 0
    assert len(stored) == 1


async def test_stale_unknown_or_foreign_hash_generates_and_never_serves_another_note(
    make_server: MakeServer, backend: Backend
) -> None:
    source = dialogue(4)
    old_text = words_prefix(source, 80)
    new_text = words_prefix(source, 140)
    other_text = words_prefix(dialogue(5), 90)
    async with make_server(**backend.overrides) as srv, httpx.AsyncClient(timeout=30) as client:
        old = soap_of(await stream(client, srv, body("visit-s", old_text)))
        other = soap_of(await stream(client, srv, body("visit-x", other_text)))

    await backend.flush_cache()
    async with make_server(**backend.overrides) as srv, httpx.AsyncClient(timeout=30) as client:
        # Stale: a note of this consultation, but made from text 60 words shorter.
        stale = await stream(
            client, srv, body("visit-s", new_text, previous_soap_hash=old["soap_hash"])
        )
        # Unknown: no note anywhere has this hash.
        unknown = await stream(
            client,
            srv,
            body("visit-u", other_text, previous_soap_hash=secrets.token_hex(32)),
        )
        # Foreign: another consultation's hash sent with that consultation's very text.
        foreign = await stream(
            client, srv, body("visit-y", other_text, previous_soap_hash=other["soap_hash"])
        )
        calls = srv.app_state.notes.engine_calls
        foreign_versions = await versions(srv, "visit-y")

    for events in (stale, unknown, foreign):
        assert status_of(events) == "generating"
        assert soap_of(events)["cached"] is False
    assert soap_of(stale)["text_hash"] == text_hash(new_text)
    assert soap_of(foreign)["consultation_id"] == "visit-y"
    assert calls == 3
    assert len(foreign_versions) == 1, "the foreign consultation's note became its own version"


# --- persistence ----------------------------------------------------------------------------


async def test_every_generated_note_is_a_version_with_its_metadata(
    make_server: MakeServer, backend: Backend
) -> None:
    texts = {
        "p-stream": words_prefix(dialogue(6), 110),
        "p-stream-false": words_prefix(dialogue(7), 95),
        "p-json": words_prefix(dialogue(8), 85),
    }
    async with make_server(**backend.overrides) as srv, httpx.AsyncClient(timeout=30) as client:
        answers = {
            "p-stream": soap_of(await stream(client, srv, body("p-stream", texts["p-stream"]))),
            "p-stream-false": (
                await client.post(
                    f"{srv.url}{STREAM}",
                    json=body("p-stream-false", texts["p-stream-false"], stream=False),
                    headers=srv.headers,
                )
            ).json(),
            "p-json": (
                await client.post(
                    f"{srv.url}{JSON_URL}",
                    json=body("p-json", texts["p-json"]),
                    headers=srv.headers,
                )
            ).json(),
        }
        stored = {cid: await versions(srv, cid) for cid in texts}
        sources = {
            cid: await repo.find_source(
                srv.app_state.db, srv.app_state.bootstrap_tenant.id, cid, answers[cid]["soap_hash"]
            )
            for cid in texts
        }

    for cid, text in texts.items():
        assert len(stored[cid]) == 1, cid
        version = stored[cid][0]
        answer = answers[cid]
        assert version["soap_hash"] == answer["soap_hash"]
        assert {k: version[k] for k in ("subjective", "objective", "assessment", "plan")} == {
            k: answer[k] for k in ("subjective", "objective", "assessment", "plan")
        }
        assert version["text_hash"] == text_hash(text)
        assert version["word_count"] == len(text.split())
        assert version["engine"] == "local"
        assert version["model"] == "delphos-local-5"
        assert version["is_degraded"] is False
        assert version["latency_ms"] == answer["generation_ms"]
        found = sources[cid]
        assert found is not None
        assert found[1] == text, "the text the note was made from is kept"


async def test_a_client_leaving_right_after_the_last_section_still_gets_its_note_kept(
    make_server: MakeServer, backend: Backend, fake_anthropic: FakeLLMServer
) -> None:
    note = note_json(9)
    # Everything but the closing brace at once, the brace a second later: the client has
    # all four sections and leaves before the model has finished.
    fake_anthropic.default = Scenario(text=note, chunk=len(note) - 1, delay=1.0)
    text = words_prefix(dialogue(9), 100)
    async with make_server(engine=anthropic_engine(fake_anthropic), **backend.overrides) as srv:
        seen: list[Event] = []
        async with (
            httpx.AsyncClient(timeout=30) as client,
            client.stream(
                "POST", f"{srv.url}{STREAM}", json=body("leaver", text), headers=srv.headers
            ) as resp,
        ):
            async for name, data in sse_events(resp):
                seen.append((name, data))
                if name == "partial" and all(data["completeness"].values()):
                    break  # ...and the connection closes with the block

        async def kept() -> bool:
            return len(await versions(srv, "leaver")) == 1

        await eventually(kept, "the note of a client that left is persisted")
        stored = await versions(srv, "leaver")
        async with httpx.AsyncClient(timeout=30) as client:
            after = await stream(client, srv, body("leaver", text))

    assert seen[-1][0] == "partial", "the client left before the final event"
    expected = aci_example(9)[1]
    assert stored[0]["soap_hash"] == expected.soap_hash
    assert status_of(after) == "cache_hit", "and cached"
    assert len(fake_anthropic.requests) == 1


async def test_a_client_leaving_mid_note_stops_the_engine_and_keeps_nothing(
    make_server: MakeServer, backend: Backend, fake_anthropic: FakeLLMServer
) -> None:
    note = note_json(15)
    fake_anthropic.push(Scenario(text=note, chunk=max(1, len(note) // 30), delay=0.2))
    fake_anthropic.default = Scenario(text=note, chunk=64)
    text = words_prefix(dialogue(15), 100)
    async with make_server(engine=anthropic_engine(fake_anthropic), **backend.overrides) as srv:
        async with (
            httpx.AsyncClient(timeout=30) as client,
            client.stream(
                "POST", f"{srv.url}{STREAM}", json=body("half", text), headers=srv.headers
            ) as resp,
        ):
            async for name, _ in sse_events(resp):
                if name == "partial":
                    break
        # Nobody wants the rest: the upstream request is closed, not left to run.
        assert await fake_anthropic.wait_disconnect(timeout=EVENTUALLY)

        async def idle() -> bool:
            return bool(srv.app_state.notes.inflight == 0)

        await eventually(idle, "the abandoned generation is gone")
        stored = await versions(srv, "half")
        async with httpx.AsyncClient(timeout=30) as client:
            again = await stream(client, srv, body("half", text))

    assert stored == []
    assert status_of(again) == "generating", "a new request starts afresh"


# --- coalescing -----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def two_workers(
    make_server: MakeServer, backend: Backend, fake: FakeLLMServer
) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    """Two app instances on the same database and cache (services), or one (embedded:
    the in-process cache cannot be shared, so both "workers" are the same process)."""
    async with make_server(engine=anthropic_engine(fake), **backend.overrides) as first:
        if backend.redis_url is None:
            yield first, first
            return
        async with make_server(engine=anthropic_engine(fake), **backend.overrides) as second:
            yield first, second


async def test_identical_requests_arriving_together_share_one_engine_call(
    make_server: MakeServer, backend: Backend, fake_anthropic: FakeLLMServer
) -> None:
    note = note_json(10)
    fake_anthropic.default = Scenario(text=note, chunk=max(1, len(note) // 12), delay=0.15)
    text = words_prefix(dialogue(10), 120)
    async with (
        two_workers(make_server, backend, fake_anthropic) as (a, b),
        httpx.AsyncClient(timeout=60) as client,
    ):
        first, second = await asyncio.gather(
            stream(client, a, body("together", text)), stream(client, b, body("together", text))
        )
        calls = a.app_state.notes.engine_calls + (
            b.app_state.notes.engine_calls if b is not a else 0
        )
        stored = await versions(a, "together")

    assert len(fake_anthropic.requests) == 1, "one upstream request for both callers"
    assert calls == 1
    for events in (first, second):
        assert status_of(events) == "generating"
        assert any(name == "partial" for name, _ in events), "the full stream, partials too"
        assert soap_of(events)["soap_hash"] == aci_example(10)[1].soap_hash
    assert first == second, "both callers see the same events"
    assert len(stored) == 1


@pytest.mark.parametrize("backend", ["services"], indirect=True)
async def test_a_waiting_worker_generates_itself_when_the_lock_holder_dies(
    make_server: MakeServer, backend: Backend
) -> None:
    text = words_prefix(dialogue(11), 100)
    assert backend.redis_url is not None
    async with make_server(**backend.overrides) as srv, httpx.AsyncClient(timeout=60) as client:
        # A worker took the lock for this very note and died: nobody will publish or
        # refresh it, and it expires in 1.5 s.
        name = f"gen:{srv.app_state.bootstrap_tenant.id}:orphan:{text_hash(text)}"
        keyspace = RedisCoordinator(backend.redis_url, prefix=backend.redis_prefix, timeout=1)
        redis = Redis.from_url(backend.redis_url)
        try:
            await redis.set(keyspace.lock_key(name), "dead-worker", px=1500)
        finally:
            await redis.aclose()
            await keyspace.aclose()
        events = await stream(client, srv, body("orphan", text))
        calls = srv.app_state.notes.engine_calls

    assert status_of(events) == "generating"
    assert soap_of(events)["cached"] is False
    assert calls == 1


@pytest.mark.parametrize("backend", ["services"], indirect=True)
async def test_a_waiting_worker_takes_over_when_the_holders_clients_all_leave(
    make_server: MakeServer, backend: Backend, fake_anthropic: FakeLLMServer
) -> None:
    note = note_json(12)
    slow = Scenario(text=note, chunk=max(1, len(note) // 20), delay=0.25)
    fake_anthropic.push(slow, Scenario(text=note, chunk=64))
    text = words_prefix(dialogue(12), 100)
    async with (
        two_workers(make_server, backend, fake_anthropic) as (a, b),
        httpx.AsyncClient(timeout=60) as client_a,
        httpx.AsyncClient(timeout=60) as client_b,
    ):
        follower: list[Event] = []
        b_has_started = asyncio.Event()

        async def follow() -> None:
            async with client_b.stream(
                "POST", f"{b.url}{STREAM}", json=body("handover", text), headers=b.headers
            ) as resp:
                async for event in sse_events(resp):
                    follower.append(event)
                    if event[0] == "partial":
                        b_has_started.set()

        async with client_a.stream(
            "POST", f"{a.url}{STREAM}", json=body("handover", text), headers=a.headers
        ) as resp:
            # Held in a variable: a dropped event generator would close the response now.
            a_events = sse_events(resp)
            while (await anext(a_events))[0] != "partial":
                pass
            task = asyncio.create_task(follow())
            async with asyncio.timeout(EVENTUALLY):
                await b_has_started.wait()
            # B shows the note A is writing: relayed, not generated a second time.
            upstream_while_following = len(fake_anthropic.requests)
            await a_events.aclose()
        # The only client of worker A has gone with the note half written.
        async with asyncio.timeout(EVENTUALLY):
            await task
        assert await fake_anthropic.wait_disconnect(timeout=EVENTUALLY)
        calls = (a.app_state.notes.engine_calls, b.app_state.notes.engine_calls)
        stored = await versions(a, "handover")

    assert upstream_while_following == 1
    check_order(follower)
    assert soap_of(follower)["soap_hash"] == aci_example(12)[1].soap_hash
    assert len(fake_anthropic.requests) == 2
    partials = [data["completeness"] for name, data in follower if name == "partial"]
    for before, after in itertools.pairwise(partials):
        assert all(after[k] >= before[k] for k in "soap"), "completeness never goes back"
    assert calls == (1, 1), "A's generation was abandoned, B generated the note itself"
    assert len(stored) == 1


# --- faults through the server --------------------------------------------------------------


async def health(srv: LiveServer) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=srv.url, timeout=30) as client:
        data: dict[str, Any] = (await client.get("/health")).json()
        return data


async def test_redis_outage_costs_hits_never_requests_and_hits_come_back(
    make_server: MakeServer, private_redis: PrivateRedis
) -> None:
    source = dialogue(13)
    text = words_prefix(source, 100)
    async with (
        make_server(redis_url=private_redis.url, redis_timeout=0.2) as srv,
        httpx.AsyncClient(timeout=30) as client,
    ):
        first = soap_of(await stream(client, srv, body("r-visit", text)))
        hit = await stream(client, srv, body("r-visit", text))
        healthy = await health(srv)

        private_redis.kill()
        during = [
            await stream(client, srv, body("r-visit", text)),
            await stream(client, srv, body("r-visit-2", words_prefix(source, 60))),
        ]
        down = await health(srv)

        private_redis.start()  # same port, empty: Redis keeps nothing across the kill
        back_via_hash = await stream(
            client, srv, body("r-visit", text, previous_soap_hash=first["soap_hash"])
        )
        back = await stream(client, srv, body("r-visit", text))
        recovered = await health(srv)

    assert status_of(hit) == "cache_hit"
    assert healthy["cache"] == {"kind": "redis", "ok": True, "detail": healthy["cache"]["detail"]}
    for events in during:
        assert status_of(events) == "generating"
        assert soap_of(events)["cached"] is False
    assert down["cache"]["ok"] is False
    assert down["status"] == "degraded"
    assert private_redis.password is not None
    assert private_redis.password not in json.dumps(down), "no credentials in /health"
    assert status_of(back_via_hash) == "cache_hit"
    assert status_of(back) == "cache_hit", "served from Redis again"
    assert recovered["cache"]["ok"] is True


async def test_a_server_started_while_postgres_is_down_still_keeps_its_notes(
    make_server: MakeServer, private_pg: PrivatePostgres
) -> None:
    # The tenant row cannot be registered at startup; the notes must still land under
    # the key's tenant once the database is back (not be refused for a missing tenant).
    await upgrade(private_pg.url)
    private_pg.stop()
    text = words_prefix(dialogue(3), 80)
    async with (
        make_server(database_url=private_pg.url, migrate=False) as srv,
        httpx.AsyncClient(timeout=60) as client,
    ):
        events = await stream(client, srv, body("cold-start", text))
        private_pg.start()

        async def drained() -> bool:
            backlog: int = (await health(srv))["database"]["backlog"]
            return backlog == 0

        await eventually(drained, "the backlog drains by itself")
        stored = await versions(srv, "cold-start")
    assert [v["soap_hash"] for v in stored] == [soap_of(events)["soap_hash"]]
    assert not list(srv.settings.data_dir.glob("**/*.rejected")), "nothing refused"


async def test_database_outage_the_client_gets_its_note_and_it_is_written_later(
    make_server: MakeServer, private_pg: PrivatePostgres, tmp_path: Path
) -> None:
    text = words_prefix(dialogue(14), 100)
    async with (
        make_server(database_url=private_pg.url) as srv,
        httpx.AsyncClient(timeout=60) as client,
    ):
        private_pg.stop()
        events = await stream(client, srv, body("pg-visit", text))
        down = await health(srv)

        private_pg.start()

        async def drained() -> bool:
            backlog: int = (await health(srv))["database"]["backlog"]
            return backlog == 0

        await eventually(drained, "the backlog drains by itself")
        up = await health(srv)
        stored = await versions(srv, "pg-visit")

    assert soap_of(events)["cached"] is False, "the clinician got the note"
    assert down["database"]["ok"] is False
    assert down["database"]["backlog"] >= 1
    assert down["status"] == "degraded"
    assert up["database"] == {"ok": True, "backend": "postgresql", "backlog": 0}
    assert [v["soap_hash"] for v in stored] == [soap_of(events)["soap_hash"]]
