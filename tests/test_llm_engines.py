"""The Anthropic and OpenAI engines, driven through the official SDKs against fake APIs.

The fakes (tests/support/fakes/llm_server.py) are real HTTP servers on 127.0.0.1 speaking each
provider's wire format, so everything between our engine and the socket is production
code: the SDK's request building, SSE decoding and error classes, and httpx2.
"""

from __future__ import annotations

import asyncio
import gc
import json
import traceback
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from delphos.engines.anthropic_cache import user_content
from delphos.engines.anthropic_engine import AnthropicEngine
from delphos.engines.base import (
    Engine,
    EngineError,
    EngineRejected,
    EngineUnavailable,
)
from delphos.engines.factory import build_engine
from delphos.engines.openai_engine import OpenAIEngine
from delphos.engines.prompt import (
    CLOSING,
    INSTRUCTION,
    SYSTEM_PROMPT,
    sealed_pieces,
    user_message,
)
from delphos.engines.retry import RetryingEngine
from delphos.records import Usage
from delphos.settings import Settings
from tests.support.fakes.llm_server import FakeLLMServer, Scenario, count_tokens, last_user_text
from tests.support.fakes.prompt_cache import LOOKBACK_BLOCKS, MAX_BREAKPOINTS, OPENAI_MIN_CACHED
from tests.support.fixtures.db import aci_example
from tests.support.ports import free_port

API_KEY = "sk-test-not-a-real-key"
PROVIDERS = ["anthropic", "openai"]


# --- fixtures ------------------------------------------------------------------------------


@dataclass
class Harness:
    provider: str
    fake: FakeLLMServer
    settings: Settings
    engine: AnthropicEngine | OpenAIEngine

    def retrying(self, attempts: int = 3) -> RetryingEngine:
        # No waiting between attempts: the backoff itself is tested with a recorded sleep.
        return RetryingEngine(self.engine, attempts=attempts, base_delay=0.0)

    @property
    def overloaded_status(self) -> int:
        # Anthropic's "overloaded" is 529; OpenAI-compatible servers say 503.
        return 529 if self.provider == "anthropic" else 503


def make_engine(provider: str, base_url: str, **settings: Any) -> AnthropicEngine | OpenAIEngine:
    if provider == "anthropic":
        return AnthropicEngine(Settings(anthropic_base_url=base_url, **settings), api_key=API_KEY)
    return OpenAIEngine(Settings(openai_base_url=base_url, openai_api_key=API_KEY, **settings))


@pytest.fixture(params=PROVIDERS)
async def llm(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    provider: str = request.param
    fake: FakeLLMServer = request.getfixturevalue(f"fake_{provider}")
    engine = make_engine(provider, fake.base_url)
    settings = Settings(anthropic_base_url=fake.base_url, openai_base_url=fake.base_url)
    yield Harness(provider, fake, settings, engine)
    await engine.aclose()


@dataclass(frozen=True)
class Consultation:
    transcript: str  # a real ACI-bench dialogue
    note_json: str  # its reference note as the SOAP JSON an LLM would stream


@pytest.fixture(scope="module")
def consultation() -> Consultation:
    source, note = aci_example(0)
    # ensure_ascii=False: the reference notes have bullets ("•"), so multi-byte UTF-8
    # characters cross delta boundaries as they do with a real model.
    return Consultation(source, json.dumps(note.sections(), ensure_ascii=False))


async def collect(deltas: AsyncIterator[str | Usage]) -> list[str]:
    """The text deltas (what the clinician sees), without the usage report."""
    return [delta async for delta in deltas if isinstance(delta, str)]


async def collect_all(deltas: AsyncIterator[str | Usage]) -> list[str | Usage]:
    return [delta async for delta in deltas]


async def collect_until_error(
    deltas: AsyncIterator[str | Usage],
) -> tuple[list[str], EngineError]:
    received: list[str] = []
    try:
        async for delta in deltas:
            if isinstance(delta, str):
                received.append(delta)
    except EngineError as error:
        return received, error
    pytest.fail(f"the stream ended without an EngineError after {len(received)} deltas")


# --- a normal note ---------------------------------------------------------------------------


async def test_stream_reassembles_the_models_text(llm: Harness, consultation: Consultation) -> None:
    llm.fake.push(Scenario(text=consultation.note_json, chunk=7))

    deltas = await collect(llm.engine.stream(consultation.transcript))

    assert "".join(deltas) == consultation.note_json
    # At most one delta per SSE event: events that were waiting together when read (the
    # fake writes faster than a test reads) come joined, never split.
    assert len(deltas) <= -(-len(consultation.note_json) // 7)
    assert llm.fake.completed == 1
    assert llm.fake.disconnects == 0


async def test_request_carries_model_limits_prompt_and_stream_flag(
    llm: Harness, consultation: Consultation
) -> None:
    llm.fake.push(Scenario(text="{}"))

    await collect(llm.engine.stream(consultation.transcript))

    [body] = llm.fake.requests
    [headers] = llm.fake.request_headers
    assert body["stream"] is True
    assert body["max_tokens"] == llm.settings.max_tokens
    if llm.provider == "anthropic":
        assert body["model"] == llm.settings.anthropic_model
        assert body["system"] == SYSTEM_PROMPT
        [message] = body["messages"]
        # SDK 2.x sends the key as a bearer token (the API also accepts x-api-key).
        assert API_KEY in (headers.get("x-api-key"), headers.get("authorization", "")[7:])
        # Under the API version SDK 2.x sends, sampling parameters are a 400 (the fake
        # enforces it too): the engine must not send them.
        assert "temperature" not in body
    else:
        assert body["model"] == llm.settings.openai_model
        system, message = body["messages"]
        assert system == {"role": "system", "content": SYSTEM_PROMPT}
        assert body["temperature"] == llm.settings.temperature
        assert headers["authorization"] == f"Bearer {API_KEY}"
    assert message["role"] == "user"
    assert last_user_text(body) == user_message(consultation.transcript)


async def test_output_that_is_not_json_streams_through_unchanged(llm: Harness) -> None:
    # Deciding what is a note is the parser's job; the engine must not filter or fix.
    text = 'Here is the note:\n```json\n{"subjective": "unterminated'
    llm.fake.push(Scenario(text=text, chunk=5))

    assert "".join(await collect(llm.engine.stream("[doctor] hello ."))) == text


async def test_an_empty_answer_is_an_empty_stream(llm: Harness) -> None:
    llm.fake.push(Scenario(text=""))

    assert await collect(llm.engine.stream("[doctor] hello .")) == []
    assert llm.fake.completed == 1


# --- transient failures before the first delta: retried ----------------------------------------


async def test_rate_limited_then_success_is_retried(
    llm: Harness, consultation: Consultation
) -> None:
    llm.fake.push(Scenario(status=429), Scenario(text=consultation.note_json))

    deltas = await collect(llm.retrying().stream(consultation.transcript))

    assert "".join(deltas) == consultation.note_json
    assert len(llm.fake.requests) == 2


async def test_overloaded_then_success_is_retried(llm: Harness, consultation: Consultation) -> None:
    llm.fake.push(Scenario(status=llm.overloaded_status), Scenario(text=consultation.note_json))

    deltas = await collect(llm.retrying().stream(consultation.transcript))

    assert "".join(deltas) == consultation.note_json
    assert len(llm.fake.requests) == 2


async def test_server_errors_give_up_after_the_configured_retries(llm: Harness) -> None:
    attempts = 2
    # A success is queued after the failures: a retry too many would reach it.
    llm.fake.push(*[Scenario(status=500)] * (attempts + 1), Scenario(text="{}"))

    _, error = await collect_until_error(llm.retrying(attempts).stream("[doctor] hello ."))

    assert isinstance(error, EngineUnavailable)
    assert str(error).startswith(f"{llm.provider}: server error (500")
    assert len(llm.fake.requests) == attempts + 1


async def test_error_event_before_any_text_is_retried(llm: Harness) -> None:
    llm.fake.push(Scenario(text="{}", error_after=0), Scenario(text='{"plan": ""}'))

    deltas = await collect(llm.retrying().stream("[doctor] hello ."))

    assert "".join(deltas) == '{"plan": ""}'
    assert len(llm.fake.requests) == 2


async def test_connection_dropped_before_any_text_is_retried(llm: Harness) -> None:
    llm.fake.push(Scenario(text="{}", drop_after=0), Scenario(text='{"plan": ""}'))

    deltas = await collect(llm.retrying().stream("[doctor] hello ."))

    assert "".join(deltas) == '{"plan": ""}'
    assert len(llm.fake.requests) == 2


async def test_connection_refused_is_unavailable(llm: Harness) -> None:
    # A port claimed for this process that nothing listens on: the connection is refused.
    base = f"http://127.0.0.1:{free_port()}"
    engine = make_engine(llm.provider, base + ("/v1" if llm.provider == "openai" else ""))
    try:
        _, error = await collect_until_error(engine.stream("[doctor] hello ."))
    finally:
        await engine.aclose()

    assert isinstance(error, EngineUnavailable)
    assert str(error).startswith(f"{llm.provider}: connection failed")


# --- permanent failures: not retried -------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 404])
async def test_rejections_are_not_retried(llm: Harness, status: int) -> None:
    llm.fake.push(Scenario(status=status), Scenario(text="{}"))

    _, error = await collect_until_error(llm.retrying().stream("[doctor] hello ."))

    assert isinstance(error, EngineRejected)
    assert f"({status}" in str(error)
    assert len(llm.fake.requests) == 1


# --- failures after the first delta: propagate -------------------------------------------------


async def test_error_event_after_the_first_text_propagates_without_retry(
    llm: Harness, consultation: Consultation
) -> None:
    llm.fake.push(
        Scenario(text=consultation.note_json, chunk=4, error_after=12),
        Scenario(text=consultation.note_json),
    )

    received, error = await collect_until_error(llm.retrying().stream(consultation.transcript))

    assert "".join(received) == consultation.note_json[:12]
    assert isinstance(error, EngineUnavailable)
    assert "mid-stream" in str(error)
    assert len(llm.fake.requests) == 1


async def test_connection_dropped_mid_stream_propagates_without_retry(
    llm: Harness, consultation: Consultation
) -> None:
    llm.fake.push(
        Scenario(text=consultation.note_json, chunk=4, drop_after=12),
        Scenario(text=consultation.note_json),
    )

    received, error = await collect_until_error(llm.retrying().stream(consultation.transcript))

    assert "".join(received) == consultation.note_json[:12]
    assert isinstance(error, EngineUnavailable)
    assert len(llm.fake.requests) == 1


# --- what an open stream holds ------------------------------------------------------------


async def test_an_answered_request_keeps_neither_the_transcript_nor_the_api_key(
    llm: Harness, consultation: Consultation
) -> None:
    # An open stream lasts as long as the note is written, and a worker holds hundreds:
    # the request that started it is of no use once answered, and its body is the whole
    # transcript, its headers the provider's key.
    llm.fake.push(Scenario(text=consultation.note_json, chunk=4, stall_after=8))
    # Requests of earlier tests, held here so that none of them is taken for this one.
    earlier = _requests_to(llm.fake.base_url)
    deltas = llm.engine.stream(consultation.transcript)
    assert isinstance(deltas, AsyncGenerator)
    assert isinstance(await anext(deltas), str)

    sent = [r for r in _requests_to(llm.fake.base_url) if not any(r is e for e in earlier)]
    assert sent, "the open stream's request was not found"
    for request in sent:
        assert consultation.transcript[:200].encode() not in request.content
        assert all(API_KEY not in value for _, value in request.headers.items())
    # Still named, for errors.
    assert all(request.method == "POST" for request in sent)
    await deltas.aclose()


def _requests_to(base_url: str) -> list[httpx2.Request]:
    gc.collect()
    return [
        obj
        for obj in gc.get_objects()
        # type(), not isinstance(): a dead weak proxy among them raises on the latter.
        if type(obj) is httpx2.Request and str(obj.url).startswith(base_url)
    ]


# --- the client goes away: the upstream request is closed at once ------------------------------


async def test_closing_a_stalled_stream_closes_the_upstream_request(
    llm: Harness, consultation: Consultation
) -> None:
    llm.fake.push(Scenario(text=consultation.note_json, chunk=4, stall_after=8))
    deltas = llm.retrying().stream(consultation.transcript)
    assert isinstance(deltas, AsyncGenerator)

    # The two events sent before the stall, as one delta or two (joined if both were
    # waiting when read).
    first = await anext(deltas)
    assert isinstance(first, str)
    if len(first) < 8:
        second = await anext(deltas)
        assert isinstance(second, str)
        first += second
    assert first == consultation.note_json[:8]
    # The pipeline's deadline gives up on the stalled model...
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(anext(deltas), timeout=0.2)
    await deltas.aclose()

    # ...and the fake API sees its request go away (nothing left generating upstream).
    assert await llm.fake.wait_disconnect(timeout=5.0)
    assert llm.fake.completed == 0
    assert len(llm.fake.requests) == 1


async def test_closing_the_stream_between_deltas_closes_the_upstream_request(
    llm: Harness, consultation: Consultation
) -> None:
    # The SSE client left while the model was still writing: the pipeline closes the
    # engine's generator, which must close the HTTP response, not leave it running.
    llm.fake.push(Scenario(text=consultation.note_json, chunk=4, stall_after=8))
    deltas = llm.retrying().stream(consultation.transcript)
    assert isinstance(deltas, AsyncGenerator)

    delta = await anext(deltas)
    assert isinstance(delta, str)
    assert consultation.note_json.startswith(delta)
    await deltas.aclose()

    assert await llm.fake.wait_disconnect(timeout=5.0)
    assert llm.fake.completed == 0


async def test_cancelling_the_consumer_mid_stream_closes_the_upstream_request(
    llm: Harness, consultation: Consultation
) -> None:
    llm.fake.push(Scenario(text=consultation.note_json, chunk=4, delay=0.05))
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in llm.retrying().stream(consultation.transcript):
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), timeout=5.0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await llm.fake.wait_disconnect(timeout=5.0)
    assert llm.fake.completed == 0
    # Cancellation is not a failure to retry.
    assert len(llm.fake.requests) == 1


# --- exception messages are safe to log -------------------------------------------------------

# The fake's error bodies quote the end of the prompt, like a provider echoing input: the
# words below are the end of the excerpt sent, so any body copied into a message shows them.
PATIENT_WORDS = "his chronic problems . so , brian"


@pytest.mark.parametrize(
    "scenario",
    [
        Scenario(status=429),
        Scenario(status=500),
        Scenario(status=400),
        Scenario(status=401),
        Scenario(text="{}", error_after=0),
    ],
    ids=["429", "500", "400", "401", "mid-stream-error"],
)
async def test_exception_strings_never_carry_prompt_text(llm: Harness, scenario: Scenario) -> None:
    source, _ = aci_example(0)
    excerpt = "\n".join(source.splitlines()[:7])
    assert excerpt.endswith("it's been a little while i've seen you .")
    llm.fake.push(scenario)

    _, error = await collect_until_error(llm.engine.stream(excerpt))

    # Premise: the SDK's own exception did carry the patient's words.
    assert PATIENT_WORDS in str(error.__context__)
    assert PATIENT_WORDS not in str(error)
    assert PATIENT_WORDS not in repr(error)
    # A logged traceback does not show the SDK exception either (raised ``from None``).
    assert PATIENT_WORDS not in "".join(traceback.format_exception(error))


# --- complete(): short non-streamed answers ----------------------------------------------------


async def test_complete_returns_the_whole_answer(llm: Harness) -> None:
    llm.fake.push(Scenario(text='{"plan": "Continue lisinopril 20 mg a day."}'))

    answer = await llm.engine.complete("Edit the plan.", "[doctor] keep the lisinopril .", 200)

    assert answer == '{"plan": "Continue lisinopril 20 mg a day."}'
    [body] = llm.fake.requests
    assert not body.get("stream")
    assert body["max_tokens"] == 200
    if llm.provider == "anthropic":
        assert body["system"] == "Edit the plan."
        assert body["messages"] == [{"role": "user", "content": "[doctor] keep the lisinopril ."}]
    else:
        assert body["messages"] == [
            {"role": "system", "content": "Edit the plan."},
            {"role": "user", "content": "[doctor] keep the lisinopril ."},
        ]


async def test_complete_is_retried_on_transient_errors(llm: Harness) -> None:
    llm.fake.push(Scenario(status=429), Scenario(status=500), Scenario(text="done"))

    assert await llm.retrying(attempts=2).complete("system", "user") == "done"
    assert len(llm.fake.requests) == 3


async def test_complete_rejection_is_not_retried(llm: Harness) -> None:
    llm.fake.push(Scenario(status=401), Scenario(text="done"))

    with pytest.raises(EngineRejected):
        await llm.retrying().complete("system", "user")
    assert len(llm.fake.requests) == 1


# --- retry policy ------------------------------------------------------------------------------


class RecordedSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


async def test_backoff_grows_exponentially_and_is_capped(llm: Harness) -> None:
    sleep = RecordedSleep()
    engine = RetryingEngine(llm.engine, attempts=5, base_delay=1.0, max_delay=8.0, sleep=sleep)
    llm.fake.push(*[Scenario(status=500)] * 5, Scenario(text="{}"))

    assert await collect(engine.stream("[doctor] hello .")) == ["{}"]

    # Equal jitter: each wait lies between half and all of 1, 2, 4, 8, 8 (capped) seconds.
    for delay, backoff in zip(sleep.delays, [1, 2, 4, 8, 8], strict=True):
        assert backoff / 2 <= delay <= backoff


async def test_retry_after_hint_is_honoured_up_to_the_cap(llm: Harness) -> None:
    sleep = RecordedSleep()
    engine = RetryingEngine(llm.engine, attempts=2, base_delay=0.01, max_delay=8.0, sleep=sleep)
    llm.fake.push(
        Scenario(status=429, retry_after=3),
        Scenario(status=429, retry_after=120),
        Scenario(text="{}"),
    )

    assert await collect(engine.stream("[doctor] hello .")) == ["{}"]

    assert sleep.delays == [3.0, 8.0]


async def test_retrying_engine_passes_name_and_model_through(llm: Harness) -> None:
    engine: Engine = llm.retrying()
    assert (engine.name, engine.model) == (llm.engine.name, llm.engine.model)
    assert engine.name == llm.provider


# --- build_engine ------------------------------------------------------------------------------


def test_factory_requires_the_anthropic_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)

    with pytest.raises(ValueError, match="ANTHROPIC_API_KEY"):
        build_engine(Settings(engine="anthropic"))


def test_factory_requires_the_openai_base_url() -> None:
    with pytest.raises(ValueError, match="DELPHOS_OPENAI_BASE_URL"):
        build_engine(Settings(engine="openai", openai_base_url=None))


async def test_factory_builds_a_retrying_anthropic_engine_from_settings(
    fake_anthropic: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    settings = Settings(
        engine="anthropic",
        anthropic_base_url=fake_anthropic.base_url,
        anthropic_model="claude-test-model",
        retry_attempts=1,
        retry_base_delay=0.0,
    )
    engine = build_engine(settings)
    try:
        assert (engine.name, engine.model) == ("anthropic", "claude-test-model")
        fake_anthropic.push(Scenario(status=529), Scenario(status=529), Scenario(text="{}"))
        _, error = await collect_until_error(engine.stream("[doctor] hello ."))
    finally:
        await engine.aclose()

    # retry_attempts=1: two requests, then the failure reaches the caller.
    assert isinstance(error, EngineUnavailable)
    assert len(fake_anthropic.requests) == 2
    assert fake_anthropic.request_headers[0]["authorization"] == f"Bearer {API_KEY}"


async def test_factory_builds_a_retrying_openai_engine_from_settings(
    fake_openai: FakeLLMServer,
) -> None:
    settings = Settings(
        engine="openai",
        openai_base_url=fake_openai.base_url,
        openai_model="llama3.1:8b",
        retry_attempts=1,
        retry_base_delay=0.0,
    )
    engine = build_engine(settings)
    try:
        assert (engine.name, engine.model) == ("openai", "llama3.1:8b")
        fake_openai.push(Scenario(status=503), Scenario(text="{}"))
        assert await collect(engine.stream("[doctor] hello .")) == ["{}"]
    finally:
        await engine.aclose()

    assert fake_openai.requests[-1]["model"] == "llama3.1:8b"
    # No key configured: self-hosted servers get a placeholder the SDK insists on.
    assert fake_openai.request_headers[0]["authorization"] == "Bearer not-needed"


def test_factory_builds_the_local_engine_by_default() -> None:
    local = pytest.importorskip("delphos.engines.local")

    engine = build_engine(Settings(engine="local"))

    assert isinstance(engine, local.LocalEngine)
    assert engine.name == "local"


# --- structured output and token usage ---------------------------------------------------------

FIELDS = ["subjective", "objective", "assessment", "plan"]


def asked_schema(provider: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema a request asked the output to follow, however it was spelled."""
    if provider == "anthropic":
        config = body.get("output_config")
        if config is None:
            return None
        assert config["format"]["type"] == "json_schema"
        schema: dict[str, Any] = config["format"]["schema"]
        return schema
    fmt = body.get("response_format")
    if fmt is None:
        return None
    if fmt["type"] == "json_schema":
        schema = fmt["json_schema"]["schema"]
        return schema
    assert fmt["type"] == "json_object"
    schema = fmt["schema"]
    return schema


async def test_the_note_is_asked_for_as_the_soap_object_in_section_order(llm: Harness) -> None:
    llm.fake.push(Scenario(text="{}"))

    await collect(llm.engine.stream("[doctor] hello ."))

    [body] = llm.fake.requests
    schema = asked_schema(llm.provider, body)
    assert schema is not None
    # The order of the keys is the order the note streams in.
    assert list(schema["properties"]) == FIELDS
    assert schema["required"] == FIELDS
    assert all(prop == {"type": "string"} for prop in schema["properties"].values())
    assert schema["additionalProperties"] is False
    if llm.provider == "openai":
        assert body["response_format"]["json_schema"]["strict"] is True
        assert body["stream_options"] == {"include_usage": True}


async def test_the_providers_usage_follows_the_text(
    llm: Harness, consultation: Consultation
) -> None:
    llm.fake.push(Scenario(text=consultation.note_json, chunk=11))

    items = await collect_all(llm.engine.stream(consultation.transcript))

    [reported] = llm.fake.usages
    assert items[-1] == Usage(
        reported.prompt_tokens,
        reported.output_tokens,
        reported.cache_creation_input_tokens or None,
        reported.cache_read_input_tokens or None,
    )
    assert "".join(i for i in items if isinstance(i, str)) == consultation.note_json
    assert sum(isinstance(i, Usage) for i in items) == 1
    # The prompt (system prompt and transcript) is most of what a note costs.
    assert reported.prompt_tokens > len(consultation.transcript) // 8


async def test_openai_server_refusing_json_schema_gets_llama_cpp_python_spelling_from_then_on(
    fake_openai: FakeLLMServer,
) -> None:
    fake_openai.refuses = {"json_schema"}
    fake_openai.default = Scenario(text="{}")
    engine = make_engine("openai", fake_openai.base_url)
    try:
        assert await collect(engine.stream("[doctor] hello .")) == ["{}"]
        assert await collect(engine.stream("[doctor] hello .")) == ["{}"]
    finally:
        await engine.aclose()
    types = [body.get("response_format", {}).get("type") for body in fake_openai.requests]
    # One refusal, then the other spelling — remembered for the next note.
    assert types == ["json_schema", "json_object", "json_object"]
    assert asked_schema("openai", fake_openai.requests[1]) is not None


async def test_a_server_refusing_every_schema_spelling_gets_the_prompt_alone_on_auto(
    llm: Harness,
) -> None:
    llm.fake.refuses = {"json_schema", "json_object", "output_config"}
    llm.fake.default = Scenario(text="{}")

    assert await collect(llm.engine.stream("[doctor] hello .")) == ["{}"]
    assert await collect(llm.engine.stream("[doctor] hello .")) == ["{}"]

    asked = [asked_schema(llm.provider, body) is not None for body in llm.fake.requests]
    refusals = 2 if llm.provider == "openai" else 1
    assert asked == [True] * refusals + [False, False]


async def test_a_400_that_is_not_about_structured_output_is_not_remembered(
    llm: Harness,
) -> None:
    # Every spelling refused alike (a prompt over the context window, say): the note
    # fails, and the next note still asks for structured output.
    llm.fake.default = Scenario(status=400)
    _, error = await collect_until_error(llm.engine.stream("[doctor] hello ."))
    assert isinstance(error, EngineRejected)

    llm.fake.default = Scenario(text="{}")
    requests_before = len(llm.fake.requests)
    assert await collect(llm.engine.stream("[doctor] hello .")) == ["{}"]
    assert asked_schema(llm.provider, llm.fake.requests[requests_before]) is not None


async def test_structured_output_on_fails_the_note_rather_than_drop_the_schema(
    llm: Harness,
) -> None:
    engine = make_engine(llm.provider, llm.fake.base_url, structured_output="on")
    llm.fake.refuses = {"json_schema", "json_object", "output_config"}
    try:
        _, error = await collect_until_error(engine.stream("[doctor] hello ."))
    finally:
        await engine.aclose()
    assert isinstance(error, EngineRejected)
    assert all(asked_schema(llm.provider, body) is not None for body in llm.fake.requests)


async def test_structured_output_off_never_asks(llm: Harness) -> None:
    engine = make_engine(llm.provider, llm.fake.base_url, structured_output="off")
    llm.fake.push(Scenario(text="{}"))
    try:
        assert await collect(engine.stream("[doctor] hello .")) == ["{}"]
    finally:
        await engine.aclose()
    [body] = llm.fake.requests
    assert asked_schema(llm.provider, body) is None


# --- a growing consultation: the prompt prefix is stable and cached ---------------------------


def visit(index: int, turns: int | None = None) -> str:
    """The first ``turns`` turns of a real ACI-bench dialogue (all of them by default)."""
    source, _ = aci_example(index)
    return "\n".join(source.split("\n")[:turns])


def user_blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    [message] = body["messages"]
    blocks: list[dict[str, Any]] = message["content"]
    return blocks


def unmarked(blocks: list[dict[str, Any]]) -> list[str]:
    """The blocks as the cache keys them: their bytes without the ``cache_control`` mark."""
    return [
        json.dumps({k: v for k, v in block.items() if k != "cache_control"}, sort_keys=True)
        for block in blocks
    ]


async def test_the_next_note_of_a_growing_consultation_reads_the_transcript_from_the_cache(
    fake_anthropic: FakeLLMServer,
) -> None:
    engine = make_engine("anthropic", fake_anthropic.base_url)
    fake_anthropic.default = Scenario(text="{}")
    shorter, longer = visit(9, 60), visit(9, 63)  # three more turns were spoken
    try:
        first = [d async for d in engine.stream(shorter) if isinstance(d, Usage)]
        second = [d async for d in engine.stream(longer) if isinstance(d, Usage)]
    finally:
        await engine.aclose()

    before, after = fake_anthropic.requests
    # The model reads the same message it always did, now cut into blocks.
    assert last_user_text(after) == user_message(longer)
    # Byte-identical prefix: the system prompt, then every block of the first request
    # but its open tail (the last turn, which the client may still revise).
    assert before["system"] == after["system"] == SYSTEM_PROMPT
    sealed = unmarked(user_blocks(before))[:-1]
    assert unmarked(user_blocks(after))[: len(sealed)] == sealed
    marks = [b for b in user_blocks(after) if "cache_control" in b]
    assert 1 <= len(marks) <= MAX_BREAKPOINTS
    # The first note wrote the transcript to the cache; the second read all of it back
    # and wrote only what the new turns sealed.
    [written] = first
    [read] = second
    assert written.cache_read_input_tokens is None
    assert written.cache_creation_input_tokens is not None
    assert read.cache_read_input_tokens == written.cache_creation_input_tokens
    assert read.cache_creation_input_tokens is not None
    assert read.cache_creation_input_tokens < read.input_tokens // 10
    # Our input_tokens is still every prompt token, as the fake counted them.
    assert [u.input_tokens for u in first + second] == [
        u.prompt_tokens for u in fake_anthropic.usages
    ]


async def test_a_consultation_that_grew_by_many_turns_still_reads_the_earlier_transcript(
    fake_anthropic: FakeLLMServer,
) -> None:
    # More new pieces than the API looks back over from the last mark: an anchor mark,
    # at a position that never moves, has to reach the previous request's entry.
    engine = make_engine("anthropic", fake_anthropic.base_url)
    fake_anthropic.default = Scenario(text="{}")
    shorter, longer = visit(2, 45), visit(2)
    try:
        first = [d async for d in engine.stream(shorter) if isinstance(d, Usage)]
        second = [d async for d in engine.stream(longer) if isinstance(d, Usage)]
    finally:
        await engine.aclose()

    new_pieces = len(sealed_pieces(longer)[0]) - len(sealed_pieces(shorter)[0])
    assert new_pieces > LOOKBACK_BLOCKS  # the premise
    assert first[0].cache_creation_input_tokens is not None
    assert second[0].cache_read_input_tokens is not None
    assert second[0].cache_read_input_tokens >= first[0].cache_creation_input_tokens // 2


async def test_a_short_consultation_is_read_from_the_cache_from_its_second_note(
    fake_anthropic: FakeLLMServer,
) -> None:
    # The instructions alone are past the minimum cacheable length: four turns into a
    # visit, the next note already reads what the first one sent.
    engine = make_engine("anthropic", fake_anthropic.base_url)
    fake_anthropic.default = Scenario(text="{}")
    try:
        first, second = [
            [d for d in await collect_all(engine.stream(visit(0, turns))) if isinstance(d, Usage)]
            for turns in (4, 6)
        ]
    finally:
        await engine.aclose()
    [written], [read] = first, second
    assert written.cache_read_input_tokens is None
    assert written.cache_creation_input_tokens is not None
    assert read.cache_read_input_tokens == written.cache_creation_input_tokens
    assert read.cache_read_input_tokens > read.input_tokens * 3 // 4


async def test_the_next_visit_reads_the_instructions_the_last_one_wrote(
    fake_anthropic: FakeLLMServer,
) -> None:
    # The instructions end every visit's shared prefix: a new patient's first note
    # reads them from the cache instead of paying to write them again.
    engine = make_engine("anthropic", fake_anthropic.base_url)
    fake_anthropic.default = Scenario(text="{}")
    try:
        first, other = [
            [d for d in await collect_all(engine.stream(visit(index, 6))) if isinstance(d, Usage)]
            for index in (0, 1)
        ]
    finally:
        await engine.aclose()
    [written], [read] = first, other
    instructions = count_tokens(SYSTEM_PROMPT + INSTRUCTION)
    assert written.cache_read_input_tokens is None
    assert read.cache_read_input_tokens is not None
    assert instructions <= read.cache_read_input_tokens < read.input_tokens


async def test_a_consultation_shorter_than_the_models_minimum_is_sent_uncached_without_error(
    fake_anthropic: FakeLLMServer,
) -> None:
    # Below the model's minimum cacheable length (4,096 tokens for Haiku 4.5) the marks
    # are ignored: no cache counts, no error.
    engine = make_engine("anthropic", fake_anthropic.base_url, anthropic_model="claude-haiku-4-5")
    fake_anthropic.default = Scenario(text="{}")
    try:
        for turns in (4, 6):
            items = await collect_all(engine.stream(visit(0, turns)))
            assert items[-1] == Usage(fake_anthropic.usages[-1].prompt_tokens, 1)
    finally:
        await engine.aclose()


def test_the_pieces_of_a_transcript_begin_every_longer_transcript() -> None:
    # What makes the previous request a cache hit: cutting is decided from the text
    # before each cut alone. Turn by turn through a real dialogue, and sentence by
    # sentence through running notes without line breaks.
    turns = aci_example(9)[0].split("\n")
    spoken = aci_example(0)[0].replace("[doctor] ", "").replace("[patient] ", "")
    notes = spoken.replace("\n", " ")
    sentences = [f"{sentence}." for sentence in notes.split(". ")]
    for units, sep in ((turns, "\n"), (sentences, " ")):
        previous: list[str] = []
        for n in range(1, len(units) + 1):
            text = sep.join(units[:n])
            pieces, tail = sealed_pieces(text)
            assert "".join(pieces) + tail == text
            assert pieces[: len(previous)] == previous
            assert all(piece.strip() for piece in pieces)
            previous = pieces
        assert len(previous) > 3  # the premise: the text was cut


def test_the_cache_marks_never_exceed_what_the_api_accepts() -> None:
    source, _ = aci_example(2)
    huge = "\n".join([source] * 12)[:100_000]
    blocks = user_content(huge, cache=True)
    assert isinstance(blocks, list)
    assert len([b for b in blocks if "cache_control" in b]) == MAX_BREAKPOINTS
    assert "".join(b["text"] for b in blocks) == user_message(huge)


async def test_the_openai_prompt_of_a_growing_consultation_starts_like_the_last_one_and_is_cached(
    fake_openai: FakeLLMServer,
) -> None:
    # OpenAI-compatible servers cache stable prefixes themselves: keep ours stable.
    engine = make_engine("openai", fake_openai.base_url)
    fake_openai.default = Scenario(text="{}")
    shorter, longer = visit(9, 60), visit(9, 63)
    try:
        first = await collect_all(engine.stream(shorter))
        second = await collect_all(engine.stream(longer))
    finally:
        await engine.aclose()
    # The server's own prefix cache served the second prompt, and the note says so.
    assert first[-1] == Usage(fake_openai.usages[0].prompt_tokens, 1)
    assert second[-1] == Usage(
        fake_openai.usages[1].prompt_tokens,
        1,
        cache_read_input_tokens=fake_openai.usages[1].cache_read_input_tokens,
    )
    assert isinstance(second[-1], Usage)
    assert second[-1].cache_read_input_tokens is not None
    before, after = (json.dumps(body["messages"]) for body in fake_openai.requests)
    # The first request up to its closing tag is where the second one starts.
    stable = before[: before.rindex(json.dumps(CLOSING)[1:-1])]
    assert after.startswith(stable)
    assert len(stable) > len(json.dumps(SYSTEM_PROMPT)) + len(shorter)


async def test_a_new_visit_on_an_openai_server_starts_with_the_instructions_it_cached(
    fake_openai: FakeLLMServer,
) -> None:
    # The system prompt and instruction are the same for every visit and long enough
    # (past OpenAI's 1,024 tokens) for the server's own prefix cache: another patient's
    # first note already reads them from it.
    engine = make_engine("openai", fake_openai.base_url)
    fake_openai.default = Scenario(text="{}")
    try:
        for index in (0, 1):
            await collect_all(engine.stream(visit(index, 6)))
    finally:
        await engine.aclose()
    first, other = fake_openai.requests
    assert (
        first["messages"][0]
        == other["messages"][0]
        == {
            "role": "system",
            "content": SYSTEM_PROMPT,
        }
    )
    read = fake_openai.usages[1].cache_read_input_tokens
    assert read >= OPENAI_MIN_CACHED
