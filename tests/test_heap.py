"""The collector's settings a started worker runs with (see delphos/heap.py)."""

from __future__ import annotations

import gc

from delphos import heap


def test_a_started_worker_collects_its_young_generation_rarely() -> None:
    # Once per process: a test that started an app earlier already made the change.
    heap.freeze_startup()
    young, middle, old = gc.get_threshold()
    assert young == heap.YOUNG_THRESHOLD > 700  # CPython's default: every 700
    assert (middle, old) == (10, 10)  # the older generations keep CPython's ratios
