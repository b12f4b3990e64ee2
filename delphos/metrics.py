"""Prometheus metrics (`GET /metrics`) an operator can alert on.

Labels are low-cardinality and never carry patient text, consultation ids or tenant ids:
routes are the route *templates* (``/v1/consultations/{consultation_id}/soap-notes``),
codes are the stable error codes.

Several worker processes: set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory before
the server starts (``delphos serve --workers N`` does it under the data directory); every
worker then writes its values there and `/metrics` sums them. ``prometheus_client`` picks
its storage when it is first imported, hence the variable must be set before.
"""

from __future__ import annotations

import hmac
import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import Response

from delphos.errors import InternalError, Unauthorized
from delphos.routing import ApiRoute, Operation

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Latency buckets for a note: a cache hit is milliseconds, an LLM note tens of seconds.
_NOTE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 90)

HTTP_REQUESTS = Counter(
    "delphos_http_requests_total",
    "HTTP requests answered, by route template, method and status",
    ["route", "method", "status"],
)
CACHE_LOOKUPS = Counter(
    "delphos_cache_lookups_total",
    "Note cache decisions",
    ["result"],  # hit | miss
)
GENERATIONS_STARTED = Counter("delphos_generations_started_total", "Engine generations started")
GENERATIONS_FAILED = Counter(
    "delphos_generations_failed_total", "Generations that ended in an error event", ["code"]
)
TIME_TO_FIRST_PARTIAL = Histogram(
    "delphos_time_to_first_partial_seconds",
    "From the start of a generation to its first partial event",
    buckets=_NOTE_BUCKETS,
)
TIME_TO_SOAP = Histogram(
    "delphos_time_to_soap_seconds",
    "From the start of a generation to its soap event (the note durable)",
    buckets=_NOTE_BUCKETS,
)
STREAMS_IN_FLIGHT = Gauge(
    "delphos_streams_in_flight", "SSE note streams open now", multiprocess_mode="livesum"
)
# How long a callback that became ready waited for the event loop, read every 50 ms
# (delphos.pace): every request, delta and partial of the worker waits about this long.
EVENT_LOOP_LAG = Gauge(
    "delphos_event_loop_lag_seconds",
    "How long the event loop kept a ready callback waiting, last read (the worst worker's)",
    multiprocess_mode="livemax",
)
PARTIAL_INTERVAL = Gauge(
    "delphos_partial_interval_seconds",
    "Seconds between a streaming note's periodic partial events now: longer while the "
    "event loop runs late (the worst worker's)",
    multiprocess_mode="livemax",
)
ENGINE_RETRIES = Counter(
    "delphos_engine_retries_total", "Engine requests retried after a transient failure"
)
NOTE_BACKLOG = Gauge(
    "delphos_note_backlog",
    "Notes spooled, waiting for the database",
    multiprocess_mode="livesum",
)
STT_SESSIONS = Gauge(
    "delphos_stt_sessions_open", "Live transcription sessions open now", multiprocess_mode="livesum"
)
STT_SESSIONS_TOTAL = Counter("delphos_stt_sessions_total", "Live transcription sessions opened")
STT_LAG_DROPS = Counter(
    "delphos_stt_lag_dropped_interims_total",
    "Interim transcripts skipped because the server fell behind",
)
KEY_LOOKUPS = Counter(
    "delphos_key_lookups_total",
    "Tenant API key checks: cached (in process), database, or joined (waited on another)",
    ["source"],
)


def _registry() -> CollectorRegistry | None:
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return None  # the default registry of this process


async def metrics(request: Request) -> Response:
    token: str | None = request.app.state.delphos.settings.metrics_token
    if token is not None:
        sent = request.headers.get("authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            raise Unauthorized("Send the metrics token as Authorization: Bearer <token>")
    registry = _registry()
    body = generate_latest(registry) if registry is not None else generate_latest()
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


routes = [
    ApiRoute(
        "/metrics",
        metrics,
        "GET",
        Operation(
            "metrics",
            "Prometheus metrics (Bearer token if DELPHOS_METRICS_TOKEN is set)",
            ok={"text/plain": {"schema": {"type": "string"}}},
            ok_description="Prometheus text exposition format",
            errors=(Unauthorized, InternalError),
            secured=False,
        ),
    )
]
