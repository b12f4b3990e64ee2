"""The streaming pipeline driven by the LLM engines, end to end through a real uvicorn.

Request → engine (official SDK) → fake provider API on 127.0.0.1 → incremental parser →
SSE on a real socket, read as the seed's clients read it. What is asserted is what a client
(or the provider's bill) would notice: the events, their order and content, how many
upstream requests were made, whether the upstream request was closed, and that no patient
text ever reaches an error or a log line.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from delphos.engines.local import LocalEngine
from delphos.engines.prompt import SYSTEM_PROMPT, user_message
from delphos.pace import MAX_INTERVAL
from delphos.records import SECTION_KEYS, SoapNote, text_hash
from tests.support.fakes.llm_server import Scenario
from tests.support.fixtures.server import LiveServer
from tests.support.late_loop import late_loop
from tests.support.local_faithful import assert_faithful
from tests.support.sse import JSON_URL, STREAM, canonical_hash, check_order, parse_sse
from tests.support.upstream import (  # noqa: F401  (no_patient_text_in_logs: autouse here)
    ECHOED,
    NOTE,
    NOTE_JSON,
    PATIENT_WORDS,
    PROVIDERS,
    TRANSCRIPT,
    Provider,
    Serve,
    Upstream,
    assert_no_patient_text,
    no_patient_text_in_logs,
)

Event = tuple[str, dict[str, Any]]

# No stream may take longer than this: a hang fails the test instead of blocking the run.
STREAM_DEADLINE = 20.0
# Retries fast enough for tests; two retries = at most three upstream requests.
RETRIES = 2
FAST = {"retry_attempts": RETRIES, "retry_base_delay": 0.01}
SHORT = {"s": "subjective", "o": "objective", "a": "assessment", "p": "plan"}


# --- a real consultation -----------------------------------------------------------------------


# The same visit, first sentence of each section only: a short note for slow streams.
SHORT_NOTE = SoapNote(
    subjective="CC:\n\nRight knee pain.\n\nHPI:\n\nMs. Thompson is a 43-year-old female who "
    "presents today for an evaluation of right knee pain.",
    objective="EXAM\n\nExamination of the right knee shows pain with flexion.",
    assessment="Right knee acute medial meniscus sprain.",
    plan="I have recommended a knee brace. She will take Motrin 800 mg, every 6 hours with "
    "food, for two weeks.",
)
SHORT_JSON = json.dumps(SHORT_NOTE.sections(), ensure_ascii=False)
# A model that answers with prose instead of the object.
PROSE = "I'm sorry, but I can't help with writing that note."


def _position(text: str, key: str, into: int) -> int:
    """Offset of the ``into``-th character of section ``key``'s value in ``text``."""
    return text.index(f'"{key}": "') + len(f'"{key}": "') + into


def _arrived(key: str, cut: int) -> str:
    """The text of section ``key`` in the first ``cut`` characters of ``NOTE_JSON``."""
    start = _position(NOTE_JSON, key, 0)
    text: str = json.loads(f'"{NOTE_JSON[start:cut]}"')  # cuts below never split an escape
    return text


def test_the_consultation_is_what_the_tests_assume() -> None:
    lowered = TRANSCRIPT.lower()
    assert all(word in lowered for word in PATIENT_WORDS)
    assert all(words in user_message(TRANSCRIPT)[-100:] for words in ECHOED)
    assert all(NOTE.sections().values())
    for key in SECTION_KEYS:
        assert getattr(SHORT_NOTE, key) in getattr(NOTE, key), "taken from the reference"


# --- fixtures ------------------------------------------------------------------------------------


# --- reading the stream off the socket -----------------------------------------------------------


@dataclass
class Stream:
    """What one client saw: the events in order, with the time each arrived."""

    events: list[Event] = field(default_factory=list)
    arrived: list[float] = field(default_factory=list)
    # Set on the first `partial`: the generation is then certainly under way.
    partial_seen: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    @property
    def partials(self) -> list[dict[str, Any]]:
        return [data for name, data in self.events if name == "partial"]

    @property
    def last(self) -> Event:
        return self.events[-1]

    def soap(self) -> dict[str, Any]:
        name, data = self.last
        assert name == "soap", f"expected a note, got {self.last}"
        return data

    def error(self) -> dict[str, Any]:
        name, data = self.last
        assert name == "error", f"expected an error, got {self.last}"
        return data


def body(consultation_id: str, text: str = TRANSCRIPT, **extra: Any) -> dict[str, Any]:
    return {"consultation_id": consultation_id, "accumulated_text": text, **extra}


async def read_stream(
    srv: LiveServer,
    payload: dict[str, Any],
    *,
    stop: Callable[[Stream], bool] | None = None,
    seen: Stream | None = None,
    deadline: float = STREAM_DEADLINE,
) -> Stream:
    """POST and read the SSE stream as the seed's clients do (split on blank lines).

    With ``stop``, the client hangs up as soon as ``stop`` is true (closing the socket).
    Otherwise the stream must end — within ``deadline``, never hanging — right after
    exactly one ``soap`` or ``error``; that is checked here for every stream of this module.
    """
    seen = seen if seen is not None else Stream()
    async with (
        asyncio.timeout(deadline),
        httpx.AsyncClient(base_url=srv.url, timeout=deadline) as client,
        client.stream("POST", STREAM, json=payload, headers=srv.headers) as resp,
    ):
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        buffer = ""
        async for text in resp.aiter_text():
            buffer += text
            *blocks, buffer = buffer.split("\n\n")
            for event in parse_sse("\n\n".join(blocks)):
                seen.events.append(event)
                seen.arrived.append(time.monotonic())
                if event[0] == "partial":
                    seen.partial_seen.set()
                if stop is not None and stop(seen):
                    return seen  # leaving the block closes the connection mid-stream
        assert not buffer.strip(), "the stream ended in the middle of an event"
    assert seen.events, "the stream closed without a single event"
    check_order(seen.events)
    assert seen.names.count("soap") + seen.names.count("error") == 1
    if seen.last[0] == "error":
        error = seen.error()
        assert set(error) == {"code", "message", "degraded"}
        assert_no_patient_text(error["message"])
    return seen


def first_partial(stream: Stream) -> bool:
    return "partial" in stream.names


async def health(srv: LiveServer) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=srv.url, timeout=10) as client:
        data: dict[str, Any] = (await client.get("/health")).json()
    return data


async def wait_idle(srv: LiveServer) -> None:
    """Wait until no generation is in flight (a leak fails on the deadline)."""
    async with asyncio.timeout(5):
        # Polled: the count lives in the server, behind HTTP.
        while (await health(srv))["generations_in_flight"]:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


def assert_note(data: dict[str, Any], note: SoapNote = NOTE) -> None:
    assert {k: data[k] for k in SECTION_KEYS} == note.sections()
    assert data["completeness"] == {"s": True, "o": True, "a": True, "p": True}
    assert data["soap_hash"] == canonical_hash(data) == note.soap_hash


def assert_prefixes(partial: dict[str, Any], note: SoapNote) -> None:
    """What a partial shows is the start of the final text: nothing to take back later."""
    for key in SECTION_KEYS:
        assert getattr(note, key).startswith(partial[key]), key


# --- 1. the happy path ----------------------------------------------------------------------


async def test_note_streams_from_the_provider(upstream: Upstream, serve: Serve) -> None:
    upstream.fake.push(Scenario(text=NOTE_JSON, chunk=8))
    async with serve(upstream, **FAST) as srv:
        stream = await read_stream(srv, body("happy"))
        again = await read_stream(srv, body("happy"))

    assert stream.events[0] == ("status", {"type": "generating"})
    assert stream.partials, "the note is shown while it is written"
    for partial in stream.partials:
        assert set(partial) == {*SECTION_KEYS, "completeness"}
        assert_prefixes(partial, NOTE)
    for before, after in itertools.pairwise(stream.partials):
        assert all(after["completeness"][k] >= before["completeness"][k] for k in "soap")
    soap = stream.soap()
    assert_note(soap)
    assert soap["cached"] is False
    assert soap["is_degraded"] is False
    assert soap["engine"] == upstream.provider
    assert soap["model"] == upstream.model
    assert soap["consultation_id"] == "happy"
    assert soap["text_hash"] == text_hash(TRANSCRIPT)

    # The provider got our prompt and the whole transcript, once.
    assert len(upstream.fake.requests) == 1
    assert upstream.fake.requests[0]["stream"] is True
    system, user = upstream.prompt()
    assert system == SYSTEM_PROMPT
    assert user == user_message(TRANSCRIPT)

    # The same text again is answered from the cache, without the provider.
    assert again.names == ["status", "soap"]
    assert again.events[0][1] == {"type": "cache_hit"}
    assert again.soap()["soap_hash"] == soap["soap_hash"]
    assert again.soap()["cached"] is True
    assert len(upstream.fake.requests) == 1


async def test_the_note_carries_the_tokens_the_provider_billed(
    upstream: Upstream, serve: Serve
) -> None:
    # A first attempt that never formed the object was billed too: the note costs both.
    upstream.fake.push(Scenario(text=PROSE), Scenario(text=NOTE_JSON, chunk=8))
    async with serve(upstream, **FAST) as srv:
        soap = (await read_stream(srv, body("billed"))).soap()
        again = (await read_stream(srv, body("billed"))).soap()
        async with httpx.AsyncClient(base_url=srv.url, timeout=10) as client:
            # The recorder writes in the background: wait for the version to land.
            async with asyncio.timeout(5):
                # Polled: the version lives in the server's database, behind HTTP.
                while (  # noqa: ASYNC110
                    resp := await client.get("/v1/consultations/billed", headers=srv.headers)
                ).status_code == 404:
                    await asyncio.sleep(0.02)
    billed = upstream.fake.usages
    assert len(billed) == 2
    expected = {
        "input_tokens": sum(u.prompt_tokens for u in billed),
        "output_tokens": sum(u.output_tokens for u in billed),
    }
    # The retry read the prompt the first attempt left in the provider's cache.
    for key in ("cache_creation_input_tokens", "cache_read_input_tokens"):
        if total := sum(getattr(u, key) for u in billed):
            expected[key] = total
    assert "cache_read_input_tokens" in expected
    assert soap["usage"] == expected
    assert again["cached"] is True
    assert again["usage"] == expected, "a cache hit shows what the note cost"
    assert resp.json()["latest"]["usage"] == expected


async def test_a_provider_stalling_after_the_object_does_not_hold_the_note(
    upstream: Upstream, serve: Serve
) -> None:
    # The whole object arrives, then neither the usage report nor the end of the stream.
    upstream.fake.push(Scenario(text=SHORT_JSON, chunk=16, stall_after=len(SHORT_JSON)))
    async with serve(upstream, **FAST) as srv:
        stream = await read_stream(srv, body("stalled-after"))
        assert await upstream.fake.wait_disconnect(), "the stalled request was not closed"
    soap = stream.soap()
    assert_note(soap, SHORT_NOTE)
    assert soap["is_degraded"] is False
    assert soap["usage"] is None, "no usage was reported: none is invented"


async def test_a_note_without_an_llm_has_no_usage(make_server: Callable[..., Any]) -> None:
    async with make_server() as srv:
        soap = (await read_stream(srv, body("local"))).soap()
    assert soap["engine"] == "local"
    assert soap["usage"] is None


# --- 2. first text at once, then throttled -------------------------------------------------------


def assert_shown_at_once(partials: list[dict[str, Any]], chunk: int) -> None:
    """What a clinician relies on was not held back by the throttle (of a stream of
    SHORT_JSON in deltas of ``chunk`` characters).

    The first partial goes out with the first words of the note, one delta's worth, not
    after a throttle interval has gathered more. Every section completion is shown when it
    happens: in the partial of the very delta that closed it (so the next section holds at
    most the rest of that delta), with the section's whole text."""
    first = partials[0]
    assert 0 < len(first["subjective"]) <= chunk
    assert first["objective"] == first["assessment"] == first["plan"] == ""
    assert not any(first["completeness"].values())
    completed: list[str] = []
    previous = dict.fromkeys("soap", False)
    for partial in partials:
        for flag, done in partial["completeness"].items():
            if done and not previous[flag]:
                completed.append(flag)
                assert partial[SHORT[flag]] == getattr(SHORT_NOTE, SHORT[flag])
                if flag != "p":
                    following = SHORT["soap"["soap".index(flag) + 1]]
                    assert len(partial[following]) < chunk, (flag, partial[following])
        previous = partial["completeness"]
    assert completed == list("soap")
    assert partials[-1]["completeness"] == dict.fromkeys("soap", True)


async def test_first_words_are_sent_at_once_then_partials_are_throttled(
    openai: Upstream, serve: Serve
) -> None:
    # Provider-independent (the throttle sits after the engine): one provider is enough.
    chunk, delay, rate = 8, 0.03, 4.0
    openai.fake.push(Scenario(text=SHORT_JSON, chunk=chunk, delay=delay))
    async with serve(openai, **FAST, partials_per_second=rate) as srv:
        stream = await read_stream(srv, body("slow", SHORT_NOTE.subjective))

    partials = stream.partials
    assert_note(stream.soap(), SHORT_NOTE)
    for partial in partials:
        assert_prefixes(partial, SHORT_NOTE)

    # The plan's completion too is shown as it happens, although here `}` ends the same
    # delta: the `soap` event waits for the evidence check and the durable write, the
    # text need not.
    assert_shown_at_once(partials, chunk)
    last_delta = SHORT_JSON[len(SHORT_JSON) - (len(SHORT_JSON) % chunk or chunk) :]
    assert last_delta.endswith('"}'), "the plan's end and the note's come in one delta"

    # Throttled in between: at most `rate` per second of streaming, plus one per section
    # completion, plus the first. The duration is what the fake's delays add up to; when the
    # machine was slower than that, the stream really was longer and the bound follows it.
    deltas = math.ceil(len(SHORT_JSON) / chunk)
    nominal = (deltas - 1) * delay
    measured = stream.arrived[-1] - stream.arrived[1]
    bound = math.ceil(max(nominal, measured) * rate) + len(SECTION_KEYS) + 1
    assert len(partials) <= bound, (len(partials), bound, deltas)
    assert len(partials) < deltas / 2, "partials are throttled, not one per delta"


async def test_a_server_whose_loop_is_late_sends_fewer_partials_but_every_completion_at_once(
    openai: Upstream, serve: Serve
) -> None:
    chunk, delay, rate = 8, 0.03, 20.0
    openai.fake.push(Scenario(text=SHORT_JSON, chunk=chunk, delay=delay))
    # A busy worker: the periodic partials give way (delphos/pace.py), nothing else.
    async with serve(openai, **FAST, partials_per_second=rate) as srv, late_loop():
        pace = srv.app_state.loop_lag.pace
        deadline = time.monotonic() + 10
        while pace.interval < MAX_INTERVAL and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        assert pace.interval == MAX_INTERVAL, "the server saw its loop late"
        stream = await read_stream(srv, body("late-loop", SHORT_NOTE.subjective))

    assert_note(stream.soap(), SHORT_NOTE)
    partials = stream.partials
    assert_shown_at_once(partials, chunk)
    # In between, about one a second instead of `rate`.
    measured = stream.arrived[-1] - stream.arrived[1]
    paced = 1 + len(SECTION_KEYS) + math.ceil(measured / MAX_INTERVAL) + 1
    assert len(partials) <= paced, (len(partials), paced, measured)
    assert measured * rate > 2 * paced, "the stream was long enough to tell the two apart"


async def test_a_note_whose_last_delta_only_closes_it_does_not_repeat_its_last_partial(
    openai: Upstream, serve: Serve
) -> None:
    # The plan ends one delta before `}`: its completion is shown then, and the delta that
    # closes the object adds nothing a client would see, so no partial repeats it.
    chunk = 5
    assert len(SHORT_JSON) % chunk == 1, "the last delta is the closing brace alone"
    openai.fake.push(Scenario(text=SHORT_JSON, chunk=chunk, delay=0.01))
    async with serve(openai, **FAST) as srv:
        stream = await read_stream(srv, body("brace-alone", SHORT_NOTE.subjective))

    assert_note(stream.soap(), SHORT_NOTE)
    assert stream.partials[-1]["completeness"] == dict.fromkeys("soap", True)
    for before, after in itertools.pairwise(stream.partials):
        assert before != after, "a partial repeated the one before it"


# --- 3. retries before the first token ---------------------------------------------------------


@pytest.mark.parametrize("failure", ["rate_limited", "overloaded"])
async def test_transient_failure_before_any_text_is_retried(
    upstream: Upstream, serve: Serve, failure: str
) -> None:
    status = 429 if failure == "rate_limited" else upstream.overloaded_status
    upstream.fake.push(Scenario(status=status), Scenario(text=NOTE_JSON))
    async with serve(upstream, **FAST) as srv:
        stream = await read_stream(srv, body(f"retry-{failure}"))

    assert_note(stream.soap())
    assert stream.soap()["is_degraded"] is False
    assert len(upstream.fake.requests) == 2
    # The retry sent the same prompt.
    assert upstream.prompt(0) == upstream.prompt(1)


async def test_provider_down_is_a_processing_error_after_the_retries(
    upstream: Upstream, serve: Serve
) -> None:
    upstream.fake.push(*[Scenario(status=500)] * (RETRIES + 1))
    async with serve(upstream, **FAST) as srv:
        stream = await read_stream(srv, body("down"))

    assert stream.names == ["status", "error"]
    assert stream.error()["code"] == "PROCESSING_ERROR"
    assert stream.error()["degraded"] is False
    # Exactly attempts + 1: the good default answer queued behind was never asked for.
    assert len(upstream.fake.requests) == RETRIES + 1


# --- 4. failure in the middle of the note -------------------------------------------------------


@pytest.mark.parametrize("failure", ["error_event", "dropped"])
async def test_failure_after_text_was_shown_is_a_degraded_error_without_retry(
    upstream: Upstream, serve: Serve, failure: str
) -> None:
    cut = _position(NOTE_JSON, "objective", 30)
    scenario = (
        Scenario(text=NOTE_JSON, error_after=cut)
        if failure == "error_event"
        else Scenario(text=NOTE_JSON, drop_after=cut)
    )
    upstream.fake.push(scenario)
    async with serve(upstream, **FAST) as srv:
        stream = await read_stream(srv, body(f"mid-{failure}"))
        # A client retrying gets a fresh note: the failure was not cached.
        retried = await read_stream(srv, body(f"mid-{failure}"))

    error = stream.error()
    assert error["code"] == "PROCESSING_ERROR"
    assert error["degraded"] is True
    assert stream.partials
    # Before the error, the client was shown every word the provider had sent.
    last = stream.partials[-1]
    assert last["subjective"] == NOTE.subjective
    assert last["objective"] == _arrived("objective", cut)
    assert last["completeness"] == {"s": True, "o": False, "a": False, "p": False}
    # No retry once the clinician has seen text: a second answer would contradict it.
    assert len(upstream.fake.requests) == 2  # the failed one, then the client's retry
    assert retried.events[0] == ("status", {"type": "generating"})
    assert_note(retried.soap())


# --- 5. stall ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("upstream", "stall"),
    [("anthropic", "before_text"), ("anthropic", "mid_note"), ("openai", "mid_note")],
    indirect=["upstream"],
)
async def test_stalled_provider_times_out_and_the_upstream_request_is_closed(
    upstream: Upstream, serve: Serve, stall: str
) -> None:
    stall_after = 0 if stall == "before_text" else _position(NOTE_JSON, "subjective", 40)
    upstream.fake.push(Scenario(text=NOTE_JSON, stall_after=stall_after))
    async with serve(upstream, **FAST, generation_timeout=1.0) as srv:
        stream = await read_stream(srv, body(f"stall-{stall}"))
        # The provider sees us hang up: no request left open, no tokens burnt for nobody.
        assert await upstream.fake.wait_disconnect(timeout=5)
        await wait_idle(srv)

    error = stream.error()
    assert error["code"] == "PROCESSING_TIMEOUT"
    assert error["degraded"] is (stall == "mid_note")
    assert bool(stream.partials) is (stall == "mid_note")
    if stream.partials:
        assert stream.partials[-1]["subjective"] == _arrived("subjective", stall_after)
    assert len(upstream.fake.requests) == 1
    assert upstream.fake.completed == 0


async def test_words_that_arrived_are_shown_while_the_provider_pauses(
    anthropic: Upstream, serve: Serve
) -> None:
    # Fast deltas, then silence: the words that came in just after the last partial must
    # not wait for a next delta that may never come (here: until the generation timeout).
    stall_after = _position(NOTE_JSON, "objective", 30)
    anthropic.fake.push(Scenario(text=NOTE_JSON, chunk=8, stall_after=stall_after))
    expected = _arrived("objective", stall_after)
    async with serve(anthropic, **FAST, generation_timeout=60.0, partials_per_second=2) as srv:
        seen = await read_stream(
            srv,
            body("pause"),
            stop=lambda s: bool(s.partials) and s.partials[-1]["objective"] == expected,
            deadline=10.0,  # far below the generation timeout: no error can show it
        )
        assert await anthropic.fake.wait_disconnect(timeout=5)

    last = seen.partials[-1]
    assert last["objective"] == expected, "the client hung up without seeing the words"
    assert last["subjective"] == NOTE.subjective
    assert last["completeness"]["s"] is True


# --- 6. output that is not the object ---------------------------------------------------------


BROKEN_JSON = NOTE_JSON.replace('", "objective"', '" "objective"', 1)  # a missing comma


@pytest.mark.parametrize("output", ["prose", "broken_json"])
async def test_output_that_is_not_the_object_twice_is_a_parse_error(
    upstream: Upstream, serve: Serve, output: str
) -> None:
    bad = PROSE if output == "prose" else BROKEN_JSON
    upstream.fake.push(Scenario(text=bad), Scenario(text=bad))
    async with serve(upstream, **FAST) as srv:
        stream = await read_stream(srv, body(f"parse-{output}"))

    error = stream.error()
    assert error["code"] == "PARSE_ERROR"
    # Broken JSON showed the subjective before it broke; prose showed nothing.
    assert error["degraded"] is (output == "broken_json")
    assert bool(stream.partials) is (output == "broken_json")
    assert len(upstream.fake.requests) == 2
    assert upstream.prompt(0) == upstream.prompt(1)


async def test_output_that_is_not_the_object_once_is_retried(
    upstream: Upstream, serve: Serve
) -> None:
    upstream.fake.push(Scenario(text=PROSE), Scenario(text=NOTE_JSON))
    async with serve(upstream, **FAST) as srv:
        stream = await read_stream(srv, body("parse-once"))

    assert_note(stream.soap())
    assert stream.soap()["is_degraded"] is False
    assert len(upstream.fake.requests) == 2


# --- 7. fallback to the local engine --------------------------------------------------------------


@pytest.mark.parametrize("failure", ["mid_note", "provider_down"])
async def test_fallback_keeps_the_llms_finished_sections_and_fills_the_rest_locally(
    anthropic: Upstream, serve: Serve, failure: str
) -> None:
    if failure == "mid_note":
        anthropic.fake.push(
            Scenario(text=NOTE_JSON, error_after=_position(NOTE_JSON, "assessment", 10))
        )
    else:
        anthropic.fake.push(*[Scenario(status=500)] * (RETRIES + 1))
    async with serve(anthropic, **FAST, fallback_to_local=True) as srv:
        stream = await read_stream(srv, body(f"fallback-{failure}"))

    local = LocalEngine().build_note(TRANSCRIPT)
    soap = stream.soap()
    assert soap["is_degraded"] is True
    assert soap["soap_hash"] == canonical_hash(soap)
    assert soap["completeness"] == {"s": True, "o": True, "a": True, "p": True}
    if failure == "mid_note":
        # Finished by the LLM: kept as written. Cut off (assessment) or never started
        # (plan): the local engine's, not the LLM's half sentence.
        assert soap["subjective"] == NOTE.subjective
        assert soap["objective"] == NOTE.objective
        expected_local: tuple[str, ...] = ("assessment", "plan")
        assert stream.partials
    else:
        expected_local = SECTION_KEYS
    for key in expected_local:
        assert soap[key] == getattr(local, key), key
    # The local engine only writes the consultation's own words, after its documented
    # normalisations (docs/local-engine.md): nothing is invented.
    assert_faithful(TRANSCRIPT, SoapNote(**{key: soap[key] for key in expected_local}))


# --- 8. the JSON answer -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "status", "code"),
    [
        ("stall", 504, "PROCESSING_TIMEOUT"),
        ("provider_down", 502, "PROCESSING_ERROR"),
        ("prose", 502, "PARSE_ERROR"),
    ],
)
async def test_json_answer_maps_failures_to_http_statuses(
    openai: Upstream, serve: Serve, failure: str, status: int, code: str
) -> None:
    scenario = {
        "stall": Scenario(text=NOTE_JSON, stall_after=_position(NOTE_JSON, "subjective", 40)),
        "provider_down": Scenario(status=500),
        "prose": Scenario(text=PROSE),
    }[failure]
    openai.fake.default = scenario
    async with (
        serve(openai, **FAST, generation_timeout=1.0) as srv,
        httpx.AsyncClient(base_url=srv.url, timeout=STREAM_DEADLINE) as client,
    ):
        # Both JSON forms at once (distinct consultations: they must not share a run).
        answers = await asyncio.gather(
            client.post(JSON_URL, json=body(f"json-{failure}"), headers=srv.headers),
            client.post(STREAM, json=body(f"json-{failure}-2", stream=False), headers=srv.headers),
        )
        await wait_idle(srv)

    for resp in answers:
        assert resp.status_code == status
        assert resp.headers["content-type"].startswith("application/json")
        data = resp.json()
        assert set(data) == {"code", "message"}
        assert data["code"] == code
        assert_no_patient_text(resp.text)
    if failure == "stall":
        # Both upstream requests were closed when the deadline passed.
        assert await openai.fake.wait_disconnect(timeout=5, count=2)


async def test_json_answer_is_the_note(openai: Upstream, serve: Serve) -> None:
    async with (
        serve(openai, **FAST) as srv,
        httpx.AsyncClient(base_url=srv.url, timeout=STREAM_DEADLINE) as client,
    ):
        resp = await client.post(JSON_URL, json=body("json-ok"), headers=srv.headers)
    assert resp.status_code == 200
    assert_note(resp.json())
    assert resp.json()["cached"] is False


# --- 9. the client hangs up -------------------------------------------------------------------


async def test_client_leaving_closes_the_upstream_request(upstream: Upstream, serve: Serve) -> None:
    # The fake stalls after the first words: only our hanging up can end its request.
    upstream.fake.push(Scenario(text=NOTE_JSON, stall_after=_position(NOTE_JSON, "subjective", 40)))
    async with serve(upstream, **FAST, generation_timeout=60.0) as srv:
        gone = await read_stream(srv, body("leave"), stop=first_partial)
        assert gone.names == ["status", "partial"]
        assert await upstream.fake.wait_disconnect(timeout=5)
        await wait_idle(srv)
        assert upstream.fake.completed == 0

        # The service is fine and the same note can be asked for again.
        again = await read_stream(srv, body("leave"))
        assert (await health(srv))["status"] == "ok"

    assert again.events[0] == ("status", {"type": "generating"})
    assert_note(again.soap())
    assert len(upstream.fake.requests) == 2


# --- 10. two clients, one generation ---------------------------------------------------------


async def test_identical_requests_share_one_upstream_request(
    upstream: Upstream, serve: Serve
) -> None:
    upstream.fake.push(Scenario(text=NOTE_JSON, chunk=32, delay=0.02))
    async with serve(upstream, **FAST) as srv:
        a_seen = Stream()
        a = asyncio.create_task(read_stream(srv, body("shared"), seen=a_seen))
        # B asks once A's generation is certainly under way.
        async with asyncio.timeout(STREAM_DEADLINE):
            await a_seen.partial_seen.wait()
        b = await read_stream(srv, body("shared"))
        a_stream = await a

    assert len(upstream.fake.requests) == 1
    # B joined late yet saw everything from the start: the same events as A.
    assert b.events == a_stream.events
    assert b.events[0] == ("status", {"type": "generating"})
    assert b.partials
    assert_note(b.soap())


async def test_one_of_two_clients_leaving_does_not_stop_the_other(
    upstream: Upstream, serve: Serve
) -> None:
    upstream.fake.push(Scenario(text=NOTE_JSON, chunk=32, delay=0.02))
    async with serve(upstream, **FAST) as srv:
        a_seen, b_seen = Stream(), Stream()
        # A hangs up at its first event after B has seen a partial: both were subscribed.
        a_task = asyncio.create_task(
            read_stream(srv, body("half"), seen=a_seen, stop=lambda _: first_partial(b_seen))
        )
        async with asyncio.timeout(STREAM_DEADLINE):
            await a_seen.partial_seen.wait()
        b = await read_stream(srv, body("half"), seen=b_seen)
        a = await a_task

    assert a.names[-1] == "partial", "A hung up before the end"
    assert_note(b.soap())
    assert b.soap()["is_degraded"] is False
    assert len(upstream.fake.requests) == 1


# --- 11. rejected by the provider; nothing of the patient in errors or logs --------------------


async def test_rejected_key_is_a_processing_error_without_retry(
    upstream: Upstream, serve: Serve
) -> None:
    upstream.fake.push(Scenario(status=401))
    async with serve(upstream, **FAST) as srv:
        stream = await read_stream(srv, body("bad-key"))

    assert stream.names == ["status", "error"]
    assert stream.error()["code"] == "PROCESSING_ERROR"
    assert stream.error()["degraded"] is False
    assert len(upstream.fake.requests) == 1
    # The fake's 401 body quoted the prompt's end; none of it reached the client (checked
    # in read_stream) or a log line (checked after every test).


# --- 11. a quiet stream ------------------------------------------------------------------------


async def test_a_stream_waiting_on_a_paused_provider_is_kept_alive_with_pings(
    anthropic: Upstream, serve: Serve
) -> None:
    # Proxies close idle streams: while the provider pauses, comment lines keep it open and
    # the client's events are unaffected.
    stall_after = _position(NOTE_JSON, "subjective", 40)
    anthropic.fake.push(Scenario(text=NOTE_JSON, stall_after=stall_after))
    raw = ""
    async with serve(anthropic, **FAST, generation_timeout=1.5, sse_ping_seconds=0.2) as srv:
        async with (
            httpx.AsyncClient(base_url=srv.url, timeout=STREAM_DEADLINE) as client,
            client.stream("POST", STREAM, json=body("pings"), headers=srv.headers) as resp,
        ):
            async for chunk in resp.aiter_text():
                raw += chunk
    comments = [block for block in raw.split("\n\n") if block.startswith(":")]
    assert len(comments) >= 2
    events = parse_sse(raw)
    check_order(events)
    assert events[-1][0] == "error"
    assert events[-1][1]["code"] == "PROCESSING_TIMEOUT"
