"""`delphos serve` in a process of its own — one that can be SIGKILLed, not only stopped —
and a client that waits for it and reads a consultation's history."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import httpx

from tests.support.fixtures.server import API_KEY
from tests.support.notes_api import headers


@contextmanager
def server_process(
    data_dir: Path,
    database_url: str,
    port: int,
    *args: str,
    output: IO[bytes] | int = subprocess.DEVNULL,
    **env: str,
) -> Iterator[subprocess.Popen[bytes]]:
    """`delphos serve` in a process of its own, so that it can be SIGKILLed."""
    environ = {
        **os.environ,
        "DELPHOS_DATA_DIR": str(data_dir),
        "DELPHOS_DATABASE_URL": database_url,
        "DELPHOS_API_KEYS": API_KEY,
        "DELPHOS_REDIS_URL": "",
        "DELPHOS_ENGINE": "local",
        "DELPHOS_LOG_LEVEL": "warning",
        **env,
    }
    environ.pop("DELPHOS_REDIS_URL")
    proc = subprocess.Popen(
        [sys.executable, "-m", "delphos", "serve", "--port", str(port), *args],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=output,  # the logs
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def wait_up(url: str) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        deadline = time.monotonic() + 60
        while True:
            try:
                if (await client.get(f"{url}/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            await asyncio.sleep(0.1)


async def history(url: str, cid: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(timeout=30) as client:
        resp = await client.get(
            f"{url}/v1/consultations/{cid}/soap-notes", headers=headers(API_KEY)
        )
    if resp.status_code == 404:
        return []
    assert resp.status_code == 200, resp.text
    items: list[dict[str, Any]] = resp.json()["items"]
    return items
