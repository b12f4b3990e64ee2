"""The LLM SDKs' HTTP client, with network reads that cost no timer when they need none.

``httpcore`` (under both SDKs' ``httpx``) wraps every network read in ``anyio.fail_after``
and an exception-mapping context manager, even when the read has no timeout: a cancel
scope entered and left per read, looking up the current task and async library each
time. A streamed note is one read per delta, so at 500 streams that was ~15 % of the
worker's event loop (bench/streams.py). Streamed requests are sent without a read timeout
(:data:`STREAM_READ_TIMEOUT`): the stream's ONE deadline is the pipeline's generation
timeout over the whole run (``Generation._run``), and a read without a timeout goes
straight to the socket here. Reads with a timeout (non-streamed answers) are unchanged.

Everything else is the SDK's own client (limits, redirects, environment proxies); only
the direct connections' network backend is swapped. Should a release of ``httpcore``
rename what is swapped, the client is left as the SDK made it: slower, never wrong.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from typing import Any

import anyio
import httpcore2
import httpx2
from httpcore2._backends.anyio import AnyIOBackend, AnyIOStream

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


class _Stream(AnyIOStream):
    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109 - httpcore's interface
        if timeout is not None:
            return await super().read(max_bytes, timeout)
        # As ``AnyIOStream.read`` maps them, without a cancel scope around the read.
        try:
            return await self._stream.receive(max_bytes=max_bytes)
        except anyio.EndOfStream:
            return b""
        except (anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
            raise httpcore2.ReadError(exc) from exc

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
    ) -> httpcore2.AsyncNetworkStream:
        tls = await super().start_tls(ssl_context, server_hostname, timeout)
        assert isinstance(tls, AnyIOStream)
        return _Stream(tls._stream)


class _Backend(AnyIOBackend):
    async def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore2.AsyncNetworkStream:
        stream = await super().connect_tcp(*args, **kwargs)
        assert isinstance(stream, AnyIOStream)
        return _Stream(stream._stream)


def sdk_http_client(factory: Callable[[], httpx2.AsyncClient]) -> httpx2.AsyncClient:
    """The SDK's default client (``factory``: its ``DefaultAsyncHttpxClient``), its direct
    connections reading through :class:`_Stream`."""
    client = factory()
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    if isinstance(pool, httpcore2.AsyncConnectionPool) and hasattr(pool, "_network_backend"):
        pool._network_backend = _Backend()
    else:
        log.info("LLM client: httpcore's pool changed shape; reads keep their timers")
    return client
