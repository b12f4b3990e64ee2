"""The note recorder: every generated note reaches the database, even through an outage.

``record`` tries the database once with a short deadline. When that fails the note goes
to an in-memory backlog *and* is appended (fsync'd) to a JSONL spool file; a background
task retries with backoff until the database answers, writes the backlog in order and
empties the spool. A spool left by a previous process is replayed by ``start()``.

Writes are idempotent (see ``repository.save_note``), so a write that timed out but did
commit is harmlessly repeated.

Usage from a request handler: call ``recorder.record_detached(record)`` and return. The
write then runs in a task the recorder owns, so it completes even if the client
disconnects and the request task is cancelled. ``await recorder.record(record)`` is for
callers that want to wait; it never raises.

Records the database refuses for good (a constraint violation, not an outage) would block
the backlog forever; they are moved to ``<spool>.rejected`` (same format) for an operator
to inspect, together with spool lines that cannot be parsed.

One process per spool file: ``start()`` locks ``<spool>.lock`` (flock). Several worker
processes given the same path each claim a slot of their own (``notes.jsonl``,
``notes-1.jsonl``, …); a slot whose process is gone is taken over at the next start.

The spool holds patient text exactly as the database would; it is created with mode 0600.
Logs carry counts and exception class names only.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError

from delphos.db.database import Database
from delphos.db.repository import NoteRecord, check_external_id, save_note
from delphos.engines.base import Usage
from delphos.metrics import NOTE_BACKLOG
from delphos.soap.note import SoapNote

logger = logging.getLogger(__name__)

SPOOL_FORMAT = 1
# Spool files per base path: one per concurrently running process (uvicorn workers).
MAX_SPOOL_SLOTS = 64
# Failures that retrying cannot fix: the record itself is unacceptable to the schema.
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (
    IntegrityError,
    DataError,
    ValueError,
    TypeError,
)


def record_to_json(rec: NoteRecord) -> str:
    return json.dumps(
        {
            "v": SPOOL_FORMAT,
            "tenant_id": rec.tenant_id,
            "tenant_name": rec.tenant_name,
            "consultation_id": rec.consultation_id,
            "note": rec.note.sections(),
            "soap_hash": rec.soap_hash,
            "text_hash": rec.text_hash,
            "source_text": rec.source_text,
            "word_count": rec.word_count,
            "engine": rec.engine,
            "model": rec.model,
            "is_degraded": rec.is_degraded,
            "latency_ms": rec.latency_ms,
            "created_at": rec.created_at.isoformat(),
            "usage": rec.usage.as_json() if rec.usage else None,
            "evidence": rec.evidence,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def record_from_json(line: str) -> NoteRecord:
    data: dict[str, Any] = json.loads(line)
    if data.get("v") != SPOOL_FORMAT:
        raise ValueError("unknown spool format")
    created_at = datetime.fromisoformat(data["created_at"])
    if created_at.tzinfo is None:
        raise ValueError("spooled timestamp without a zone")
    return NoteRecord(
        tenant_id=str(data["tenant_id"]),
        consultation_id=str(data["consultation_id"]),
        note=SoapNote.from_sections(data["note"]),
        soap_hash=str(data["soap_hash"]),
        text_hash=str(data["text_hash"]),
        source_text=str(data["source_text"]),
        word_count=int(data["word_count"]),
        engine=str(data["engine"]),
        model=str(data["model"]),
        is_degraded=bool(data["is_degraded"]),
        latency_ms=int(data["latency_ms"]),
        created_at=created_at,
        tenant_name=str(data.get("tenant_name", "")),
        # Absent in lines spooled before usage was recorded.
        usage=_usage(data.get("usage")),
        evidence=data.get("evidence"),
    )


def _usage(value: object) -> Usage | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("spooled usage is not an object")
    return Usage.from_json(value)


def _open_private(path: Path, flags: int) -> int:
    # 0600 from the first byte: the file holds patient text.
    fd = os.open(path, flags | os.O_CLOEXEC, 0o600)
    os.fchmod(fd, 0o600)
    return fd


def _append_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = _open_private(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, "".join(line + "\n" for line in lines).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def _truncate(path: Path) -> None:
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


class NoteRecorder:
    def __init__(
        self,
        db: Database,
        spool_path: Path,
        *,
        write_timeout: float = 5.0,
        min_backoff: float = 0.5,
        max_backoff: float = 10.0,
    ) -> None:
        self._db = db
        self._base_path = Path(spool_path)
        # The slot actually used; final once start() has run.
        self.spool_path = self._base_path
        self._write_timeout = write_timeout
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._backlog: deque[NoteRecord] = deque()
        # Serialises spool appends with the drain's decision to truncate, so the file and
        # the backlog always hold the same records in the same order.
        self._spool_lock = asyncio.Lock()
        self._drain_task: asyncio.Task[None] | None = None
        self._detached: set[asyncio.Task[None]] = set()
        self._lock_fd: int | None = None
        self._closed = False
        # Set whenever the backlog is empty (lets shutdown code and tests wait for it).
        self._drained = asyncio.Event()
        self._drained.set()

    @property
    def backlog_size(self) -> int:
        """Notes accepted but not yet in the database (for /health)."""
        return len(self._backlog)

    async def wait_drained(self) -> None:
        """Return once the backlog is empty (wrap in ``asyncio.timeout`` to bound it)."""
        await self._drained.wait()

    def _queue(self, rec: NoteRecord) -> None:
        self._backlog.append(rec)
        self._drained.clear()
        NOTE_BACKLOG.inc()

    @property
    def rejected_path(self) -> Path:
        return self.spool_path.with_name(self.spool_path.name + ".rejected")

    async def start(self) -> None:
        """Claim a spool slot and replay notes earlier processes could not write."""
        self.spool_path, self._lock_fd, lines = await asyncio.to_thread(self._claim_spool)
        bad: list[str] = []
        for line in lines:
            try:
                rec = record_from_json(line)
                check_external_id(rec.consultation_id)
            except (ValueError, KeyError, TypeError, AttributeError):
                bad.append(line)
                continue
            self._queue(rec)
        if bad:
            await asyncio.to_thread(_append_lines, self.rejected_path, bad)
            logger.error("note spool: %d unreadable line(s) moved to the rejected file", len(bad))
        if self._backlog:
            logger.warning(
                "note spool: replaying %d note(s) from a previous run", len(self._backlog)
            )
            self._ensure_drain()
        elif bad:
            async with self._spool_lock:
                await asyncio.to_thread(_truncate, self.spool_path)

    def _claim_spool(self) -> tuple[Path, int, list[str]]:
        """Lock the first free slot; take over the lines of slots no live process holds.

        Each worker process of one server gets its own slot (``notes.jsonl``,
        ``notes-1.jsonl``, …), so workers never truncate each other's notes, and a slot
        left by a worker that is gone is replayed by whichever process starts next.
        """
        own: tuple[Path, int] | None = None
        for slot in range(MAX_SPOOL_SLOTS):
            path = _slot_path(self._base_path, slot)
            fd = _try_lock(path)
            if fd is not None:
                own = (path, fd)
                break
        if own is None:
            raise RuntimeError(f"all {MAX_SPOOL_SLOTS} note spool slots are in use")
        own_path, own_fd = own
        lines = _read_lines(own_path)
        for slot in range(MAX_SPOOL_SLOTS):
            path = _slot_path(self._base_path, slot)
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
                    _append_lines(own_path, orphan)
                    _truncate(path)
                    lines.extend(orphan)
            finally:
                os.close(fd)
        return own_path, own_fd, lines

    def record_detached(self, rec: NoteRecord) -> asyncio.Task[None]:
        """Persist or spool ``rec`` in a task the recorder keeps until it is done.

        The request that produced the note may be cancelled; this task is not.
        """
        task = asyncio.get_running_loop().create_task(self._record(rec))
        self._detached.add(task)
        task.add_done_callback(self._detached.discard)
        return task

    async def record(self, rec: NoteRecord) -> None:
        """Persist ``rec`` now, or spool it for the background retry.

        Never raises because of the database or the spool. If the caller is cancelled
        while waiting, the cancellation propagates but the write itself carries on.
        """
        await asyncio.shield(self.record_detached(rec))

    async def _record(self, rec: NoteRecord) -> None:
        try:
            if not self._backlog and not self._closed:
                outcome = await self._try_write(rec)
                if outcome is None:
                    return
                if isinstance(outcome, PERMANENT_ERRORS):
                    await self._reject(rec, outcome)
                    return
                logger.warning(
                    "note write failed (%s); keeping it in the spool", type(outcome).__name__
                )
            await self._enqueue(rec)
        except Exception as exc:
            # Only reached if even the spool cannot be written (disk full…): the note
            # stays in memory and the drain keeps trying the database.
            logger.error("note spool write failed (%s)", type(exc).__name__)
            if not any(queued is rec for queued in self._backlog):
                self._queue(rec)
            self._ensure_drain()

    async def _try_write(self, rec: NoteRecord) -> BaseException | None:
        """Write within the deadline; the failure, or None on success.

        The write runs in its own task: on timeout it is cancelled but not awaited, so a
        stuck connection cannot hold up the caller beyond the deadline.
        """
        task = asyncio.get_running_loop().create_task(save_note(self._db, rec))
        done, _ = await asyncio.wait({task}, timeout=self._write_timeout)
        if not done:
            task.cancel()
            task.add_done_callback(_consume_result)
            return TimeoutError()
        exc = task.exception()
        return exc

    async def _enqueue(self, rec: NoteRecord) -> None:
        async with self._spool_lock:
            self._queue(rec)
            await asyncio.to_thread(_append_lines, self.spool_path, [record_to_json(rec)])
        logger.warning("note queued for retry; backlog=%d", len(self._backlog))
        self._ensure_drain()

    async def _reject(self, rec: NoteRecord, exc: BaseException) -> None:
        logger.error(
            "note refused by the database (%s); moved to the rejected file", type(exc).__name__
        )
        await asyncio.to_thread(_append_lines, self.rejected_path, [record_to_json(rec)])

    def _ensure_drain(self) -> None:
        if self._closed:
            return
        if self._drain_task is None or self._drain_task.done():
            self._drain_task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        delay = self._min_backoff
        while self._backlog:
            try:
                written = await self._drain_head()
            except Exception as exc:
                # Keep the loop alive whatever happens (e.g. the rejected file unwritable).
                logger.error("note backlog retry failed (%s)", type(exc).__name__)
                written = False
            if written:
                delay = self._min_backoff
                continue
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_backoff)

    async def _drain_head(self) -> bool:
        """Write (or reject) the oldest backlog entry; False if the database is unavailable."""
        head = self._backlog[0]
        outcome = await self._try_write(head)
        if outcome is not None and not isinstance(outcome, PERMANENT_ERRORS):
            logger.info(
                "database still unavailable (%s); backlog=%d",
                type(outcome).__name__,
                len(self._backlog),
            )
            return False
        if outcome is not None:
            await self._reject(head, outcome)
        async with self._spool_lock:
            self._backlog.popleft()
            NOTE_BACKLOG.dec()
            if not self._backlog:
                await self._safe_truncate()
                # Only now: whoever waits for the drain may rely on an empty spool.
                self._drained.set()
                logger.warning("note backlog written to the database; spool emptied")
        return True

    async def _safe_truncate(self) -> None:
        try:
            await asyncio.to_thread(_truncate, self.spool_path)
        except OSError as exc:
            # Harmless: the lines are already in the database and replaying them is a no-op.
            logger.error("note spool could not be emptied (%s)", type(exc).__name__)

    async def aclose(self, timeout_s: float = 10.0) -> None:
        """Stop retrying after one last attempt; unwritten notes stay in the spool."""
        if self._closed:
            return
        # Notes still being recorded for cancelled requests get to finish first.
        if self._detached:
            await asyncio.wait(set(self._detached), timeout=timeout_s)
        self._closed = True
        if self._drain_task is not None:
            self._drain_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drain_task
        while self._backlog:
            try:
                if not await self._drain_head():
                    break
            except Exception as exc:
                logger.error("final note flush failed (%s)", type(exc).__name__)
                break
        if self._backlog:
            logger.warning("note recorder closed with %d note(s) in the spool", len(self._backlog))
        else:
            # The drain may have been cancelled between its last write and emptying the file.
            async with self._spool_lock:
                await self._safe_truncate()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None


def _consume_result(task: asyncio.Task[None]) -> None:
    # Retrieve the abandoned write's outcome so asyncio does not log it with its message.
    if not task.cancelled():
        task.exception()
