"""A private, throw-away PostgreSQL server for fault tests (stop it, start it again).

Never touches the shared server on 5432: the cluster lives in its own temporary
directory, listens on 127.0.0.1 on a spare port, and keeps its unix socket in that
directory. Postgres refuses to run as root, so as root the binaries run as the
``postgres`` OS user (``runuser``), which owns the directory.

    with PrivatePostgres() as pg:
        url = pg.url          # postgresql://postgres@127.0.0.1:<port>/postgres
        pg.stop(); pg.start()
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from functools import cache
from pathlib import Path
from types import TracebackType

from tests.support.ports import free_port

PG_OS_USER = "postgres"


def find_bin_dir() -> Path | None:
    """The newest installed server's bin directory, or None if no server is installed."""
    candidates = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").is_file()]
    if not candidates:
        return None

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in path.parent.name.split(".") if part.isdigit())

    return max(candidates, key=version)


def _own(path: Path, as_root: bool) -> None:
    if as_root:
        entry = pwd.getpwnam(PG_OS_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _run_as_postgres(command: list[str], as_root: bool) -> None:
    """Run ``command``, as the ``postgres`` OS user when we are root (see the docstring)."""
    name = Path(command[0]).name
    if as_root:
        command = ["runuser", "-u", PG_OS_USER, "--", *command]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{name} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")


@cache
def _template_cluster(bin_dir: Path, as_root: bool) -> Path:
    """A freshly initdb'd, never started data directory, made once per process and
    removed at its exit; every ``PrivatePostgres`` starts from a copy of it."""
    base = Path(tempfile.mkdtemp(prefix="delphos-pg-template-"))
    atexit.register(shutil.rmtree, base, ignore_errors=True)
    _own(base, as_root)
    data_dir = base / "data"
    initdb = [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres"]
    _run_as_postgres([*initdb, "--auth=trust", "-E", "UTF8", "--no-sync"], as_root)
    return data_dir


class PrivatePostgres:
    def __init__(self, port: int | None = None) -> None:
        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
        self.bin_dir = bin_dir
        self.port = port or free_port()
        self.base = Path(tempfile.mkdtemp(prefix="delphos-pg-"))
        self.data_dir = self.base / "data"
        self.log_file = self.base / "server.log"
        self._as_root = os.geteuid() == 0
        self.running = False
        self.frozen = False
        try:
            self._init_cluster()
        except BaseException:
            shutil.rmtree(self.base, ignore_errors=True)
            raise

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        _run_as_postgres([str(self.bin_dir / args[0]), *args[1:]], self._as_root)

    def _init_cluster(self) -> None:
        """A copy of this process's one initdb'd cluster (``_template_cluster``): copying
        takes a fraction of a second, initdb seconds (more under load)."""
        _own(self.base, self._as_root)
        template = _template_cluster(self.bin_dir, self._as_root)
        _run_as_postgres(["cp", "-a", str(template), str(self.data_dir)], self._as_root)

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.base} "
            # A test server: durability is not the point, start-up and writes should be fast.
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-o",
            options,
            "-w",
            "start",
        )
        self.running = True

    def stop(self) -> None:
        """Fast shutdown: open connections are terminated, as in a real outage."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        self.running = False

    def _pids(self) -> list[int]:
        """The postmaster and every process under it (backends, background workers)."""
        pid_file = self.data_dir / "postmaster.pid"
        root = int(pid_file.read_text().split("\n", 1)[0])
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # gone meanwhile
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        found, todo = [], [root]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found

    def freeze(self) -> None:
        """Hang the server (SIGSTOP to all its processes): connections are accepted by the
        kernel and queries sent, but nothing ever answers, unlike a stopped server."""
        for pid in self._pids():
            os.kill(pid, signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        for pid in self._pids():
            os.kill(pid, signal.SIGCONT)
        self.frozen = False

    def cleanup(self) -> None:
        if self.frozen:
            self.thaw()
        if self.running:
            try:
                self.stop()
            except RuntimeError:
                pass
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> PrivatePostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()
