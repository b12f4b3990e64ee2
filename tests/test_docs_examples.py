"""The examples in docs/api.md and the README's curl run, as written, against real servers."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.ports import free_port
from tests.support.serve_process import wait_up
from tests.support.sse import check_order, parse_sse

ROOT = Path(__file__).resolve().parent.parent


def example(name: str) -> str:
    text = (ROOT / "docs" / "api.md").read_text()
    match = re.search(rf"<!-- example: {name} -->\n```\w+\n(.*?)```", text, re.S)
    assert match, f"docs/api.md has no {name} example"
    return match.group(1)


async def run(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **env},
        cwd=cwd,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()
    return out.decode()


def printed_events(out: str) -> list[tuple[str, dict[str, Any]]]:
    import json

    events = []
    for line in out.splitlines():
        name, _, data = line.partition(" ")
        events.append((name, json.loads(data)))
    return events


async def test_curl_example(make_server: Callable[..., Any]) -> None:
    assert shutil.which("curl"), "curl is required"
    async with make_server() as srv:
        out = await run(
            ["bash", "-c", example("curl")], {"DELPHOS_URL": srv.url, "DELPHOS_KEY": srv.key}
        )
    events = parse_sse(out)
    check_order(events)
    assert events[-1][0] == "soap"
    assert "PA 120/80" in events[-1][1]["objective"]


async def test_curl_verify_example_flags_the_wrong_dose(make_server: Callable[..., Any]) -> None:
    assert shutil.which("curl"), "curl is required"
    async with make_server() as srv:
        out = await run(
            ["bash", "-c", example("curl-verify")],
            {"DELPHOS_URL": srv.url, "DELPHOS_KEY": srv.key},
        )
    evidence = json.loads(out)
    issues = {st["text"]: [i["kind"] for i in st["issues"]] for st in evidence["statements"]}
    assert issues == {"Denies chest pain.": [], "Continue lisinopril 40 mg daily.": ["dose"]}
    assert evidence["summary"]["needs_review"] is True


async def test_javascript_example_under_node(
    make_server: Callable[..., Any], tmp_path: Path
) -> None:
    node = shutil.which("node")
    assert node, "node is required"
    script = tmp_path / "example.mjs"
    script.write_text(example("javascript"))
    async with make_server() as srv:
        out = await run([node, str(script)], {"DELPHOS_URL": srv.url, "DELPHOS_KEY": srv.key})
    events = printed_events(out)
    check_order(events)
    assert events[-1][0] == "soap"
    assert "BP 120/80" in events[-1][1]["objective"]


async def test_python_example(make_server: Callable[..., Any], tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(example("python"))
    async with make_server() as srv:
        out = await run(
            [sys.executable, str(script)], {"DELPHOS_URL": srv.url, "DELPHOS_KEY": srv.key}
        )
    events = printed_events(out)
    soap_events = [i for i, (n, _) in enumerate(events) if n == "soap"]
    first, second = events[: soap_events[0] + 1], events[soap_events[0] + 1 :]
    check_order(first)
    assert "SpO2 97%" in first[-1][1]["objective"]
    assert [n for n, _ in second] == ["status", "soap"]
    assert second[0][1] == {"type": "cache_hit"}


@pytest.mark.slow
async def test_readme_curl_works_against_make_run_commands(tmp_path: Path) -> None:
    """What `make run` runs (`delphos migrate`, `delphos serve --dev-key`) in a fresh
    directory, then the README's curl command exactly as written but for the port."""
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- readme-curl -->\n```bash\n(.*?)```", readme, re.S)
    assert match, "README has the curl example"
    port = free_port()
    command = match.group(1).replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    bindir = Path(sys.executable).parent
    env = {
        "DELPHOS_PORT": str(port),
        "PATH": f"{bindir}:{os.environ['PATH']}",
        "DELPHOS_API_KEYS": "",
    }
    env.pop("DELPHOS_DATABASE_URL", None)
    await run([str(bindir / "delphos"), "migrate"], env, cwd=tmp_path)
    server = await asyncio.create_subprocess_exec(
        str(bindir / "delphos"),
        "serve",
        "--dev-key",
        cwd=tmp_path,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await wait_up(f"http://127.0.0.1:{port}")
        key = (tmp_path / ".delphos" / "dev-api-key").read_text().strip()
        out = await run(["bash", "-c", command], {}, cwd=tmp_path)
    finally:
        server.terminate()
        printed, _ = await asyncio.wait_for(server.communicate(), timeout=30)
    assert key in printed.decode(), "make run prints the development key"
    events = parse_sse(out)
    check_order(events)
    assert events[-1][0] == "soap"
