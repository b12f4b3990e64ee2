"""Server-sent events read straight off an SDK's streamed HTTP response, a read at a time.

Both LLM engines let their SDK make the request (auth, headers, status errors, retries
off) and then read the body here instead of through the SDK's stream, for cost: at 500
streams of 50 deltas a second the worker handles 25,000 deltas a second, and every layer
per delta counts. The SDKs decode each event through four async generators of
``httpx`` (raw, bytes, text, lines), an SSE decoder and, for Anthropic, a typed model and
a message snapshot per event. Here each network read becomes ONE batch: every event it
completed, decoded from bytes in one pass. The engines turn a batch into at most one text
delta, so a worker that falls behind catches up (what piled up in the socket costs one
parser feed and at most one `partial`), and nothing ever waits for more data to batch.

Only what the engines need of SSE: ``event:`` and ``data:`` fields (several ``data:``
lines joined by newlines), comments and other fields ignored, an event ending at a blank
line, lines ending in LF, CRLF or CR (a CR at the end of a read may be half a CRLF, so
it waits for the next read).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import NamedTuple

import httpx2

from delphos.engines.lean_http import BODY, LeanBody


class SseEvent(NamedTuple):
    # A tuple: one is made per delta, and a frozen dataclass's __init__ costs several times
    # a tuple's.
    event: str  # "" when the event named none (OpenAI's chunks)
    data: str


def body(response: httpx2.Response) -> AsyncIterable[bytes]:
    """The body as it arrives. Without a content encoding that is the transport's stream
    itself (ours, :mod:`~delphos.engines.lean_http`, when it made the request: ``httpx``
    wraps it in a generator): ``aiter_bytes`` would add generator layers per read."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        return response.aiter_bytes()
    lean = response.extensions.get(BODY)
    if isinstance(lean, LeanBody):
        return lean
    stream = response.stream
    if isinstance(stream, httpx2.AsyncByteStream):
        return stream
    return response.aiter_bytes()


async def sse_batches(response: httpx2.Response) -> AsyncIterator[list[SseEvent]]:
    """For each network read, the events it completed (reads completing none yield
    nothing). The response is closed by its owner (the SDK stream's ``async with``)."""
    splitter = SseSplitter()
    async for raw in body(response):
        batch = splitter.feed(raw)
        del raw  # not held while the batch goes downstream and the next read is awaited
        if batch:
            yield batch
    if batch := splitter.end():
        yield batch


class SseSplitter:
    """The events of a body fed a read at a time: no generator of its own, for readers
    that already iterate the body (one async layer less per delta)."""

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending = b""

    @property
    def pending(self) -> bool:
        """Part of an event is held, waiting for the rest."""
        return bool(self._pending)

    def feed(self, raw: bytes) -> list[SseEvent]:
        """The events this read completed."""
        pending = self._pending
        batch, self._pending = _split(pending + raw if pending else raw)
        return batch

    def end(self) -> list[SseEvent]:
        """The body ended: a CR held back as maybe half a CRLF was a line break after all."""
        pending, self._pending = self._pending, b""
        if pending.endswith(b"\r"):
            batch, _ = _split(pending[:-1] + b"\n")
            return batch
        return []


def _split(pending: bytes) -> tuple[list[SseEvent], bytes]:
    """The complete events at the start of ``pending``, and what is left of it."""
    if pending.startswith(b"data: ") and pending.find(b"\n") == len(pending) - 2:
        # Nearly every read: one event of one data line, whole (OpenAI's chunk per read).
        if pending.endswith(b"\n\n") and b"\r" not in pending:
            return [SseEvent("", pending[6:-2].decode(errors="replace"))], b""
    held = b""
    if b"\r" in pending:
        if pending.endswith(b"\r"):
            held, pending = b"\r", pending[:-1]
        pending = pending.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    end = pending.rfind(b"\n\n")
    if end < 0:
        return [], pending + held
    # A blank line ends an event at a line boundary, never inside a UTF-8 character.
    blocks = pending[:end].split(b"\n\n")
    return [event for block in blocks if (event := _event(block))], pending[end + 2 :] + held


def _event(block: bytes) -> SseEvent | None:
    if block.startswith(b"data: ") and b"\n" not in block:
        # Nearly every event: one data line and nothing else (OpenAI's chunks).
        return SseEvent("", block[6:].decode(errors="replace"))
    name = ""
    data: list[str] = []
    for line in block.decode(errors="replace").split("\n"):
        if line.startswith("data:"):
            data.append(line[6:] if line.startswith("data: ") else line[5:])
        elif line.startswith("event:"):
            name = line[7:] if line.startswith("event: ") else line[6:]
    # An event without data is not dispatched (the SSE rule), e.g. a bare ``event:`` line.
    return SseEvent(name, "\n".join(data)) if data else None
