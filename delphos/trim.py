"""Freed heap memory handed back to the kernel once the server goes quiet (glibc only).

Python takes every block over 512 bytes (request bodies, note JSON, spool lines, evidence
strings) from the C library's malloc. glibc keeps what is freed inside its heaps and gives
memory back to the kernel only from the top of a heap, so after a burst of streams the
free memory in the middle stays resident for good: ~65 MB after 2,000 streams on one
worker, with the notes long gone. ``malloc_trim(0)`` releases the free pages inside the
heaps too. It walks them under malloc's lock (~40 ms on a few hundred MB), stalling every
thread that allocates meanwhile, so it never runs on the request path: only from a task
that finds no note being generated twice in a row, and only once RSS has grown since the
last trim. Where malloc_trim does not exist (musl, macOS) everything here is a no-op.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import sys
from collections.abc import Callable

__all__ = ["rss_bytes", "trim", "trim_when_quiet"]


def _load_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None).malloc_trim  # the C library this process runs on
    except (OSError, AttributeError):
        return None  # not glibc
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int
    trim: Callable[[int], int] = function
    return trim


_MALLOC_TRIM = _load_trim()


def trim() -> bool:
    """Hand the C heap's free pages back to the kernel; False where that is not possible."""
    if _MALLOC_TRIM is None:
        return False
    _MALLOC_TRIM(0)
    return True


def rss_bytes() -> int:
    """This process's resident memory (0 where /proc is not there)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


async def trim_when_quiet(
    busy: Callable[[], bool], *, check_seconds: float = 5.0, min_growth: int = 32 << 20
) -> None:
    """Forever: trim once nothing is busy at two checks in a row and RSS has grown by
    ``min_growth`` since the last trim (or since the start). Returns at once off glibc."""
    if _MALLOC_TRIM is None or rss_bytes() == 0:
        return
    baseline = rss_bytes()
    quiet = 0
    while True:
        await asyncio.sleep(check_seconds)
        # Two quiet checks: not a gap between two requests of a busy server.
        quiet = 0 if busy() else quiet + 1
        if quiet < 2 or rss_bytes() - baseline < min_growth:
            continue
        await asyncio.to_thread(trim)  # the event loop keeps serving meanwhile
        baseline = rss_bytes()
