"""The note spool's files: one JSON line per note (the record as pydantic writes it),
fsync'd, mode 0600 (they hold patient text), one file per process slot under flock.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from pydantic import TypeAdapter

from delphos.records import NoteRecord

SPOOL_FORMAT = 1
# Spool files per base path: one per concurrently running process (uvicorn workers).
MAX_SPOOL_SLOTS = 64
# The spool line is the record itself, as pydantic writes it (plus the format version).
# Fields added later have defaults, so lines spooled by an older Delphos still replay.
_SPOOLED = TypeAdapter(NoteRecord)


_VERSION = b'{"v":%d,' % SPOOL_FORMAT


def record_to_json(rec: NoteRecord) -> str:
    """The record as one spool line: compact JSON, the format version first.

    Written by pydantic's serialiser in one pass: dumping to Python values and then
    through ``json.dumps`` cost ~1 ms of the event loop per note (evidence is tens of
    KB), for every note spooled while a database falls behind. JSON never holds a raw
    newline, so the line is one line."""
    body = _SPOOLED.dump_json(rec, exclude={"id"})
    return (_VERSION + body[1:]).decode()


def record_from_json(line: str) -> NoteRecord:
    """The spooled record; ValueError (pydantic's ValidationError is one) if unreadable."""
    data = json.loads(line)
    if not isinstance(data, dict) or data.pop("v", None) != SPOOL_FORMAT:
        raise ValueError("unknown spool format")
    return _SPOOLED.validate_python(data)


def _open_private(path: Path, flags: int) -> int:
    # 0600 from the first byte: the file holds patient text.
    fd = os.open(path, flags | os.O_CLOEXEC, 0o600)
    os.fchmod(fd, 0o600)
    return fd


def append_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = _open_private(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, "".join(line + "\n" for line in lines).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def truncate(path: Path) -> None:
    if not path.exists():
        return
    fd = _open_private(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _slot_path(base: Path, slot: int) -> Path:
    return base if slot == 0 else base.with_name(f"{base.stem}-{slot}{base.suffix}")


def _try_lock(spool: Path) -> int | None:
    """An open, exclusively flock'ed descriptor on ``<spool>.lock``, or None if taken."""
    lock_path = spool.with_name(spool.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = _open_private(lock_path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _read_lines(path: Path) -> list[str]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    return [line for line in data.decode("utf-8", errors="replace").splitlines() if line.strip()]


def claim(base: Path) -> tuple[Path, int, list[str]]:
    """Lock the first free slot; take over the lines of slots no live process holds.

    Each worker process of one server gets its own slot (``notes.jsonl``,
    ``notes-1.jsonl``, …), so workers never truncate each other's notes, and a slot
    left by a worker that is gone is replayed by whichever process starts next.
    """
    own: tuple[Path, int] | None = None
    for slot in range(MAX_SPOOL_SLOTS):
        path = _slot_path(base, slot)
        fd = _try_lock(path)
        if fd is not None:
            own = (path, fd)
            break
    if own is None:
        raise RuntimeError(f"all {MAX_SPOOL_SLOTS} note spool slots are in use")
    own_path, own_fd = own
    lines = _read_lines(own_path)
    for slot in range(MAX_SPOOL_SLOTS):
        path = _slot_path(base, slot)
        if path == own_path or not path.exists():
            continue
        fd = _try_lock(path)
        if fd is None:
            continue  # a live process owns it
        try:
            orphan = _read_lines(path)
            if orphan:
                # Copied (fsync'd) before the orphan is emptied: a crash in between
                # leaves duplicates, which the idempotent write absorbs.
                append_lines(own_path, orphan)
                truncate(path)
                lines.extend(orphan)
        finally:
            os.close(fd)
    return own_path, own_fd, lines
