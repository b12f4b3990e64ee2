"""Redis GET for the cache-hit path, without redis-py's machinery around one command.

Why: every cache hit is one GET, and under load redis-py spends ~55 µs of CPU on it (the
pool's lock, a connection health check, the retry wrapper, command encoding, a
StreamReader) where writing the command and parsing its one reply takes ~10 µs; a whole
hit costs ~190 µs, so this was its largest piece (bench/cache_hit.py). Everything else the
cache does (SET, PING, the delta path's reads) stays on redis-py.

Scope: GET only, RESP2, on ONE pipelined connection: Redis answers a connection's commands
in the order it read them, so replies are matched to a FIFO of waiters and concurrent
requests share the socket. ``redis://`` URLs with host, port, password/username and db;
anything else (TLS, unix sockets, query options) is not ours: :func:`supports` is false
and the caller keeps redis-py.

Failures are redis-py's exceptions, which the cache's guard turns into misses:

- a lost connection fails its waiters with ``ConnectionError``; GET is idempotent, so the
  request is sent once more on a new connection (as redis-py's retry policy in
  :func:`delphos.redis_guard.connect` does: after a Redis restart the old socket is dead);
- a server that stops answering is cut by the guard's deadline, which cancels the waiter;
  a waiter cancelled while the connection has been silent for ``timeout`` closes it, so
  the next request connects afresh instead of queueing behind a hung socket;
- an error reply (``-WRONGPASS``, ``-WRONGTYPE``…) is a ``ResponseError`` naming only the
  error's kind: no server text reaches a message.

Parsing is linear in the bytes received: a reply's header is found from where it starts,
and a partial bulk value waits, unparsed, until its announced length has arrived.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import cast
from urllib.parse import unquote, urlsplit

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

__all__ = ["RedisGet", "supports"]

_CRLF = b"\r\n"
# A reply's header ("$18042", "+OK", "-ERR …") ends within this many bytes, or the peer is
# not speaking RESP2 to us.
_MAX_HEADER = 512


def supports(url: str) -> bool:
    """The URLs this client reads as redis-py would; the rest stay on redis-py."""
    parts = urlsplit(url)
    if parts.scheme != "redis" or parts.query or parts.fragment:
        return False
    db = parts.path.lstrip("/")
    return db == "" or db.isdigit()


def _command(*args: bytes) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


class _Failed(Exception):
    """An error reply, as parsed (raised to the waiter as ResponseError)."""


class _Connection(asyncio.Protocol):
    """One socket to Redis: commands written in order, replies handed to waiters in order."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.closed = False
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiters: deque[asyncio.Future[bytes | None]] = deque()
        # Since when the oldest waiter has been waiting with no reply: how a hung server
        # is told from a client that merely left.
        self._waiting_since = 0.0

    # --- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self._transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._transport = None
        waiters, self._waiters = self._waiters, deque()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(RedisConnectionError("Connection to Redis lost"))

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        start = 0
        waiters = self._waiters
        while waiters:
            try:
                parsed = _reply(buffer, start)
            except ValueError:
                self.close()  # not RESP2 as we speak it: no later reply can be trusted
                return
            if parsed is None:
                break
            value, start = parsed
            waiter = waiters.popleft()
            if waiter.done():  # its caller was cancelled: the reply is read and dropped
                continue
            if isinstance(value, _Failed):
                waiter.set_exception(ResponseError(f"Redis answered {value.args[0]}"))
            else:
                waiter.set_result(value)
        if start:
            del buffer[:start]
        if waiters:
            self._waiting_since = self.loop.time()
        elif buffer:
            # A reply nobody asked for: the stream is out of step, and every later reply
            # would go to the wrong caller.
            self.close()

    # --- commands ---------------------------------------------------------------------------

    def send(self, command: bytes) -> asyncio.Future[bytes | None]:
        if self.closed or self._transport is None:
            raise RedisConnectionError("Connection to Redis lost")
        waiter: asyncio.Future[bytes | None] = self.loop.create_future()
        if not self._waiters:
            self._waiting_since = self.loop.time()
        self._waiters.append(waiter)
        self._transport.write(command)
        return waiter

    def stalled(self, seconds: float) -> bool:
        """Replies are owed and none has come for ``seconds``."""
        return bool(self._waiters) and self.loop.time() - self._waiting_since >= seconds

    def close(self) -> None:
        if self._transport is not None:
            self._transport.abort()  # connection_lost fails the waiters
        self.closed = True


def _reply(buffer: bytearray, start: int) -> tuple[bytes | _Failed | None, int] | None:
    """The reply at ``start`` and where the next begins, or None while it is incomplete;
    ValueError for bytes that are not a reply."""
    end = buffer.find(_CRLF, start, start + _MAX_HEADER)
    if end < 0:
        if len(buffer) - start >= _MAX_HEADER:
            raise ValueError("not a Redis reply")
        return None
    kind = buffer[start]
    if kind == 0x24:  # "$": bulk string, or $-1 for no such key
        size = int(buffer[start + 1 : end])
        if size < 0:
            return None, end + 2
        stop = end + 2 + size
        if len(buffer) < stop + 2:
            return None
        with memoryview(buffer) as view:  # one copy of the value, not two
            return bytes(view[end + 2 : stop]), stop + 2
    if kind == 0x2B:  # "+": a status (AUTH and SELECT answer +OK)
        return bytes(buffer[start + 1 : end]), end + 2
    if kind == 0x2D:  # "-": an error; only its kind (the first word) is kept
        words = bytes(buffer[start + 1 : end]).split(b" ", 1)
        kind_name = words[0].decode("ascii", "replace") if words else "ERR"
        return _Failed(kind_name[:32]), end + 2
    raise ValueError("unexpected Redis reply type")


class RedisGet:
    """GET over one pipelined connection (see the module's docstring)."""

    def __init__(self, url: str, timeout: float) -> None:
        if not supports(url):
            raise ValueError("RedisGet serves plain redis:// URLs only")
        parts = urlsplit(url)
        self._host = parts.hostname or "localhost"
        self._port = parts.port or 6379
        self._timeout = timeout
        hello: list[bytes] = []
        if parts.password is not None:
            password = unquote(parts.password).encode()
            user = unquote(parts.username or "").encode()
            hello.append(_command(b"AUTH", user, password) if user else _command(b"AUTH", password))
        db = parts.path.lstrip("/")
        if db and db != "0":
            hello.append(_command(b"SELECT", db.encode()))
        self._hello = hello
        self._connection: _Connection | None = None
        self._connecting: asyncio.Task[_Connection] | None = None

    async def get(self, key: str) -> bytes | None:
        encoded = key.encode()
        command = b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(encoded), encoded)
        try:
            return await self._request(command)
        except RedisConnectionError:
            # The socket died under this request (a restarted server): once more, anew.
            return await self._request(command)

    async def _request(self, command: bytes) -> bytes | None:
        connection = self._connection
        if connection is None or connection.closed or connection.loop is not _loop():
            connection = await self._connect()
        try:
            return await connection.send(command)
        except asyncio.CancelledError:
            if connection.stalled(self._timeout):
                connection.close()
            raise

    async def _connect(self) -> _Connection:
        """The shared connection, opened once however many requests wait for it (a caller
        cancelled meanwhile does not cancel the others' connect)."""
        task = self._connecting
        if task is None or task.get_loop() is not _loop():
            task = self._connecting = _loop().create_task(self._open())
            task.add_done_callback(self._opened)
        return await asyncio.shield(task)

    def _opened(self, task: asyncio.Task[_Connection]) -> None:
        if self._connecting is task:
            self._connecting = None
        if not task.cancelled() and task.exception() is None:
            self._connection = task.result()

    async def _open(self) -> _Connection:
        loop = _loop()
        old = self._connection
        if old is not None and old.loop is loop:
            old.close()
        try:
            async with asyncio.timeout(self._timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(loop), self._host, self._port
                )
                try:
                    # AUTH and SELECT pipelined; the first refusal is the error.
                    for reply in [connection.send(command) for command in self._hello]:
                        await reply
                except BaseException:
                    connection.close()
                    raise
        except TimeoutError:
            raise RedisConnectionError("Timeout connecting to Redis") from None
        except OSError as exc:
            raise RedisConnectionError(
                f"Error connecting to Redis ({type(exc).__name__})"
            ) from None
        return connection

    async def aclose(self) -> None:
        task, self._connecting = self._connecting, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()
