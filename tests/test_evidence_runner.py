"""Where evidence is computed: a separate process by default (the event loop keeps its
core), the same answer as in the server's own process, and a process that dies costs no
note its evidence."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from delphos.errors import ServiceUnavailable
from delphos.evidence import EvidenceRunner, verify
from tests.support.sse import STREAM, parse_sse

DIALOGUE = (
    "[doctor] what brings you in today ?\n"
    "[patient] my right knee has been swollen for three days .\n"
    "[patient] i take lisinopril twenty milligrams once a day ."
)
NOTE = {
    "subjective": "Right knee swollen for 3 days.",
    "objective": "Swelling of the left knee.",
    "plan": "Continue lisinopril 40 mg daily.",
}


async def test_the_evidence_process_gives_the_same_answer_as_this_one() -> None:
    runner = EvidenceRunner(1)
    try:
        await runner.start()
        [pid] = runner.pids()
        assert pid != os.getpid()
        evidence = await runner.verify(DIALOGUE, NOTE)
    finally:
        await runner.aclose()
    assert evidence == verify(DIALOGUE, NOTE)
    assert evidence.summary.needs_review is True


async def test_the_evidence_process_gives_way_to_the_event_loop() -> None:
    # A finished note's check can wait a few milliseconds; the deltas of the streams the
    # event loop serves meanwhile cannot (bench/streams.py).
    runner = EvidenceRunner(1)
    try:
        await runner.start()
        [pid] = runner.pids()
        assert os.getpriority(os.PRIO_PROCESS, pid) > os.getpriority(os.PRIO_PROCESS, 0)
    finally:
        await runner.aclose()


async def test_a_killed_evidence_process_costs_no_note_its_evidence_and_is_replaced() -> None:
    runner = EvidenceRunner(1)
    try:
        await runner.start()
        [first] = runner.pids()
        os.kill(first, signal.SIGKILL)
        # This check finds the pool broken: it is done in a thread instead.
        evidence = await runner.verify(DIALOGUE, NOTE)
        assert evidence == verify(DIALOGUE, NOTE)
        # The next one has a new process.
        again = await runner.verify(DIALOGUE, NOTE)
        [second] = runner.pids()
    finally:
        await runner.aclose()
    assert again == evidence
    assert second != first


async def test_with_no_evidence_processes_the_check_runs_here() -> None:
    runner = EvidenceRunner(0)
    await runner.start()
    evidence = await runner.verify(DIALOGUE, NOTE)
    assert runner.pids() == []
    assert evidence == verify(DIALOGUE, NOTE)
    await runner.aclose()


# A check of seconds: a transcript that says one finding in every sentence, and a note
# of hundreds of distinct statements about it (as anyone may post to /v1/notes/verify).
SLOW_TRANSCRIPT = "[patient] pain .\n" * 5800  # under the 100,000 characters allowed
SLOW_NOTE = {"plan": " ".join(f"No pain {i}." for i in range(400))}


async def test_a_runner_with_its_checks_all_waiting_refuses_the_next_at_once() -> None:
    runner = EvidenceRunner(1, max_waiting=2)
    try:
        await runner.start()
        first = asyncio.create_task(runner.verify(SLOW_TRANSCRIPT, SLOW_NOTE))
        second = asyncio.create_task(runner.verify(SLOW_TRANSCRIPT, NOTE))
        await asyncio.sleep(0)  # both submitted: one checked, one queued
        with pytest.raises(ServiceUnavailable) as busy:
            await runner.verify(DIALOGUE, NOTE)
        assert busy.value.retry_after, "the client is told when to retry"
        await asyncio.gather(first, second)
        # Room again once they are done.
        assert await runner.verify(DIALOGUE, NOTE) == verify(DIALOGUE, NOTE)
    finally:
        await runner.aclose()


async def test_a_check_whose_caller_left_holds_its_place_until_its_process_is_done() -> None:
    # A client that posts a slow note and hangs up must not make room for the next: its
    # check goes on in the process all the same.
    runner = EvidenceRunner(1, max_waiting=1)
    try:
        await runner.start()
        left = asyncio.create_task(runner.verify(SLOW_TRANSCRIPT, SLOW_NOTE))
        await asyncio.sleep(0.1)  # taken up by the process
        left.cancel()
        with pytest.raises(ServiceUnavailable):
            await runner.verify(DIALOGUE, NOTE)
    finally:
        await runner.aclose()


async def test_a_slow_posted_note_does_not_delay_the_evidence_of_a_streamed_note(
    make_server: Any,
) -> None:
    async with make_server(engine="local", evidence_processes=1) as srv:
        async with httpx.AsyncClient(base_url=srv.url, headers=srv.headers, timeout=120) as c:
            # The posted notes' process started and warm: then a slow note is posted.
            warm = await c.post("/v1/notes/verify", json={"accumulated_text": "", "note": {}})
            assert warm.status_code == 200
            posted = asyncio.create_task(
                c.post(
                    "/v1/notes/verify",
                    json={"accumulated_text": SLOW_TRANSCRIPT, "note": SLOW_NOTE},
                )
            )
            await asyncio.sleep(0.2)
            streamed = await c.post(
                STREAM, json={"consultation_id": "ev-apart", "accumulated_text": DIALOGUE}
            )
            still_checking = not posted.done()
            answer = await posted
    [soap] = [data for name, data in parse_sse(streamed.text) if name == "soap"]
    assert soap["evidence"]["statements"], "the streamed note has its evidence"
    assert still_checking, "it came while the posted note was still being checked"
    assert answer.status_code == 200
    assert answer.json()["summary"]["statements"] == 400


@pytest.mark.parametrize("processes", [1, 0], ids=["in-a-process", "in-threads"])
async def test_a_server_flags_the_note_with_evidence_processes_or_without(
    make_server: Any, processes: int
) -> None:
    async with make_server(engine="local", evidence_processes=processes) as srv:
        body = {"consultation_id": "ev-threads", "accumulated_text": DIALOGUE}
        async with httpx.AsyncClient(base_url=srv.url, headers=srv.headers, timeout=30) as c:
            answer = await c.post(STREAM, json=body)
            wrong = await c.post(
                "/v1/notes/verify", json={"accumulated_text": DIALOGUE, "note": NOTE}
            )
    [soap] = [data for name, data in parse_sse(answer.text) if name == "soap"]
    assert {st["support"] for st in soap["evidence"]["statements"]} == {"supported"}
    kinds = {st["text"]: [i["kind"] for i in st["issues"]] for st in wrong.json()["statements"]}
    assert kinds["Swelling of the left knee."] == ["laterality"]
    assert kinds["Continue lisinopril 40 mg daily."] == ["dose"]


def test_loading_the_drug_dictionary_does_not_build_the_packages_name_index() -> None:
    # Importing drug_named_entity_recognition builds an n-gram index of every name at
    # import (~700 MB in each evidence process); only its data file is read.
    script = (
        "import sys\n"
        "from delphos.evidence.drugs import lexicon\n"
        "assert lexicon()['lisinopril'] == 'lisinopril'\n"
        "print(sorted(m for m in sys.modules if m.startswith('drug_named_entity')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"


def _gone(pid: int) -> bool:
    """Exited (a zombie included: its parent, init here, may not have reaped it yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


# A worker's lifespan in miniature: the runner started, then the process killed.
_WORKER = """
import asyncio
from delphos.evidence import EvidenceRunner

async def main() -> None:
    runner = EvidenceRunner(1)
    await runner.start()
    print(runner.pids()[0], flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


def test_the_evidence_process_exits_when_its_worker_is_killed() -> None:
    worker = subprocess.Popen(
        [sys.executable, "-c", _WORKER], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    evidence_pid = 0
    try:
        assert worker.stdout is not None
        evidence_pid = int(worker.stdout.readline())
        assert not _gone(evidence_pid)
        # No shutdown, no closing of the pool: the out-of-memory killer's way.
        worker.kill()
        worker.wait()
        deadline = time.monotonic() + 15
        while not _gone(evidence_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(evidence_pid), "the evidence process outlived its worker"
    finally:
        worker.kill()
        worker.wait()
        if evidence_pid and not _gone(evidence_pid):
            os.kill(evidence_pid, signal.SIGKILL)
