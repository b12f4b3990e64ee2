"""What lives as long as the process, kept out of the cyclic garbage collector's reach.

A full collection walks every tracked object with the event loop stopped. Startup (the
imports, the evidence checker's drug dictionary) and the first note (the engine's and the
checker's lexicons: about a million objects) make objects that live until the process
exits; left in, each full collection walked them: ~90 ms after startup and ~450 ms after
the first note here, stalling every open request (the cache-hit benchmark's p99).
``gc.freeze()`` moves them to a generation the collector never scans.

The young generation is also made larger (:data:`YOUNG_THRESHOLD`). With CPython's default
(a collection every 700 net allocations of tracked objects, a full one whenever what
survived grew by a quarter), 500 open streams meant a young collection every ~35 ms, a
middle one (3-11 ms) every ~0.4 s and a full one (35-55 ms, the event loop stopped, every
stream's next delta waiting) every ~5 s: 0.7 s of collection in a 20 s batch, and its
pauses were much of the delay past 10 ms
(bench/streams.py, alternating runs: first text / section done p99 17.6-30.6 /
23.6-30.6 ms with the default, 10.3-16.1 / 13.9-17.5 ms with 20,000; the worker's memory
unchanged). Nearly everything a request allocates is freed by reference counting before
20,000 others are made, so a young collection is rarely due (9 in that batch, ~5 ms each)
and almost nothing is promoted; cyclic garbage waits at most that long.

Each step happens once per *process*, not once per app: a worker serves one app, and a
process that builds many (the test suite) must not pay a full collection over that
long-lived heap at every start, nor freeze each app's own objects for good. Nothing is
ever thawed: what was frozen lives until the process exits.
"""

from __future__ import annotations

import gc

_startup_frozen = False
_warm_frozen = False

# Net allocations of tracked objects between young collections (CPython: 700). The older
# generations keep CPython's ratios (10 young collections per middle one, 10 of those
# per full one, and a full one only once a quarter of the heap is new).
YOUNG_THRESHOLD = 20_000


def freeze_startup() -> None:
    """Collect what startup left as garbage, freeze the rest and make the young generation
    larger (first call only)."""
    global _startup_frozen
    if not _startup_frozen:
        _startup_frozen = True
        gc.collect()
        gc.freeze()
        _, middle, old = gc.get_threshold()
        gc.set_threshold(YOUNG_THRESHOLD, middle, old)


def freeze_warm() -> None:
    """After the first note: freeze what it loaded (first call only). O(1), so it can run
    on the note path; whatever request objects are alive right now are frozen with it."""
    global _warm_frozen
    if not _warm_frozen:
        _warm_frozen = True
        gc.freeze()
