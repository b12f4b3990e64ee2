"""A client of the live-transcription WebSocket (`/ws/transcribe`) on a running server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed


def ws_url(srv: Any, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    base: str = srv.url
    return base.replace("http://", "ws://") + "/ws/transcribe" + (f"?{query}" if query else "")


async def collect(ws: ClientConnection, limit_s: float = 120) -> list[dict[str, Any]]:
    """Every message until the server closes the socket."""
    messages: list[dict[str, Any]] = []
    async with asyncio.timeout(limit_s):
        try:
            async for raw in ws:
                messages.append(json.loads(raw))
        except ConnectionClosed:
            pass
    return messages


async def send_binary(
    ws: ClientConnection, chunks: Iterable[bytes], *, pace_s: float = 0.0
) -> None:
    """Send ``chunks``; by default faster than real time (the session runs on audio time).

    ``pace_s`` waits that long between chunks, as a microphone does: previews (interims)
    are dropped by design while a final transcription runs, so only a paced client is sure
    to see them on a busy machine."""
    for chunk in chunks:
        await ws.send(chunk)
        await asyncio.sleep(pace_s)
