"""An event loop made late on purpose, as a busy worker's is."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator


@contextlib.asynccontextmanager
async def late_loop(every: float = 0.008) -> AsyncIterator[None]:
    """Every round of the running loop takes at least ``every`` seconds."""

    async def hog() -> None:
        while True:
            time.sleep(every)  # noqa: ASYNC251 - blocking the loop is the point
            await asyncio.sleep(0)

    task = asyncio.create_task(hog())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
