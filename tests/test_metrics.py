"""`GET /metrics` for operators, request ids, and JSON log lines."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.fixtures.server import API_KEY
from tests.support.ports import free_port
from tests.support.serve_process import server_process, wait_up

STREAM = "/v1/consultation/progressive-soap/stream"
SECRET = "Zyxwvut quelbarrow cough since Tuesday."


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_count_requests_cache_and_generations_without_patient_data(
    make_server: Callable[..., Any],
) -> None:
    async with make_server() as srv, httpx.AsyncClient(base_url=srv.url, timeout=30) as client:
        before = samples((await client.get("/metrics")).text)
        body = {"consultation_id": "metrics-visit-77", "accumulated_text": SECRET}
        for _ in range(2):  # a generation, then a cache hit
            assert (await client.post(STREAM, json=body, headers=srv.headers)).status_code == 200
        await client.get("/v1/consultations/metrics-visit-77/soap-notes", headers=srv.headers)
        resp = await client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    after = samples(resp.text)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("delphos_http_requests_total", route=STREAM, method="POST", status="200") == 2
    history = "/v1/consultations/{consultation_id}/soap-notes"
    assert grew("delphos_http_requests_total", route=history, method="GET", status="200") == 1
    assert grew("delphos_cache_lookups_total", result="hit") == 1
    assert grew("delphos_cache_lookups_total", result="miss") == 1
    assert grew("delphos_generations_started_total") == 1
    assert grew("delphos_time_to_soap_seconds_count") == 1
    assert grew("delphos_time_to_first_partial_seconds_count") == 1
    assert value(after, "delphos_streams_in_flight") == 0
    assert "metrics-visit-77" not in resp.text, "no consultation ids in labels"
    assert "quelbarrow" not in resp.text


async def test_metrics_token_guards_the_endpoint_when_set(make_server: Callable[..., Any]) -> None:
    async with (
        make_server(metrics_token="m-secret") as srv,
        httpx.AsyncClient(base_url=srv.url, timeout=30) as client,
    ):
        assert (await client.get("/metrics")).status_code == 401
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = await client.get("/metrics", headers={"Authorization": "Bearer m-secret"})
        assert ok.status_code == 200


async def test_every_response_carries_a_request_id_and_keeps_a_callers(
    make_server: Callable[..., Any],
) -> None:
    async with make_server() as srv, httpx.AsyncClient(base_url=srv.url, timeout=30) as client:
        first = (await client.get("/health")).headers["x-request-id"]
        second = (await client.get("/health")).headers["x-request-id"]
        given = await client.get("/health", headers={"X-Request-ID": "edge-42.a"})
        hostile = await client.get("/health", headers={"X-Request-ID": "x" * 500})
    assert first
    assert first != second
    assert given.headers["x-request-id"] == "edge-42.a"
    assert hostile.headers["x-request-id"] != "x" * 500, "an over-long id is replaced"


async def test_several_workers_json_logs_and_summed_metrics(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data_dir = tmp_path / "data"
    database_url = f"sqlite+aiosqlite:///{data_dir / 'delphos.db'}"
    log_path = tmp_path / "server.log"
    env = {"DELPHOS_LOG_FORMAT": "json", "DELPHOS_LOG_LEVEL": "info"}
    with (
        log_path.open("wb") as log_file,
        server_process(
            data_dir, database_url, port, "--migrate", "--workers", "2", output=log_file, **env
        ),
    ):
        await wait_up(url)
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            ids = []
            for i in range(20):
                resp = await client.post(
                    STREAM,
                    json={"consultation_id": f"w-{i}", "accumulated_text": SECRET},
                    headers={"x-api-key": API_KEY},
                )
                assert resp.status_code == 200
                ids.append(resp.headers["x-request-id"])
            text = (await client.get("/metrics")).text
    found = samples(text)
    total = value(found, "delphos_http_requests_total", route=STREAM, method="POST", status="200")
    assert total == 20, "summed over both workers"
    assert value(found, "delphos_generations_started_total") == 20

    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert records
    assert len(records) == len(lines), "every log line is one JSON object"
    assert {r["request_id"] for r in records} >= set(ids), "each request's lines carry its id"
    assert not any("quelbarrow" in line for line in lines)
