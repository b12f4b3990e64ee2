"""What lives as long as the process, kept out of the cyclic garbage collector's reach.

A full collection walks every tracked object with the event loop stopped. Startup (the
imports, the evidence checker's drug dictionary) and the first note (the engine's and the
checker's lexicons: about a million objects) make objects that live until the process
exits; left in, each full collection walked them: ~90 ms after startup and ~450 ms after
the first note here, stalling every open request (the cache-hit benchmark's p99).
``gc.freeze()`` moves them to a generation the collector never scans.

Each step happens once per *process*, not once per app: a worker serves one app, and a
process that builds many (the test suite) must not pay a full collection over that
long-lived heap at every start, nor freeze each app's own objects for good. Nothing is
ever thawed: what was frozen lives until the process exits.
"""

from __future__ import annotations

import gc

_startup_frozen = False
_warm_frozen = False


def freeze_startup() -> None:
    """Collect what startup left as garbage, then freeze the rest (first call only)."""
    global _startup_frozen
    if not _startup_frozen:
        _startup_frozen = True
        gc.collect()
        gc.freeze()


def freeze_warm() -> None:
    """After the first note: freeze what it loaded (first call only). O(1), so it can run
    on the note path; whatever request objects are alive right now are frozen with it."""
    global _warm_frozen
    if not _warm_frozen:
        _warm_frozen = True
        gc.freeze()
