"""A server-sent event stream as an ASGI response, with nothing per event but the send.

A stream's `partial`s are written several times a second for each of hundreds of open
streams, so what each event costs on the event loop counts (bench/streams.py). Everything
that watches the stream is set up once per stream: a task reading the ASGI ``receive``
for the client's departure and a ping timer. Each event is then one ``send``: no task, no
``asyncio.wait`` and no cancel scope per event (as a generator driven by ``sse-starlette``
under a per-event shutdown watch cost).

When the client leaves, the source is closed at once (its ``aclose`` runs: the note's run
learns of the departure). When the server shuts down, the source is closed likewise and
the stream ends with the event ``farewell()`` gives (an error the client knows to retry),
not a cut connection. The server's shutdown is seen as ``sse-starlette`` sees it (uvicorn's
exit flag), by one :class:`ServerExit` per app for all its streams.

What a stream holds while open counts too: at 2,000 streams on one worker it is most of
the worker's memory. A task per stream waiting for the shutdown (with the event
``sse-starlette`` makes for each waiter) held ~3 KB, and one sleeping between pings
~2 KB: the shutdown is one future for every stream, and a ping a timer that starts a task
only to send.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Coroutine
from typing import Any

from sse_starlette.sse import EventSourceResponse
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from delphos.sse import PING

# The headers ``sse-starlette`` sent for our streams, encoded once.
_HEADERS = [
    (b"cache-control", b"no-store"),
    (b"connection", b"keep-alive"),
    (b"x-accel-buffering", b"no"),
    (b"content-type", b"text/event-stream; charset=utf-8"),
]


def _server_exit() -> Coroutine[Any, Any, None]:
    """Until the server shuts down (uvicorn's SIGTERM/SIGINT; one watcher per loop).
    Should a release of sse-starlette rename its watcher, streams are still served; a
    shutdown then cuts them instead of ending them with the farewell event."""
    listen = getattr(EventSourceResponse, "_listen_for_exit_signal", None)
    if listen is None:
        return asyncio.Event().wait()  # type: ignore[return-value]
    coroutine: Coroutine[Any, Any, None] = listen()
    return coroutine


class ServerExit:
    """The server's shutdown as one future, done when uvicorn starts to shut down, for
    every stream of the app. Created in the app's lifespan (on its event loop) and closed
    on shutdown."""

    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.future: asyncio.Future[None] = loop.create_future()
        self._watcher = loop.create_task(self._watch(), name="delphos-server-exit")

    async def _watch(self) -> None:
        await _server_exit()
        if not self.future.done():
            self.future.set_result(None)

    async def aclose(self) -> None:
        self._watcher.cancel()
        await asyncio.gather(self._watcher, return_exceptions=True)


class EventStreamResponse(Response):
    """``source``'s SSE bytes, each sent as it comes; ``farewell`` makes the last event of
    a stream the server's shutdown (``exiting`` done) ends, given whether ``source`` had
    sent anything."""

    def __init__(
        self,
        source: AsyncGenerator[bytes, None],
        *,
        ping_seconds: float,
        farewell: Callable[[], bytes],
        exiting: asyncio.Future[None],
    ) -> None:
        self.status_code = 200
        self.background = None
        self.raw_headers = list(_HEADERS)
        self._source = source
        self._ping_seconds = ping_seconds
        self._farewell = farewell
        self._exiting = exiting

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        loop = asyncio.get_running_loop()
        lock = asyncio.Lock()  # the events' sends and the pings never interleave
        task = asyncio.current_task()
        assert task is not None
        # The source is read here, in the request's own task: the client's departure and
        # the server's shutdown interrupt it by cancelling this task (a task of its own
        # for the source, and an ``asyncio.wait`` over it, cost ~2 KB per open stream).
        stop = _Stop(task)
        left = loop.create_task(_departure(receive))
        left.add_done_callback(stop)
        exiting = self._exiting
        # The shared future's callback is removed below, never the future cancelled.
        exiting.add_done_callback(stop)
        pings = _Pings(loop, send, lock, self._ping_seconds)
        source = self._source
        completed = False
        try:
            try:
                async for chunk in source:
                    async with lock:
                        await send(_body(chunk, more=True))
                    # Not held while the next event is awaited: a `partial` is the whole
                    # note so far, kilobytes per open stream for nothing.
                    del chunk
                completed = True
            finally:
                # From here on nothing interrupts: closing the source (the run learns of
                # the departure now) and the stream's end are awaited in full.
                stop.disarm()
                exiting.remove_done_callback(stop)
                await source.aclose()
        except asyncio.CancelledError:
            # Ours (departure or shutdown) is taken back; any other cancellation goes on.
            if not stop.fired or task.uncancel() > 0:
                raise
        finally:
            left.remove_done_callback(stop)
            # Gone also if the departure came while the source was being closed.
            gone = left.done() and not left.cancelled()
            left.cancel()
            await asyncio.gather(left, return_exceptions=True)
            await pings.stop()
        if gone:
            return  # the client is gone: nobody reads what would follow
        if not completed:
            async with lock:
                await send(_body(self._farewell(), more=True))
        async with lock:
            await send(_body(b"", more=False))


class _Stop:
    """Interrupts a stream's reading when the client leaves or the server shuts down: the
    first of the two cancels the stream's task, once, and none does after ``disarm``
    (the source is being closed)."""

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self._task = task
        self._armed = True
        self.fired = False

    def __call__(self, _done: asyncio.Future[Any]) -> None:
        if self._armed:
            self._armed = False
            self.fired = True
            self._task.cancel()

    def disarm(self) -> None:
        self._armed = False


def _body(chunk: bytes, *, more: bool) -> Message:
    return {"type": "http.response.body", "body": chunk, "more_body": more}


async def _departure(receive: Receive) -> None:
    """Until the client disconnects (the request's body was read before streaming)."""
    while (await receive())["type"] != "http.disconnect":
        pass


class _Pings:
    """A comment line every ``every`` seconds: proxies close idle streams; clients ignore
    it. A timer between pings; a task only while one is being sent (under the lock)."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, send: Send, lock: asyncio.Lock, every: float
    ) -> None:
        self._loop = loop
        self._send = send
        self._lock = lock
        self._every = every
        self._sending: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = loop.call_later(every, self._due)

    def _due(self) -> None:
        self._timer = None
        self._sending = self._loop.create_task(self._ping())

    async def _ping(self) -> None:
        async with self._lock:
            await self._send(_body(PING, more=True))
        self._timer = self._loop.call_later(self._every, self._due)

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._sending is not None:
            self._sending.cancel()
            # A ping that failed (the client gone) is of no interest now. Cancelled
            # while sending, it never re-arms the timer.
            await asyncio.gather(self._sending, return_exceptions=True)
