"""Shared test fixtures. Feature fixtures live in tests/fixtures/ and are loaded here."""

pytest_plugins = [
    "tests.fixtures.services",
    "tests.fixtures.db",
    "tests.fixtures.cache",
    "tests.fixtures.server",
    "tests.fixtures.fake_llm",
    "tests.fixtures.stt",
    "tests.fixtures.browser",
]
