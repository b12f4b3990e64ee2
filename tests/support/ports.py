"""Ports for the servers tests start in subprocesses (llama.cpp, Postgres, Redis, delphos).

Such a server binds its port itself, after we chose it, so "ask the kernel for a free
port, close it, pass the number on" leaves a window in which another test (another xdist
worker, another engineer's run, or any outgoing connection taking an ephemeral port) can
take it. Two things close that window:

- the ports come from just below the kernel's ephemeral range, which outgoing
  connections and ``bind(("127.0.0.1", 0))`` never use;
- each port is claimed with an exclusive ``flock`` on a file under the temp directory,
  held until this process exits, so no other test process using this module can pick it,
  and a bind probe skips ports some other program already listens on.

Servers started in-process (uvicorn, the fake LLM APIs) bind port 0 themselves and need
none of this.
"""

from __future__ import annotations

import fcntl
import os
import random
import socket
import tempfile
from pathlib import Path

_LOCK_DIR = Path(tempfile.gettempdir()) / "delphos-test-ports"
# Held open for the life of the process: closing a file would release its lock.
_claimed: dict[int, int] = {}
# The span below the ephemeral range that the ports come from.
_SPAN = 8000


def _ephemeral_low() -> int:
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return max(low, 10_000 + _SPAN)


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _claim(port: int) -> bool:
    _LOCK_DIR.mkdir(mode=0o777, exist_ok=True)
    fd = os.open(_LOCK_DIR / f"{port}.lock", os.O_CREAT | os.O_RDWR, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    _claimed[port] = fd
    return True


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on and no other test process will pick.

    It stays reserved for this process (a server may be stopped and started on it again).
    """
    high = _ephemeral_low()
    ports = list(range(high - _SPAN, high))
    random.shuffle(ports)
    for port in ports:
        if port in _claimed or not _claim(port):
            continue
        if _bindable(port):
            return port
        # Taken by a program outside the tests: keep it claimed, so it is not probed again.
    raise RuntimeError(f"no free port in {high - _SPAN}..{high - 1}")
