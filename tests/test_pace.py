"""The periodic partials give way while the event loop runs late (delphos/pace.py).

What a clinician relies on never waits for the pace: the first words of a note, each
section as it completes and the end go out at once. Only the snapshots in between thin
out, to one a second at the least, and come back to the configured rate once the loop
keeps up.
"""

from __future__ import annotations

import asyncio
import time

import httpx
from prometheus_client import REGISTRY

from delphos.pace import LATE, MAX_INTERVAL, LoopLag, PartialPace
from tests.support.late_loop import late_loop
from tests.support.upstream import Serve, Upstream


def test_a_loop_that_keeps_up_keeps_the_configured_interval() -> None:
    pace = PartialPace(0.25)
    for _ in range(100):
        pace.observe(LATE / 2)
    assert pace.interval == 0.25


def test_a_late_loop_stretches_the_interval_up_to_a_second_and_no_further() -> None:
    pace = PartialPace(0.25)
    seen = []
    for _ in range(40):
        pace.observe(LATE * 5)
        seen.append(pace.interval)
    assert seen[0] > 0.25
    assert seen == sorted(seen)
    assert max(seen) == MAX_INTERVAL == pace.interval


def test_the_interval_comes_back_to_the_configured_one_once_the_loop_keeps_up() -> None:
    pace = PartialPace(0.25)
    for _ in range(40):
        pace.observe(1.0)
    shrinking = []
    for _ in range(40):
        pace.observe(0.0)
        shrinking.append(pace.interval)
    assert shrinking == sorted(shrinking, reverse=True)
    assert shrinking[0] < MAX_INTERVAL
    assert shrinking[-1] == 0.25


def test_a_configured_interval_longer_than_a_second_is_never_changed() -> None:
    pace = PartialPace(2.0)
    for late in (1.0, 0.0, 1.0):
        pace.observe(late)
        assert pace.interval == 2.0


async def test_the_lateness_read_off_a_blocked_loop_paces_the_partials_and_is_exported() -> None:
    pace = PartialPace(0.05)
    lag = LoopLag(pace, period=0.01)
    try:
        await asyncio.sleep(0.1)
        assert pace.interval == 0.05, "an idle loop is not late"
        async with late_loop(0.03):
            await asyncio.sleep(0.5)
            assert pace.interval > 0.05
            assert (REGISTRY.get_sample_value("delphos_event_loop_lag_seconds") or 0) >= 0.02
            assert REGISTRY.get_sample_value("delphos_partial_interval_seconds") == pace.interval
        deadline = time.monotonic() + 5
        while pace.interval > 0.05 and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        assert pace.interval == 0.05, "the pace came back once the loop kept up"
    finally:
        lag.close()


async def test_metrics_show_the_loop_lag_and_the_partial_interval(
    openai: Upstream, serve: Serve
) -> None:
    async with serve(openai) as srv:
        await asyncio.sleep(0.2)
        async with httpx.AsyncClient(base_url=srv.url) as client:
            text = (await client.get("/metrics", headers=srv.headers)).text
    values = dict(
        line.split(" ")
        for line in text.splitlines()
        if line.startswith(("delphos_event_loop_lag_seconds ", "delphos_partial_interval_seconds "))
    )
    assert float(values["delphos_event_loop_lag_seconds"]) >= 0
    # The configured 4 a second, or fewer while the server was starting (its loop late).
    assert 0.25 <= float(values["delphos_partial_interval_seconds"]) <= MAX_INTERVAL
