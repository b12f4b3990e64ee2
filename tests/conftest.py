"""Shared test fixtures. They live in tests/support/fixtures/ and are loaded here.

`make test` runs the suite on several pytest-xdist workers with ``--dist loadgroup``: each
worker has its own Postgres database and its own Redis key prefixes (tests/support/fixtures),
and the tests of one ``xdist_group`` run on one worker, one after the other.
"""

from __future__ import annotations

import os

import pytest

pytest_plugins = [
    "tests.support.fixtures.services",
    "tests.support.fixtures.db",
    "tests.support.fixtures.cache",
    "tests.support.fixtures.coordination",
    "tests.support.fixtures.server",
    "tests.support.fixtures.fake_llm",
    "tests.support.fixtures.upstream",
    "tests.support.fixtures.stt",
    "tests.support.fixtures.browser",
]


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first, and tests sharing a module-scoped fixture in one group.

    On xdist workers, the long ones (a real llama.cpp model, a browser, speech) start
    first and run beside the many short ones, instead of being what a run waits for last.

    Tests sharing a module-scoped fixture (a llama.cpp server, a browser's server, an
    `npm ci`) form one group: a worker starts that fixture once and runs them together,
    where spreading them would start it once per worker, or again and again on a worker
    that alternates them with other modules' tests."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            continue
        for name in info.names_closure:
            definitions = info.name2fixturedefs.get(name)
            if definitions and definitions[-1].scope == "module":
                module = item.nodeid.split("::", 1)[0]
                item.add_marker(pytest.mark.xdist_group(module))
                break
