"""A server-sent event stream as an ASGI response, with nothing per event but the send.

A stream's `partial`s are written several times a second for each of hundreds of open
streams, so what each event costs on the event loop counts (bench/streams.py). Everything
that watches the stream is set up once per stream: a task reading the ASGI ``receive``
for the client's departure, one waiting for the server's shutdown, and a ping timer. Each
event is then one ``send``: no task, no ``asyncio.wait`` and no cancel scope per event (as
a generator driven by ``sse-starlette`` under a per-event shutdown watch cost).

When the client leaves, the source is closed at once (its ``aclose`` runs: the note's run
learns of the departure). When the server shuts down, the source is closed likewise and
the stream ends with the event ``farewell()`` gives (an error the client knows to retry),
not a cut connection. The server's shutdown is seen as ``sse-starlette`` sees it (uvicorn's
exit flag), through its watcher, one per event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
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


class EventStreamResponse(Response):
    """``source``'s SSE bytes, each sent as it comes; ``farewell`` makes the last event of
    a stream the server's shutdown ends (given whether ``source`` had sent anything)."""

    def __init__(
        self,
        source: AsyncGenerator[bytes, None],
        *,
        ping_seconds: float,
        farewell: Callable[[], bytes],
    ) -> None:
        self.status_code = 200
        self.background = None
        self.raw_headers = list(_HEADERS)
        self._source = source
        self._ping_seconds = ping_seconds
        self._farewell = farewell

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        loop = asyncio.get_running_loop()
        lock = asyncio.Lock()  # the pump's sends and the pings never interleave
        pump = loop.create_task(self._pump(send, lock))
        left = loop.create_task(_departure(receive))
        exiting = loop.create_task(_server_exit())
        ping = loop.create_task(_pings(send, lock, self._ping_seconds))
        watched = (pump, left, exiting)
        try:
            await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (*watched, ping):
                task.cancel()
            # The pump's cancellation closes the source (the run learns of it now).
            with contextlib.suppress(asyncio.CancelledError):
                await pump
            await asyncio.gather(left, exiting, ping, return_exceptions=True)
        if left.done() and not left.cancelled():
            return  # the client is gone: nobody reads what would follow
        if not _completed(pump):
            async with lock:
                await send(_body(self._farewell(), more=True))
        async with lock:
            await send(_body(b"", more=False))

    async def _pump(self, send: Send, lock: asyncio.Lock) -> None:
        source = self._source
        try:
            async for chunk in source:
                async with lock:
                    await send(_body(chunk, more=True))
        finally:
            await source.aclose()


def _completed(task: asyncio.Task[None]) -> bool:
    """The pump sent its source to the end (an exception in it propagates from here)."""
    if task.cancelled():
        return False
    task.result()
    return True


def _body(chunk: bytes, *, more: bool) -> Message:
    return {"type": "http.response.body", "body": chunk, "more_body": more}


async def _departure(receive: Receive) -> None:
    """Until the client disconnects (the request's body was read before streaming)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _pings(send: Send, lock: asyncio.Lock, every: float) -> None:
    """A comment line now and then: proxies close idle streams; clients ignore it."""
    while True:
        await asyncio.sleep(every)
        async with lock:
            await send(_body(PING, more=True))
