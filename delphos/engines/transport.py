"""The LLM SDKs' HTTP client: the SDK's own, its direct connections made by our transport.

``httpcore`` (under both SDKs' ``httpx``) reads a streamed body through h11, a network
stream that enters a cancel scope per read, and several generator layers: at 500 streams
of 50 deltas a second that was the largest share of the worker's event loop
(bench/streams.py). The SDK's client keeps everything it configures (limits, redirects,
environment proxies, TLS verification); only its default transport, the one for direct
connections, becomes :class:`~delphos.engines.lean_http.LeanTransport` with the same TLS
context and pool limits. Proxied requests keep ``httpcore``. Should a release of ``httpx``
rename what is swapped, the client is left as the SDK made it: slower, never wrong.

Streamed requests are sent without a read timeout (:data:`STREAM_READ_TIMEOUT`): the
stream's ONE deadline is the pipeline's generation timeout over the whole run
(``Generation._run``), so a read costs no timer. Reads with a timeout (non-streamed
answers) keep theirs.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable

import httpcore2
import httpx2

from delphos.engines.lean_http import LeanTransport

log = logging.getLogger(__name__)

# Passed as the streamed requests' read timeout: none per read (see the module docstring).
STREAM_READ_TIMEOUT: float | None = None

# A dead host should fail fast into a retry.
CONNECT_TIMEOUT = 10.0


def request_timeouts(generation_timeout: float) -> tuple[httpx2.Timeout, httpx2.Timeout]:
    """The SDK client's timeouts (answers: the generation deadline per read) and a streamed
    request's (one deadline, the pipeline's over the whole run: no timer per read)."""
    connect = min(CONNECT_TIMEOUT, generation_timeout)
    return (
        httpx2.Timeout(generation_timeout, connect=connect),
        httpx2.Timeout(generation_timeout, connect=connect, read=STREAM_READ_TIMEOUT),
    )


def sdk_http_client(factory: Callable[[], httpx2.AsyncClient]) -> httpx2.AsyncClient:
    """The SDK's default client (``factory``: its ``DefaultAsyncHttpxClient``), its direct
    connections made by :class:`LeanTransport`."""
    client = factory()
    default = getattr(client, "_transport", None)
    pool = getattr(default, "_pool", None)
    context = getattr(pool, "_ssl_context", None)
    if (
        isinstance(default, httpx2.AsyncHTTPTransport)
        and isinstance(pool, httpcore2.AsyncConnectionPool)
        and isinstance(context, ssl.SSLContext)
        and getattr(pool, "_http2", False) is False
    ):
        client._transport = LeanTransport(
            context,
            max_connections=getattr(pool, "_max_connections", 1000),
            max_keepalive=getattr(pool, "_max_keepalive_connections", 100),
            keepalive_expiry=getattr(pool, "_keepalive_expiry", None) or 5.0,
        )
    else:
        log.info("LLM client: httpx's transport changed shape; keeping httpcore")
    return client
