"""GET /openapi.json describes the service truthfully.

Schemathesis fuzzes every documented operation against a real uvicorn (on the embedded
backends, and on the real Postgres and Redis) and checks every answer against the
document: status code, content type, body schema (each SSE event included), headers, that
invalid input is refused with a 4xx and valid input is not, that an undocumented method is
a 405. Plain tests check that the document is valid OpenAPI 3.1, that it and the app's
routes match one to one, and that real streams' events, stored notes and engine failures
match their schemas.

Fuzzing is bounded and deterministic for CI. For a deeper search, run with e.g.
``DELPHOS_FUZZ_SEED=7 DELPHOS_FUZZ_EXAMPLES=300`` (random generation from that seed).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
import schemathesis
from openapi_spec_validator import OpenAPIV31SpecValidator
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from starlette.routing import WebSocketRoute

from delphos import openapi, workspace
from delphos.app import ROUTES, create_app
from delphos.db.migrate import upgrade
from delphos.routing import ApiRoute
from delphos.settings import Settings
from delphos.soap.schemas import SSE_EVENTS
from tests.support.fakes.llm_server import FakeLLMServer, Scenario
from tests.support.fixtures.cache import delete_prefix
from tests.support.fixtures.db import _pg_migrated_database as pg_migrated_database
from tests.support.fixtures.db import aci_example
from tests.support.fixtures.server import API_KEY, LiveServer, base_settings, live_server
from tests.support.sse import parse_sse

STREAM = "/v1/consultation/progressive-soap/stream"
JSON_NOTE = "/v1/consultation/progressive-soap"

_SEED = os.environ.get("DELPHOS_FUZZ_SEED")
FUZZ_CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": int(_SEED or "20240611"),
        "generation": {
            # A few dozen requests per operation and phase; the same ones every run.
            "max-examples": int(os.environ.get("DELPHOS_FUZZ_EXAMPLES", "30")),
            "deterministic": _SEED is None,
            "database": "none",
        },
        "auth": {"openapi": {"ApiKey": {"api_key": API_KEY}}},
        "checks": {
            # 413 (body over the size limit) is a refusal too.
            "negative_data_rejection": {
                "expected-statuses": ["400", "401", "404", "405", "413", "422", "5xx"]
            }
        },
    }
)

DOCUMENT = openapi.document(ROUTES)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=FUZZ_CONFIG)


# --- a real uvicorn that synchronous clients (schemathesis) can call ----------------------


@dataclass
class _Thread:
    ready: threading.Event = field(default_factory=threading.Event)
    server: LiveServer | None = None
    error: BaseException | None = None
    loop: asyncio.AbstractEventLoop | None = None
    stop: asyncio.Event | None = None


@contextmanager
def serve_in_thread(settings: Settings) -> Iterator[LiveServer]:
    """`live_server` on its own thread and loop: a blocking client in the test's thread
    would otherwise stall the loop the server runs on."""
    box = _Thread()

    async def main() -> None:
        box.loop, box.stop = asyncio.get_running_loop(), asyncio.Event()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        await upgrade(settings.resolved_database_url)
        async with live_server(settings) as srv:
            box.server = srv
            box.ready.set()
            await box.stop.wait()

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:
            box.error = exc
        finally:
            box.ready.set()

    thread = threading.Thread(target=run, name="uvicorn-under-test", daemon=True)
    thread.start()
    box.ready.wait(timeout=60)
    if box.error is not None:
        raise box.error
    assert box.server is not None, "uvicorn did not start within 60 s"
    try:
        yield box.server
    finally:
        assert box.loop is not None
        assert box.stop is not None
        box.loop.call_soon_threadsafe(box.stop.set)
        thread.join(timeout=60)


@pytest.fixture(scope="module", params=["embedded", "services"])
def fuzz_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """embedded: SQLite + in-process cache. services: the real Postgres and Redis."""
    overrides: dict[str, Any] = {}
    prefix = f"delphos-openapi-{uuid.uuid4().hex[:8]}"
    redis_url: str | None = None
    if request.param == "services":
        redis_url = request.getfixturevalue("redis_server_url")
        overrides = {
            "database_url": pg_migrated_database(request),
            "redis_url": redis_url,
            "redis_prefix": prefix,
        }
    settings = base_settings(tmp_path_factory.mktemp("openapi"), **overrides)
    with serve_in_thread(settings) as srv:
        yield srv
    if redis_url is not None:
        asyncio.run(delete_prefix(redis_url, prefix))


# --- 1. fuzzing ---------------------------------------------------------------------------


@pytest.mark.slow  # ~8 s per backend pair
@schema.parametrize()
def test_every_operation_answers_as_documented(case: Case[Any], fuzz_server: LiveServer) -> None:
    case.call_and_validate(base_url=fuzz_server.url, timeout=60)


# --- 2. the document itself ---------------------------------------------------------------


def test_the_served_document_is_valid_openapi_3_1(fuzz_server: LiveServer) -> None:
    resp = httpx.get(f"{fuzz_server.url}/openapi.json", timeout=10)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    served = resp.json()
    assert served == DOCUMENT, "the fuzzed document is the one served"
    assert served["openapi"] == "3.1.0"
    errors = [str(e) for e in OpenAPIV31SpecValidator(served).iter_errors()]
    assert errors == []


def test_every_route_is_documented_and_every_documented_operation_is_routed(
    tmp_path: Path,
) -> None:
    app = create_app(base_settings(tmp_path))
    routed: set[tuple[str, str]] = set()
    for route in app.routes:
        if route in workspace.routes:
            continue  # the workspace page and its files: not part of the API
        if isinstance(route, WebSocketRoute):
            # OpenAPI cannot describe a WebSocket; the document points to where it is.
            assert route.path in DOCUMENT["info"]["description"]
            continue
        # An API route carries its description; a plain Route would be left out of it.
        assert isinstance(route, ApiRoute), f"{route!r} is not declared as an ApiRoute"
        assert route.methods is not None
        # HEAD is Starlette's automatic twin of GET.
        routed |= {(route.path, m.lower()) for m in route.methods if m != "HEAD"}
    documented = {(path, method) for path, item in DOCUMENT["paths"].items() for method in item}
    assert routed == documented


# --- 3. real answers against their schemas ------------------------------------------------


def _validator(name: str) -> jsonschema_rs.Validator:
    """A validator for one component schema, its `$ref`s resolved within the document."""
    root = {"$ref": f"#/components/schemas/{name}", "components": DOCUMENT["components"]}
    return jsonschema_rs.Draft202012Validator(root, validate_formats=True)


def _assert_matches(name: str, payload: dict[str, Any]) -> None:
    errors = [e.message for e in _validator(name).iter_errors(payload)]
    assert errors == [], f"{name}: {errors}"
    # Nothing sent that the document does not name: the description cannot lag the code.
    documented = DOCUMENT["components"]["schemas"][name]["properties"]
    assert set(payload) == set(documented), name


_PAYLOAD_SCHEMA = {name: model.__name__ for name, model in SSE_EVENTS}


def _assert_events_match(events: list[tuple[str, dict[str, Any]]]) -> None:
    stream_validator = jsonschema_rs.Draft202012Validator(
        {
            **DOCUMENT["paths"][STREAM]["post"]["responses"]["200"]["content"]["text/event-stream"][
                "schema"
            ],
            "components": DOCUMENT["components"],
        }
    )
    for name, data in events:
        _assert_matches(_PAYLOAD_SCHEMA[name], data)
        wire = {"event": name, "data": json.dumps(data, ensure_ascii=False)}
        assert stream_validator.is_valid(wire), wire


def _post(srv: LiveServer, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{srv.url}{path}", json=body, headers=srv.headers, timeout=60)


def test_real_stream_events_match_their_schemas(fuzz_server: LiveServer) -> None:
    text, _ = aci_example(2)
    cid = f"visit-{uuid.uuid4().hex[:8]}"
    body = {"consultation_id": cid, "accumulated_text": text}

    first = _post(fuzz_server, STREAM, body)
    again = _post(fuzz_server, STREAM, body)

    generated, cached = parse_sse(first.text), parse_sse(again.text)
    assert generated[0] == ("status", {"type": "generating"})
    assert any(n == "partial" for n, _ in generated), "a real note is shown while written"
    assert generated[-1][0] == "soap"
    assert [n for n, _ in cached] == ["status", "soap"]
    assert cached[0][1] == {"type": "cache_hit"}
    _assert_events_match(generated + cached)


def test_stored_notes_answer_as_documented(fuzz_server: LiveServer) -> None:
    """The history endpoints' 200s (the fuzz mostly meets 404s: its ids are random)."""
    cid = f"visit-{uuid.uuid4().hex[:8]}"
    text, _ = aci_example(5)
    notes = [
        _post(fuzz_server, JSON_NOTE, {"consultation_id": cid, "accumulated_text": t}).json()
        for t in (text[: len(text) // 2], text)
    ]
    # The recorder writes in the background: wait until both versions are stored.
    for _ in range(200):
        page = httpx.get(
            f"{fuzz_server.url}/v1/consultations/{cid}/soap-notes",
            headers=fuzz_server.headers,
            timeout=10,
        )
        if page.status_code == 200 and len(page.json()["items"]) == 2:
            break
        time.sleep(0.05)

    def call(path: str, query: dict[str, Any] | None = None, **params: Any) -> dict[str, Any]:
        case = schema[path]["GET"].Case(
            path_parameters={"consultation_id": cid, **params}, query=query
        )
        resp = case.call_and_validate(base_url=fuzz_server.url, headers=fuzz_server.headers)
        assert resp.status_code == 200, resp.text
        result: dict[str, Any] = resp.json()
        return result

    consultation = call("/v1/consultations/{consultation_id}")
    assert consultation["versions"] == 2
    assert consultation["latest"]["soap_hash"] == notes[1]["soap_hash"]
    first_page = call("/v1/consultations/{consultation_id}/soap-notes", {"limit": 1})
    assert first_page["next_cursor"] is not None
    second_page = call(
        "/v1/consultations/{consultation_id}/soap-notes",
        {"limit": 1, "cursor": first_page["next_cursor"]},
    )
    assert [n["soap_hash"] for n in first_page["items"] + second_page["items"]] == [
        notes[1]["soap_hash"],
        notes[0]["soap_hash"],
    ]
    one = call(
        "/v1/consultations/{consultation_id}/soap-notes/{soap_hash}",
        soap_hash=notes[0]["soap_hash"],
    )
    assert one["soap_hash"] == notes[0]["soap_hash"]
    assert call("/v1/consultations/{consultation_id}/transcript")["turns"] == []
    assert call("/v1/consultations/{consultation_id}/audio")["items"] == []


def test_unrouted_paths_and_methods_answer_the_documented_errors(
    fuzz_server: LiveServer,
) -> None:
    responses = DOCUMENT["components"]["responses"]

    def schema_of(name: str) -> dict[str, Any]:
        return {
            **responses[name]["content"]["application/json"]["schema"],
            "components": DOCUMENT["components"],
        }

    missing = httpx.get(f"{fuzz_server.url}/v1/nothing-here", timeout=10)
    assert missing.status_code == 404
    assert jsonschema_rs.Draft202012Validator(schema_of("NotFound")).is_valid(missing.json())

    wrong = httpx.delete(f"{fuzz_server.url}/health", timeout=10)
    assert wrong.status_code == 405
    assert set(wrong.headers["allow"].split(", ")) == {"GET", "HEAD"}
    assert jsonschema_rs.Draft202012Validator(schema_of("MethodNotAllowed")).is_valid(wrong.json())
    assert wrong.json()["code"] == "METHOD_NOT_ALLOWED"


# --- 4. engine failures: 502 / 504 and the `error` event ----------------------------------


@pytest.fixture
def failing_engine_server(
    fake_anthropic: FakeLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Any]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-not-a-real-key")

    def make(**overrides: Any) -> Any:
        settings = base_settings(
            tmp_path,
            engine="anthropic",
            anthropic_base_url=fake_anthropic.base_url,
            retry_attempts=0,
            **overrides,
        )
        return serve_in_thread(settings)

    return make


@pytest.mark.parametrize(
    ("failure", "timeout", "status", "code"),
    [
        ("engine-down", 90.0, 502, "PROCESSING_ERROR"),
        ("engine-stalls", 0.3, 504, "PROCESSING_TIMEOUT"),
    ],
    ids=["engine-down", "engine-stalls"],
)
def test_engine_failures_answer_as_documented(
    fake_anthropic: FakeLLMServer,
    failing_engine_server: Callable[..., Any],
    failure: str,
    timeout: float,
    status: int,
    code: str,
) -> None:
    text, note = aci_example(1)
    scenario = (
        Scenario(status=500)
        if failure == "engine-down"
        else Scenario(text=json.dumps(note.sections()), stall_after=40)
    )
    fake_anthropic.push(scenario, scenario)
    with failing_engine_server(generation_timeout=timeout) as srv:
        streamed = schema[STREAM]["POST"].Case(
            body={"consultation_id": "visit-fail-1", "accumulated_text": text}
        )
        sse = streamed.call_and_validate(base_url=srv.url, headers=srv.headers, timeout=30)
        as_json = schema[STREAM]["POST"].Case(
            body={"consultation_id": "visit-fail-2", "accumulated_text": text, "stream": False}
        )
        # A documented 5xx: every other check still applies.
        whole = as_json.call_and_validate(
            base_url=srv.url,
            headers=srv.headers,
            timeout=30,
            excluded_checks=[not_a_server_error],
        )

    events = parse_sse(sse.text)
    assert events[-1][0] == "error"
    assert events[-1][1]["code"] == code
    _assert_events_match(events)
    assert whole.status_code == status
    assert whole.json()["code"] == code


# --- 5. known gaps ------------------------------------------------------------------------

_SCOPED_PATHS = ["", "/soap-notes", f"/soap-notes/{'0' * 64}", "/transcript", "/audio", "/audio/1"]


def test_a_nul_in_a_path_id_is_refused_not_a_server_error(fuzz_server: LiveServer) -> None:
    """The document says an id never holds NUL (POST refuses one); asking for one must be
    a 4xx, never a query PostgreSQL fails on (500): every scoped route checks its id with
    `delphos.http.path_id`."""
    statuses = {
        suffix: httpx.get(
            f"{fuzz_server.url}/v1/consultations/a%00b{suffix}",
            headers=fuzz_server.headers,
            timeout=10,
        ).status_code
        for suffix in _SCOPED_PATHS
    }
    assert all(400 <= s < 500 for s in statuses.values()), statuses


def test_limit_and_cursor_are_integers_as_documented(fuzz_server: LiveServer) -> None:
    cid = f"visit-{uuid.uuid4().hex[:8]}"
    assert _post(fuzz_server, JSON_NOTE, {"consultation_id": cid, "stream": False}).is_success
    statuses = {
        query: httpx.get(
            f"{fuzz_server.url}/v1/consultations/{cid}/soap-notes?{query}",
            headers=fuzz_server.headers,
            timeout=10,
        ).status_code
        for query in ("limit=", "limit=5_0", "limit=%2B5", "limit=%D9%A3", "cursor=%205")
    }
    assert set(statuses.values()) == {422}, statuses
