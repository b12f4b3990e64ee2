"""A real consultation, and the fake LLM provider a test's server generates its note with.

The fixtures that start them are in tests/support/fixtures/upstream.py.
``no_patient_text_in_logs`` is autouse in the modules that import it: after each test, no
log line may name this patient.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Literal

import pytest

from delphos.records import SoapNote
from tests.support.fakes.llm_server import FakeLLMServer, last_user_text
from tests.support.fixtures.db import aci_example
from tests.support.fixtures.server import LiveServer

Provider = Literal["anthropic", "openai"]
PROVIDERS: list[Provider] = ["anthropic", "openai"]


def _consultation() -> tuple[str, SoapNote]:
    """ACI-bench valid #1 (a knee sprain): the real dialogue and its reference note.

    The reference's "assessment and plan" text is split at its own PLAN heading, so each of
    the four sections holds what a clinician would expect there.
    """
    source, ref = aci_example(1)
    impression, _, plan = (ref.assessment + "\n\n" + ref.plan).partition("\n\nPLAN\n\n")
    assert plan, "the reference note has a PLAN heading"
    note = SoapNote(
        subjective=ref.subjective.strip(),
        objective=ref.objective.strip(),
        assessment=impression.removeprefix("IMPRESSION").strip(),
        plan=plan.strip(),
    )
    return source, note


TRANSCRIPT, NOTE = _consultation()
# The model output the fakes stream: the note as one JSON object (newlines escaped).
NOTE_JSON = json.dumps(NOTE.sections(), ensure_ascii=False)
# The fakes' error bodies quote the last 100 characters of the prompt, as a provider
# echoing its input would; these words of the visit are in that window.
ECHOED = ("finalize the report", "checked out")
# Words of this patient's visit that no message of ours contains.
PATIENT_WORDS = ("thompson", "ladder", "digoxin", "crutches", *ECHOED)


@dataclass
class Upstream:
    """One fake provider and the settings that point the service at it."""

    provider: Provider
    fake: FakeLLMServer

    @property
    def settings(self) -> dict[str, Any]:
        url_setting = f"{self.provider}_base_url"
        return {"engine": self.provider, url_setting: self.fake.base_url}

    @property
    def model(self) -> str:
        return "claude-sonnet-4-6" if self.provider == "anthropic" else "gpt-4o-mini"

    @property
    def overloaded_status(self) -> int:
        # Anthropic says "overloaded" with 529; OpenAI-compatible servers with 503.
        return 529 if self.provider == "anthropic" else 503

    def prompt(self, index: int = 0) -> tuple[str, str]:
        """(system prompt, user message) of the ``index``-th upstream request."""
        body = self.fake.requests[index]
        if self.provider == "anthropic":
            # The user message arrives cut into blocks (for the prompt cache).
            return str(body["system"]), last_user_text(body)
        system, message = body["messages"]
        assert system["role"] == "system"
        return str(system["content"]), str(message["content"])


Serve = Callable[..., AbstractAsyncContextManager[LiveServer]]


@pytest.fixture(autouse=True)
def no_patient_text_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """After every test: no log record (ours, the SDKs', uvicorn's) names the patient.
    uvicorn's reach caplog: the test servers leave its loggers propagating."""
    caplog.set_level(logging.INFO)
    yield
    # `caplog.records` would be this teardown's only: the test ran in the "call" phase.
    # Formatted, so that a traceback's text is checked too.
    formatter = logging.Formatter()
    for when in ("setup", "call", "teardown"):
        for record in caplog.get_records(when):
            assert_no_patient_text(formatter.format(record))


def assert_no_patient_text(text: str) -> None:
    lowered = text.lower()
    leaked = [word for word in PATIENT_WORDS if word in lowered]
    assert not leaked, f"patient words {leaked} in {text[:300]!r}"
