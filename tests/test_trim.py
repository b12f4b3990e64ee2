"""Free C-heap memory goes back to the kernel once the server is quiet, never while busy."""

from __future__ import annotations

import asyncio
import sys

import pytest

from delphos import trim as trim_module
from delphos.trim import rss_bytes, trim, trim_when_quiet


@pytest.fixture
def trims(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the loop's trims (each still runs the real one)."""
    calls: list[int] = []
    real = trim_module.trim

    def counted() -> bool:
        calls.append(1)
        return real()

    monkeypatch.setattr(trim_module, "trim", counted)
    return calls


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_freed_heap_memory_is_handed_back_on_glibc() -> None:
    blocks = [bytes(4000) for _ in range(20_000)]  # ~80 MB from malloc
    # One block in twenty survives (as a long-lived object would): the free memory lies
    # between them, where glibc alone never gives it back.
    survivors = blocks[::20]
    del blocks
    freed = rss_bytes()
    assert trim()
    assert rss_bytes() < freed - (40 << 20)
    assert len(survivors) == 1000


def test_trim_is_a_no_op_where_malloc_trim_does_not_exist(
    monkeypatch: pytest.MonkeyPatch, trims: list[int]
) -> None:
    monkeypatch.setattr(trim_module, "_MALLOC_TRIM", None)
    assert trim() is False
    # The quiet-time loop returns at once instead of polling for nothing.
    asyncio.run(asyncio.wait_for(trim_when_quiet(lambda: False, check_seconds=0.01), 1.0))
    assert trims == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
async def test_memory_is_trimmed_only_once_the_server_is_quiet(trims: list[int]) -> None:
    busy = True
    loop = asyncio.create_task(trim_when_quiet(lambda: busy, check_seconds=0.01, min_growth=0))
    try:
        await asyncio.sleep(0.2)
        assert trims == []  # generating notes: never trimmed
        busy = False
        await asyncio.sleep(0.2)
        assert trims
    finally:
        loop.cancel()
