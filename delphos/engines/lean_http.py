"""The LLM SDKs' direct HTTP/1.1 connections, read by an asyncio Protocol and ``httptools``.

Under both SDKs, ``httpx`` reads a streamed body through ``httpcore``'s connection, h11's
event machine, its network stream and two async generators, for every network read. A
streamed note is one read per delta, so at 500 streams of 50 deltas a second that was a
quarter of the worker's event loop (bench/streams.py). Here the socket's bytes go through
``httptools`` (the C parser uvicorn serves with) as they arrive, from the loop's own
callback, and a read of the body is one await of a future when nothing is buffered yet,
none when something is.

The SDK still builds and sends every request (auth, headers, retries off) and reads every
answer through ``httpx``; only its default transport is this one (see
:func:`delphos.engines.transport.sdk_http_client`): direct ``http``/``https`` connections,
HTTP/1.1 (the SDKs' default), kept alive and reused like ``httpx``'s pool. Failures are
``httpx``'s exceptions, as its own transport raises them, so the SDKs' error classes and
our translation of them are unchanged. A response closed before its end (the client went
away) closes its connection at once: the provider stops generating.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from typing import Any, cast

import httptools
import httpx2

# ``response.extensions[BODY]``: this transport's body, for readers that take it directly
# (:mod:`delphos.engines.sse_read`): ``httpx`` wraps every body in a generator of its own.
BODY = "delphos.lean_body"

# A reader slower than the provider: stop reading the socket beyond this many bytes held.
_HIGH_WATER = 1 << 18
# How early a read-deadline timer may fire and still count as due (uvloop's timers have
# millisecond granularity).
_TIMER_SLACK = 0.002


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection; ``httptools`` calls the ``on_*`` methods while parsing."""

    def __init__(self, key: tuple[str, str, int], loop: asyncio.AbstractEventLoop) -> None:
        self.key = key
        # Looked up once: on CPython 3.11 asyncio.get_running_loop() is a getpid() system
        # call, and a body read waits once per delta (~4 % of the worker's loop at 500
        # streams, py-spy --native).
        self._loop = loop
        self.transport: asyncio.Transport | None = None
        self.busy = False  # a request is on it
        self.lost = False
        self.error: Exception | None = None
        self.idle_since = 0.0
        self._waiter: asyncio.Future[None] | None = None
        # The read deadline of the current wait, and the one timer that checks it.
        self._deadline = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._reset()

    def _reset(self) -> None:
        """Ready for the next response (a new parser: the last one ended its message)."""
        self.parser = httptools.HttpResponseParser(self)
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.headers_done = False
        # A list, not a deque: it holds one or two reads at a time, and an empty deque
        # is ~600 bytes per open stream against a list's ~60.
        self.chunks: list[bytes] = []
        self.held = 0
        self.complete = False
        self.keep_alive = False
        self.paused = False

    # --- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports (uvicorn's loop) are not asyncio.Transport subclasses.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if not self.busy:
            # Nothing asked, or an answer beyond the one asked: this connection is done.
            self._close()
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.error = httpx2.RemoteProtocolError("malformed HTTP response from the provider")
            self._close()
        self._wake()

    def eof_received(self) -> bool:
        return False  # the transport closes; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._stop_timer()
        if self.headers_done and not self.complete and self._until_close():
            # A body without a length or chunks ends where the connection does.
            self.complete = True
            self.keep_alive = False
        self._wake()

    # --- httptools callbacks ---------------------------------------------------------------

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.headers_done = True
        self.keep_alive = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.held += len(body)
        if self.held > _HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    def on_message_complete(self) -> None:
        self.complete = True

    # --- for the transport and the body ----------------------------------------------------

    def _until_close(self) -> bool:
        names = {name.lower() for name, _ in self.headers}
        return b"content-length" not in names and b"transfer-encoding" not in names

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    async def wait(self, timeout: float | None) -> None:  # noqa: ASYNC109 - httpx's timeouts
        """Until the next bytes, the end of the body, or the connection's; past ``timeout``
        seconds of waiting, httpx's ``ReadTimeout``.

        The deadline is lazy: a wait only moves it, and one timer per connection checks
        it when it falls due, re-armed then for the deadline as it has moved. A timer set
        and cancelled around every wait (``asyncio.timeout``) cost ~4 us of the ~45 us a
        streamed delta costs the event loop, 50 times a second for every open stream."""
        loop = self._loop
        waiter = self._waiter = loop.create_future()
        if timeout is not None:
            self._deadline = loop.time() + timeout
            if self._timer is None:
                self._timer = loop.call_at(self._deadline, self._check_deadline)
        try:
            await waiter
        finally:
            self._waiter = None

    def _check_deadline(self) -> None:
        self._timer = None
        waiter = self._waiter
        if waiter is None or waiter.done():
            return  # not waiting: the next wait arms a timer again
        loop = self._loop
        # Timers fire on the loop's clock granularity (a millisecond on uvloop), so "due"
        # allows for it rather than re-arming a timer for the last fraction.
        if loop.time() >= self._deadline - _TIMER_SLACK:
            waiter.set_exception(httpx2.ReadTimeout("the provider sent nothing in time"))
        else:
            self._timer = loop.call_at(self._deadline, self._check_deadline)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def take(self) -> bytes:
        """All of the body that came and was not yet taken, as one piece.

        Nothing is held back to be joined: when the reader keeps up, that is the one
        HTTP chunk (one provider event) the last network read brought. When the event
        loop is busy, a socket has several of a stream's events waiting by the time it
        is read, and taking them together makes them one delta downstream (the engines
        join the text of what a piece brought, see sse_read): one wake-up, one parser
        step, one pass through the note's pipeline instead of one per event. The loop's
        cost per event thus falls as its load rises, instead of queueing up."""
        chunks = self.chunks
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self.held -= len(data)
        if self.paused and self.held <= _HIGH_WATER // 2 and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        return data


class LeanBody(httpx2.AsyncByteStream):
    """A response's body as it arrives: each iteration step returns the next piece that
    came, waiting only when none has (an iterator object: no generator frame per read)."""

    def __init__(self, pool: LeanTransport, conn: _Connection, read_timeout: float | None) -> None:
        self._pool = pool
        self._conn: _Connection | None = conn
        self._timeout = read_timeout

    def __aiter__(self) -> AsyncIterator[bytes]:  # an iterator, not a generator
        return self

    async def __anext__(self) -> bytes:
        conn = self._conn
        if conn is None:
            raise StopAsyncIteration
        while True:
            if conn.chunks:
                return conn.take()
            if conn.error is not None:
                raise conn.error
            if conn.complete:
                await self.aclose()
                raise StopAsyncIteration
            if conn.lost:
                raise httpx2.RemoteProtocolError(
                    "the provider closed the connection before the end of the body"
                )
            await conn.wait(self._timeout)

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._pool.release(conn)


class LeanTransport(httpx2.AsyncBaseTransport):
    """``httpx``'s transport for direct HTTP/1.1 connections, kept alive per origin (at most
    ``max_keepalive`` idle, each for ``keepalive_expiry`` seconds) and at most
    ``max_connections`` requests at once (more wait for a free slot)."""

    def __init__(
        self,
        ssl_context: ssl.SSLContext,
        *,
        max_connections: int = 1000,
        max_keepalive: int = 100,
        keepalive_expiry: float = 5.0,
    ) -> None:
        # As httpcore does for an HTTP/1.1-only pool: the server must not pick h2.
        ssl_context.set_alpn_protocols(["http/1.1"])
        self._ssl = ssl_context
        self._slots = asyncio.Semaphore(max_connections)
        self._max_idle = max_keepalive
        self._expiry = keepalive_expiry
        self._idle: list[_Connection] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx2.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}")
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        port = url.port or (443 if url.scheme == "https" else 80)
        key = (url.scheme, url.host, port)
        assert isinstance(request.stream, httpx2.AsyncByteStream)
        body = b"".join([part async for part in request.stream])
        if any(name.lower() == b"transfer-encoding" for name, _ in request.headers.raw):
            # httpx chose chunks (a body of unknown length): all of it as one, then the end.
            body = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
        await self._slots.acquire()
        conn: _Connection | None = None
        try:
            conn = self._reuse(key) or await self._connect(key, timeouts.get("connect"))
            conn.busy = True
            assert conn.transport is not None
            conn.transport.write(_head(request) + b"\r\n" + body)
            read_timeout = timeouts.get("read")
            while not conn.headers_done:
                if conn.error is not None:
                    raise conn.error
                if conn.lost:
                    raise httpx2.RemoteProtocolError("the provider closed the connection")
                await conn.wait(read_timeout)
        except BaseException:
            if conn is not None:
                conn._close()
                conn.busy = False
            self._slots.release()
            raise
        stream = LeanBody(self, conn, read_timeout)
        extensions = {"http_version": b"HTTP/1.1", "reason_phrase": conn.reason, BODY: stream}
        if request.method == "HEAD":
            conn.keep_alive = False
            conn.complete = True
        status = conn.parser.get_status_code()
        return httpx2.Response(status, headers=conn.headers, stream=stream, extensions=extensions)

    def release(self, conn: _Connection) -> None:
        """A response is closed: its connection is kept for the next request if its answer
        was read to the end and both sides allow it, else closed now."""
        self._slots.release()
        conn.busy = False
        conn._stop_timer()
        if conn.complete and conn.keep_alive and not conn.lost and conn.error is None:
            if len(self._idle) < self._max_idle:
                conn._reset()
                conn.idle_since = time.monotonic()
                self._idle.append(conn)
                return
        conn._close()

    def _reuse(self, key: tuple[str, str, int]) -> _Connection | None:
        now = time.monotonic()
        idle = self._idle
        for index in range(len(idle) - 1, -1, -1):
            conn = idle[index]
            expired = now - conn.idle_since > self._expiry
            if expired or conn.lost:
                del idle[index]
                conn._close()
            elif conn.key == key:
                del idle[index]
                return conn
        return None

    async def _connect(self, key: tuple[str, str, int], timeout: float | None) -> _Connection:  # noqa: ASYNC109 - httpx's timeouts
        scheme, host, port = key
        loop = asyncio.get_running_loop()
        tls = self._ssl if scheme == "https" else None
        try:
            async with asyncio.timeout(timeout):
                _, conn = await loop.create_connection(
                    lambda: _Connection(key, loop),
                    host,
                    port,
                    ssl=tls,
                    server_hostname=host if tls is not None else None,
                )
        except TimeoutError:
            raise httpx2.ConnectTimeout("connecting to the provider timed out") from None
        except OSError as exc:
            raise httpx2.ConnectError(f"cannot connect to the provider ({exc.strerror})") from None
        return conn

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn._close()


def _head(request: httpx2.Request) -> bytes:
    """The request line and headers (``httpx`` has set Host and the body's length)."""
    lines = [request.method.encode(), b" ", request.url.raw_path, b" HTTP/1.1\r\n"]
    for name, value in request.headers.raw:
        lines += [name, b": ", value, b"\r\n"]
    return b"".join(lines)
