"""The note recorder: every generated note reaches the database, even through an outage.

``record`` tries the database once with a short deadline. When that fails the note goes
to an in-memory backlog *and* is appended (fsync'd) to a JSONL spool file; a background
task retries with backoff until the database answers, writes the backlog in order and
empties the spool. A spool left by a previous process is replayed by ``start()``.

Notes that finish while a write is in flight share the next transaction (group commit,
see ``_write``). Writes are idempotent (see ``repository.save_note``), so a write that
timed out but did commit is harmlessly repeated. A write past its deadline is left to
finish, not cancelled (see ``_try_write``); the backlog's retries wait for such writes
before adding their own.

``await recorder.record(record)`` returns once the note is durable (in the database, or
fsync'd to the spool); it never raises. The write runs in a task the recorder owns, so it
completes even if the caller is cancelled (a client that disconnects).

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
import logging
import os
import zlib
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import DataError, IntegrityError

from delphos.db.database import Database
from delphos.db.repository import check_external_id, save_note, save_notes
from delphos.db.spool import append_lines, claim, record_from_json, record_to_json, truncate
from delphos.metrics import NOTE_BACKLOG
from delphos.records import NoteRecord

logger = logging.getLogger(__name__)

# A write left to finish past its deadline is cancelled after this long. The drivers bound
# every statement well within it (Postgres: connect 3 s, pool 6 s, command 30 s; SQLite:
# busy 5 s); this only frees a write stuck below them (a hung disk).
LATE_WRITE_LIMIT = 60.0

# Failures that retrying cannot fix: the record itself is unacceptable to the schema.
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (
    IntegrityError,
    DataError,
    ValueError,
    TypeError,
)


@dataclass(slots=True)
class _Writes:
    """Notes written to the database in one transaction, and the task writing them (its
    result: each note's failure, or None, in order)."""

    records: list[NoteRecord]
    task: asyncio.Task[list[BaseException | None]] | None = None


@dataclass(slots=True)
class _Batch:
    """Spool lines written by one append and fsync, and the future their writers await."""

    lines: list[str]
    done: asyncio.Future[None]


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
        # The spool's lines, zlib-packed, not the records: a database that falls behind
        # (an outage; SQLite under hundreds of notes a second) backs notes up here by the
        # thousand. A record's note and evidence as Python objects take ~37 KB (evidence
        # ~32 KB as dicts and lists); its line 15-40 KB with the text; packed, a quarter.
        self._backlog: deque[bytes] = deque()
        # Serialises spool appends with the drain's decision to truncate, so the file and
        # the backlog always hold the same records in the same order.
        self._spool_lock = asyncio.Lock()
        self._drain_task: asyncio.Task[None] | None = None
        self._detached: set[asyncio.Task[None]] = set()
        # Writes that outlived their deadline and are left to finish (see ``_try_write``).
        self._late: set[asyncio.Task[list[BaseException | None]]] = set()
        # The database transactions: the one gathering notes, and the last one started.
        self._gathering: _Writes | None = None
        self._writing: asyncio.Task[list[BaseException | None]] | None = None
        # Spool lines waiting for the next append (see ``_spool``).
        self._open_batch: _Batch | None = None
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

    def _queue(self, line: str) -> None:
        # Level 1: ~4x smaller for ~0.1 ms per note, once per backed-up note.
        self._backlog.append(zlib.compress(line.encode("utf-8"), 1))
        self._drained.clear()
        NOTE_BACKLOG.inc()

    @property
    def rejected_path(self) -> Path:
        return self.spool_path.with_name(self.spool_path.name + ".rejected")

    async def start(self) -> None:
        """Claim a spool slot and replay notes earlier processes could not write."""
        self.spool_path, self._lock_fd, lines = await asyncio.to_thread(claim, self._base_path)
        bad: list[str] = []
        for line in lines:
            try:
                rec = record_from_json(line)
                check_external_id(rec.consultation_id)
            except (ValueError, KeyError, TypeError, AttributeError):
                bad.append(line)
                continue
            self._queue(line)
        if bad:
            await asyncio.to_thread(append_lines, self.rejected_path, bad)
            logger.error("note spool: %d unreadable line(s) moved to the rejected file", len(bad))
        if self._backlog:
            logger.warning(
                "note spool: replaying %d note(s) from a previous run", len(self._backlog)
            )
            self._ensure_drain()
        elif bad:
            async with self._spool_lock:
                await asyncio.to_thread(truncate, self.spool_path)

    async def record(self, rec: NoteRecord) -> None:
        """Persist ``rec`` now, or spool it for the background retry.

        Never raises because of the database or the spool. If the caller is cancelled
        while waiting, the cancellation propagates but the write itself carries on, in a
        task the recorder keeps until it is done.
        """
        task = asyncio.get_running_loop().create_task(self._record(rec))
        self._detached.add(task)
        task.add_done_callback(self._detached.discard)
        await asyncio.shield(task)

    async def _record(self, rec: NoteRecord) -> None:
        try:
            # Straight to the spool while the database is behind (notes wait in the
            # backlog, or a write is still running past its deadline): another write
            # would only queue behind those, and its caller wait out the deadline.
            if not self._backlog and not self._late and not self._closed:
                outcome = await self._try_write(rec)
                if outcome is None:
                    return
                if isinstance(outcome, PERMANENT_ERRORS):
                    await self._reject(rec, outcome)
                    return
                logger.warning(
                    "note write failed (%s); keeping it in the spool", type(outcome).__name__
                )
            # The batch queues the line in the backlog before its write, whatever the write
            # then does: the drain retries the database from memory if the spool fails.
            await self._spool(record_to_json(rec))
            logger.warning("note queued for retry; backlog=%d", len(self._backlog))
            self._ensure_drain()
        except Exception as exc:
            # Only reached if even the spool cannot be written (disk full…): the note
            # stays in memory and the drain keeps trying the database.
            logger.error("note spool write failed (%s)", type(exc).__name__)
            self._ensure_drain()

    def _spool(self, line: str) -> asyncio.Future[None]:
        """Durable once the returned future is done: ``line`` is in the backlog and fsync'd
        to the spool (or the future holds the write's exception; the line is queued then).

        Group commit: every line spooled while a write is in flight shares the next
        append and fsync. One fsync per note made a database that fell behind (SQLite at
        hundreds of notes a second) a queue of hundreds of finished notes, each holding
        its note, evidence and spool line in memory (and its client waiting) behind the
        others' fsyncs; the queue now lasts one fsync.
        """
        batch = self._open_batch
        if batch is None:
            batch = self._open_batch = _Batch([], asyncio.get_running_loop().create_future())
            task = asyncio.get_running_loop().create_task(self._write_batch(batch))
            self._detached.add(task)
            task.add_done_callback(self._detached.discard)
        batch.lines.append(line)
        return batch.done

    async def _write_batch(self, batch: _Batch) -> None:
        async with self._spool_lock:
            # From here on new lines start the next batch: this one's file write begins.
            if self._open_batch is batch:
                self._open_batch = None
            for line in batch.lines:
                self._queue(line)
            try:
                await asyncio.to_thread(append_lines, self.spool_path, batch.lines)
            except Exception as exc:
                batch.done.set_exception(exc)
            else:
                batch.done.set_result(None)

    async def _try_write(self, rec: NoteRecord) -> BaseException | None:
        """Write within the deadline; the failure, or None on success.

        The write runs in a task of its own (see ``_write``), so the caller's wait ends at
        the deadline whatever the database does. Past it the write is left to finish
        rather than cancelled: a driver cancelled mid-statement leaves a connection
        SQLAlchemy's pool must discard, and it logs that at ERROR with a traceback
        ("Exception closing connection … CancelledError"; asyncio adds "Future exception
        was never retrieved") though nothing was lost, and on SQLite it left tasks that
        never end (the server could not shut down). A late write that commits is repeated
        harmlessly by the backlog; one that fails is forgotten.
        """
        task, index = self._write(rec)
        done, _ = await asyncio.wait({task}, timeout=self._write_timeout)
        if not done:
            if task not in self._late:
                self._late.add(task)
                limit = asyncio.get_running_loop().call_later(LATE_WRITE_LIMIT, task.cancel)
                task.add_done_callback(lambda finished: self._late_done(finished, limit))
            return TimeoutError()
        if task.cancelled():
            return TimeoutError()  # given up (aclose, or past LATE_WRITE_LIMIT)
        return task.result()[index]

    def _write(self, rec: NoteRecord) -> tuple[asyncio.Task[list[BaseException | None]], int]:
        """``rec`` joins the next transaction; its task, and the note's place in it.

        Group commit, as the spool does its fsyncs: one transaction at a time, and every
        note that arrives while one is in flight goes into the next. Written one
        transaction each, a burst of notes (500 finishing within seconds) made SQLite
        fall a commit behind per note: notes waited out their deadline, were spooled,
        and were written again by the backlog."""
        writes = self._gathering
        if writes is None:
            writes = self._gathering = _Writes([])
            writes.task = asyncio.get_running_loop().create_task(
                self._write_notes(writes, self._writing)
            )
            self._writing = writes.task
        assert writes.task is not None
        writes.records.append(rec)
        return writes.task, len(writes.records) - 1

    async def _write_notes(
        self,
        writes: _Writes,
        previous: asyncio.Task[list[BaseException | None]] | None,
    ) -> list[BaseException | None]:
        if previous is not None and not previous.done():
            await asyncio.wait({previous})  # meanwhile the notes that come gather here
        if self._gathering is writes:
            self._gathering = None  # from here on notes go into the next transaction
        records = writes.records
        try:
            await save_notes(self._db, records)
            return [None] * len(records)
        except Exception as exc:
            if len(records) == 1 or not isinstance(exc, PERMANENT_ERRORS):
                return [exc] * len(records)
        # One note the database refuses must not take the others with it.
        outcomes: list[BaseException | None] = []
        for rec in records:
            try:
                await save_note(self._db, rec)
                outcomes.append(None)
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    def _late_done(
        self, task: asyncio.Task[list[BaseException | None]], limit: asyncio.TimerHandle
    ) -> None:
        limit.cancel()
        self._late.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: asyncio would log it with its message

    async def _late_settled(self, timeout: float) -> bool:  # noqa: ASYNC109 - a deadline of ours
        """Whether the writes left to finish have (waiting up to ``timeout`` for them): a
        database still busy with them gains nothing from one more."""
        if self._late:
            await asyncio.wait(set(self._late), timeout=timeout)
        return not self._late

    async def _reject(self, rec: NoteRecord | str, exc: BaseException) -> None:
        logger.error(
            "note refused by the database (%s); moved to the rejected file", type(exc).__name__
        )
        line = rec if isinstance(rec, str) else record_to_json(rec)
        await asyncio.to_thread(append_lines, self.rejected_path, [line])

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
        head = zlib.decompress(self._backlog[0]).decode("utf-8")
        outcome: BaseException | None
        try:
            rec = record_from_json(head)
        except ValueError as exc:  # never expected: the line was written by record_to_json
            outcome = exc
        else:
            if await self._late_settled(self._write_timeout):
                outcome = await self._try_write(rec)
            else:
                outcome = TimeoutError()
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
            await asyncio.to_thread(truncate, self.spool_path)
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
        # Writes still running past their deadline are given up now (their notes are in
        # the spool): the database is about to be closed under them.
        for task in set(self._late):
            task.cancel()
        await asyncio.gather(*self._late, return_exceptions=True)
        if self._backlog:
            logger.warning("note recorder closed with %d note(s) in the spool", len(self._backlog))
        else:
            # The drain may have been cancelled between its last write and emptying the file.
            async with self._spool_lock:
                await self._safe_truncate()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None
