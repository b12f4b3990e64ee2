"""Shared test fixtures. They live in tests/support/fixtures/ and are loaded here."""

pytest_plugins = [
    "tests.support.fixtures.services",
    "tests.support.fixtures.db",
    "tests.support.fixtures.cache",
    "tests.support.fixtures.server",
    "tests.support.fixtures.fake_llm",
    "tests.support.fixtures.upstream",
    "tests.support.fixtures.stt",
    "tests.support.fixtures.browser",
]
