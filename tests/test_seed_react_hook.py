"""The DELPHOS reference's React hook ``useSOAPStream`` (seed 003), verbatim, against us.

tests/seed_clients/react/run_hook.mjs transpiles the hook with TypeScript's own transpiler,
mounts it in real React (react-test-renderer) under Node and drives it against a real
uvicorn serving Delphos. What is asserted is what the clinician's screen shows: every state
React committed, in order.

The engine is Anthropic's official SDK talking to the fake Messages API on 127.0.0.1, which
streams the real reference note of ACI-bench valid #1 (a knee sprain) at a steady pace: the
offline local engine finishes a note in a few milliseconds, too fast for a screen to show
any step reliably, and a paced provider is what real consultations look like.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from delphos.engines.anthropic_engine import AnthropicEngine
from delphos.records import SECTION_KEYS
from delphos.settings import Settings
from tests.support.fakes.llm_server import FakeLLMServer, Scenario
from tests.support.fixtures.server import LiveServer
from tests.support.fixtures.services import IN_CI
from tests.support.upstream import NOTE, NOTE_JSON, TRANSCRIPT

REACT_DIR = Path(__file__).parent / "seed_clients" / "react"
DRIVER = REACT_DIR / "run_hook.mjs"
# 16 characters every 15 ms: about a second for the whole note, so the sections visibly
# fill in one after the other.
PACED = Scenario(text=NOTE_JSON, chunk=16, delay=0.015)
ALL_DONE = {"s": True, "o": True, "a": True, "p": True}

State = dict[str, Any]
RunHook = Callable[..., Any]


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is not None:
        return path
    message = f"{tool} is not installed: the seed's React hook runs under Node"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: the seed clients must be tested)")
    pytest.skip(message)


def _installed_matches_lock() -> bool:
    """node_modules holds exactly the locked versions (npm keeps its own copy of the lock
    of what it installed in node_modules/.package-lock.json)."""
    installed = REACT_DIR / "node_modules" / ".package-lock.json"
    if not installed.exists():
        return False

    def versions(lock: Path) -> dict[str, str]:
        packages: dict[str, dict[str, Any]] = json.loads(lock.read_text())["packages"]
        return {name: p["version"] for name, p in packages.items() if name}

    return versions(installed) == versions(REACT_DIR / "package-lock.json")


@pytest.fixture(scope="module")
def node() -> str:
    """Node, with the locked React and TypeScript installed (``npm ci``) when missing."""
    node = _require("node")
    if not _installed_matches_lock():
        npm = _require("npm")
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=REACT_DIR,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            # An unreachable registry is like an unreachable service: skipped locally.
            message = f"npm ci failed in {REACT_DIR}: {done.stderr[-2000:]}"
            if IN_CI:
                pytest.fail(message)
            pytest.skip(message)
    return node


@pytest.fixture
def engine(fake_anthropic: FakeLLMServer) -> AnthropicEngine:
    return AnthropicEngine(
        Settings(anthropic_base_url=fake_anthropic.base_url), api_key="sk-test-fake"
    )


@pytest.fixture
def run_hook(node: str) -> RunHook:
    """``await run_hook(srv, mode, cid)``: the driver's report (see run_hook.mjs)."""

    async def run(srv: LiveServer, mode: str, cid: str) -> dict[str, Any]:
        proc = await asyncio.create_subprocess_exec(
            node,
            str(DRIVER),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={
                **os.environ,
                "DELPHOS_URL": srv.url,
                "DELPHOS_KEY": srv.key,
                "DELPHOS_CID": cid,
                "DELPHOS_TEXT": TRANSCRIPT,
                "DELPHOS_MODE": mode,
            },
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode == 0, err.decode()
        report: dict[str, Any] = json.loads(out)
        assert report["consoleErrors"] == [], "React complained about how the hook is used"
        return report

    return run


def done_sections(state: State) -> int:
    return sum(state["completeness"].values())


async def test_sections_fill_in_on_screen_and_the_same_text_again_is_a_cache_hit(
    make_server: Callable[..., Any],
    fake_anthropic: FakeLLMServer,
    engine: AnthropicEngine,
    run_hook: RunHook,
) -> None:
    fake_anthropic.push(PACED)
    async with make_server(engine=engine) as srv:
        report = await run_hook(srv, "stream-twice", "seed-react")
        engine_calls = srv.app_state.notes.engine_calls
    first, again = report["calls"]

    # Before the first call: an empty, idle screen.
    assert first[0]["isStreaming"] is False
    assert first[0]["sections"] == dict.fromkeys(SECTION_KEYS, "")
    # While generating, the sections fill in one after the other: the clinician reads the
    # subjective while the plan is still being written.
    streaming = first[1:-1]
    assert all(s["isStreaming"] for s in streaming)
    assert any(0 < done_sections(s) < 4 for s in streaming), [s["completeness"] for s in first]
    counts = [done_sections(s) for s in streaming]
    assert counts == sorted(counts), "a finished section never goes back to pending"
    assert any(0 < len(s["sections"]["subjective"]) < len(NOTE.subjective) for s in streaming)

    # At the end: the whole note, nothing pending, no error, the note's hash.
    final = first[-1]
    assert final["isStreaming"] is False
    assert final["error"] is None
    assert final["isDegraded"] is False
    assert final["sections"] == NOTE.sections()
    assert "Motrin 800 mg" in final["sections"]["plan"]
    assert final["completeness"] == ALL_DONE
    assert final["soapHash"] == NOTE.soap_hash
    assert re.fullmatch(r"[0-9a-f]{64}", final["soapHash"])

    # The same text again: the hook sends the hash it kept and the server answers from its
    # cache — no new generation, no provider request, and the screen never blanks out.
    assert [r["previous_soap_hash"] for r in report["requests"]] == [None, NOTE.soap_hash]
    assert engine_calls == 1
    assert len(fake_anthropic.requests) == 1
    assert again[-1] == final
    assert all(s["sections"] == NOTE.sections() for s in again)


async def test_cancel_keeps_the_words_shown_and_closes_the_provider_request(
    make_server: Callable[..., Any],
    fake_anthropic: FakeLLMServer,
    engine: AnthropicEngine,
    run_hook: RunHook,
) -> None:
    # The provider stalls 40 characters into the subjective: only cancel() can end this.
    stall_after = NOTE_JSON.index('"subjective": "') + len('"subjective": "') + 40
    fake_anthropic.push(Scenario(text=NOTE_JSON, chunk=16, stall_after=stall_after))
    async with make_server(engine=engine, generation_timeout=60.0) as srv:
        report = await run_hook(srv, "cancel", "seed-react-cancel")
        # The clinician's cancel reaches the provider: no tokens burnt for nobody.
        assert await fake_anthropic.wait_disconnect(timeout=10)
    (states,) = report["calls"]

    final = states[-1]
    assert final["isStreaming"] is False
    assert final["error"] is None, "a cancel is not an error for the clinician"
    # The words that had arrived stay on screen; nothing claims to be finished.
    shown = final["sections"]["subjective"]
    assert shown
    assert NOTE.subjective.startswith(shown)
    assert len(shown) < len(NOTE.subjective)
    assert final["completeness"] == {"s": False, "o": False, "a": False, "p": False}
    assert final["soapHash"] is None
    assert fake_anthropic.completed == 0
