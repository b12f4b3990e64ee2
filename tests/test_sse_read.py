"""Server-sent events read off a streamed response however the network cuts them.

The engines read the providers' SSE themselves (delphos/engines/sse_read.py); a provider or
proxy may end lines with CRLF or CR and the network may cut the body anywhere, even
between the CR and LF of one line break. The events, and so the note's text, must come out
the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest

from delphos.engines.sse_read import SseEvent, sse_batches

BODY = (
    ": a comment, ignored\n"
    "event: message_start\n"
    'data: {"type":"message_start"}\n'
    "\n"
    'data: {"choices":[{"delta":{"content":"Patient reports \\u00e9 pain"}}]}\n'
    "\n"
    "event: ping\n"
    "\n"
    "data:no space after the colon\n"
    "data: and a second data line\n"
    "\n"
    "data: [DONE]\n"
    "\n"
)
EVENTS = [
    SseEvent("message_start", '{"type":"message_start"}'),
    SseEvent("", '{"choices":[{"delta":{"content":"Patient reports \\u00e9 pain"}}]}'),
    SseEvent("", "no space after the colon\nand a second data line"),
    SseEvent("", "[DONE]"),
]


class _Pieces(httpx2.AsyncByteStream):
    def __init__(self, pieces: list[bytes]) -> None:
        self._pieces = pieces

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self._pieces:
            yield piece


async def _read(pieces: list[bytes], headers: dict[str, str] | None = None) -> list[list[SseEvent]]:
    response = httpx2.Response(200, headers=headers, stream=_Pieces(pieces))
    return [batch async for batch in sse_batches(response)]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
async def test_events_are_the_same_whatever_the_line_endings_and_cuts(newline: str) -> None:
    body = BODY.replace("\n", newline).encode()
    # Cut after every byte: between CR and LF, inside a UTF-8 character, inside a field name.
    batches = await _read([body[i : i + 1] for i in range(len(body))])
    assert [event for batch in batches for event in batch] == EVENTS


async def test_one_read_carrying_several_events_is_one_batch() -> None:
    # What piled up in the socket while the worker was busy costs one parser feed.
    assert await _read([BODY.encode()]) == [EVENTS]


async def test_an_event_cut_by_the_end_of_a_read_waits_for_the_next() -> None:
    body = BODY.encode()
    cut = body.index(b"[DONE]")
    batches = await _read([body[:cut], body[cut:]])
    assert batches == [EVENTS[:3], EVENTS[3:]]


async def test_a_compressed_body_is_decoded_first() -> None:
    import gzip

    batches = await _read([gzip.compress(BODY.encode())], {"content-encoding": "gzip"})
    assert [event for batch in batches for event in batch] == EVENTS
