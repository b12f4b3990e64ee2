"""How often a streaming note shows its progress: less often while the event loop runs late.

A `partial` is a snapshot of the whole note so far, so a client that gets fewer of them
loses screen refreshes, never text. The ones that change what a clinician can rely on
(the note's first words, each section that completes, the end) go out the moment they
happen, whatever the pace (see ``Generation._consume``). Only the periodic ones in
between, ``DELPHOS_PARTIALS_PER_SECOND``, are paced here.

Why they give way: each costs the event loop its JSON, a listener's wake-up and a socket
write. At 500 streams on a 2-core machine the loop is saturated for seconds as the
streams peak, and every stream's next delta then waits in its queue, the first words
and the section ends among them; with one periodic partial a second instead of four,
the loop's CPU per delta was 37, 40 and 46 us against 46-47 (bench/streams.py). So while
the loop is late the interval between periodic partials grows (up to
:data:`MAX_INTERVAL`), and it comes back to the configured one as the loop keeps up.
Alternating with the fixed interval at 500 streams: section completions p99 23-46 ms
against 44-84, the `soap` event p50 0.3-1.1 s after the note's end against 0.5-1.6 s;
the first words (during the ramp, before the loop is late) unchanged.

The lateness is read off a timer that asks to run every :data:`PERIOD` seconds: how late
it ran, plus how long the callbacks already queued then took (the tasks the network
reads woke), is how long a ready callback waited (the scheduler's run queue included).
:class:`PartialPace` is the pure reducer over those readings; :class:`LoopLag` the timer.
"""

from __future__ import annotations

import asyncio
import time

from delphos.metrics import EVENT_LOOP_LAG, PARTIAL_INTERVAL

# How often the loop's lateness is read.
PERIOD = 0.05
# A reading later than this means the loop is behind (uvloop's timers fire on a
# millisecond clock: a reading of 1-2 ms is the timer's own granularity).
LATE = 0.004
# Per reading: behind, the interval grows by GROW (0.25 s to 1 s in ~0.3 s); keeping up,
# it shrinks by SHRINK (back in ~0.75 s). Slower back than away: a loop that just caught
# up is not handed the whole load again at once.
GROW = 1.25
SHRINK = 1 / 1.1
# However late the loop: a note being written is shown at least once a second.
MAX_INTERVAL = 1.0


class PartialPace:
    """The interval between a stream's periodic partials, given the loop's lateness."""

    __slots__ = ("base", "ceiling", "interval")

    def __init__(self, base: float) -> None:
        self.base = base  # 1 / DELPHOS_PARTIALS_PER_SECOND
        # A configured interval longer than the ceiling is never shortened.
        self.ceiling = max(base, MAX_INTERVAL)
        self.interval = base

    def observe(self, late: float) -> None:
        """One reading: how many seconds a ready callback waited (see :class:`LoopLag`)."""
        if late > LATE:
            self.interval = min(self.interval * GROW, self.ceiling)
        elif self.interval > self.base:
            self.interval = max(self.interval * SHRINK, self.base)


class LoopLag:
    """Reads the running loop's lateness every :data:`PERIOD` seconds into ``pace`` (and
    the ``delphos_event_loop_lag_seconds`` gauge) until :meth:`close`."""

    def __init__(self, pace: PartialPace, period: float = PERIOD) -> None:
        self._pace = pace
        self._period = period
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._late = self._ticked = 0.0
        self._closed = False
        self._arm()

    @property
    def pace(self) -> PartialPace:
        return self._pace

    def _arm(self) -> None:
        # The clock read in the callback is the process's own, not the loop's: uvloop's
        # loop.time() is the iteration's start, in milliseconds.
        self._due = time.monotonic() + self._period
        self._timer = self._loop.call_later(self._period, self._tick)

    def _tick(self) -> None:
        # A callback queued now runs after those already queued (the tasks the last
        # network reads woke: each stream's delta). How late the timer ran, plus how long
        # those took, is what a delta that came in with it waited.
        now = time.monotonic()
        self._late = max(0.0, now - self._due)
        self._ticked = now
        self._timer = None
        self._loop.call_soon(self._after)

    def _after(self) -> None:
        waited = self._late + time.monotonic() - self._ticked
        self._pace.observe(waited)
        EVENT_LOOP_LAG.set(waited)
        PARTIAL_INTERVAL.set(self._pace.interval)
        if not self._closed:
            self._arm()

    def close(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
