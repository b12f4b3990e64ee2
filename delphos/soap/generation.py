"""One engine run, turned into the event sequence of the contract and shared by every caller.

A `Generation` owns the run: engine stream → incremental parser → `partial` events →
exactly one `soap` or `error`. Callers *subscribe* and receive the whole sequence from the
start (a late subscriber gets the events it missed replayed), so two requests for the same
consultation and text cost one engine call and both see the full stream.

The run is not tied to any one HTTP request: who listens, and when the run is abandoned,
is decided in one place (`soap/sharing.py`), which calls `abandon()`; that cancels the run
(closing the upstream LLM request at once) unless the note is already complete, which is
always finished (cached and persisted) even if nobody is listening any more.

Read-your-writes: the `soap` event is emitted only once `on_complete` has made the note
durable (committed to the database, or fsynced to the spool when the database does not
answer in time). A client holding `soap` can read the note back from the history API,
and a server killed right after it answered loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime

from delphos.engines.base import Engine, EngineError
from delphos.errors import (
    DelphosError,
    InternalError,
    ParseError,
    ProcessingError,
    ProcessingTimeout,
)
from delphos.evidence import EvidenceRunner, check_evidence
from delphos.metrics import GENERATIONS_FAILED, TIME_TO_FIRST_PARTIAL, TIME_TO_SOAP
from delphos.pace import PartialPace
from delphos.records import SECTION_KEYS, SectionKey, SoapNote, Usage
from delphos.soap.events import GENERATING, NoteEvent, NoteSource, error_event, soap_event
from delphos.soap.parser import SoapOutputError, SoapStreamParser
from delphos.soap.replay import EventLog
from delphos.soap.schemas import ErrorEvent, SoapEvent

log = logging.getLogger("delphos.generation")

# Called with the finished `soap` event; persists (durably) and caches it. Runs shielded
# from subscriber cancellation, and the `soap` event waits for it.
OnComplete = Callable[[SoapEvent, "GenerationResult"], Awaitable[None]]
# Builds a note without the engine, for the degraded fallback (local rules).
Fallback = Callable[[str], SoapNote]

# After the object's closing brace, how long to wait for the provider's usage report (it
# follows the last text at once; a provider that stalls there must not hold the note).
USAGE_WAIT_SECONDS = 2.0

_CANCELLED = "Generation was cancelled"


@dataclass(frozen=True, slots=True)
class GenerationResult:
    note: SoapNote
    is_degraded: bool
    latency_ms: int
    finished_at: datetime
    # Tokens the provider reported over every request of this note; None without an LLM.
    usage: Usage | None = None


class _ParseFailed(Exception):
    """The engine's output never formed the SOAP object."""


class Generation:
    def __init__(
        self,
        *,
        engine: Engine,
        text: str,
        timeout: float,
        pace: PartialPace,
        source: NoteSource,
        on_complete: OnComplete,
        fallback: Fallback | None,
        evidence: EvidenceRunner,
    ) -> None:
        self._engine = engine
        self._evidence = evidence
        self._text = text
        self._timeout = timeout
        # The interval between periodic partials, read per delta (delphos.pace).
        self._pace = pace
        self._source = source
        self._on_complete = on_complete
        self._fallback = fallback
        self._log = EventLog(GENERATING)
        self._finalizing = False
        self._abandoned = False
        # Whether the run is over (its final event is in, or it never will be). A flag:
        # nobody waits on it (listeners wait on the log), and an asyncio.Event with its
        # waiters' deque cost ~800 bytes per open stream.
        self.done = False
        self._task: asyncio.Task[None] | None = None
        # Best partial so far: what a degraded error/fallback can build on.
        self._parser: SoapStreamParser | None = None
        self._partial_sent = False
        self._started = time.perf_counter()
        self._usage: Usage | None = None

    # --- lifecycle -----------------------------------------------------------------------

    @property
    def joinable(self) -> bool:
        """A new caller may still subscribe (not finished, not being abandoned)."""
        return not self.done and not self._abandoned

    @property
    def settled(self) -> bool:
        """Every section was complete in a partial, or the final event is out (see
        :attr:`EventLog.settled`)."""
        return self._log.settled

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="delphos-generation")
        self._task.add_done_callback(self._settle)

    def _settle(self, task: asyncio.Task[None]) -> None:
        # A task cancelled before its first step never runs `_run`'s finally: without this
        # its subscribers would wait forever. Every run ends with soap or error, and done.
        if not self.done:
            if not self._log.ended:
                self._emit(error_event(ProcessingError(_CANCELLED), degraded=self._partial_sent))
            self._finish()

    def _finish(self) -> None:
        self.done = True
        self._log.close()

    def add_done_callback(self, callback: Callable[[object], None]) -> None:
        assert self._task is not None, "start() first"
        self._task.add_done_callback(callback)

    def abandon(self) -> None:
        """Nobody listens any more: stop the engine now so no tokens are burnt for nobody
        (a new request re-generates) — unless the note is complete and being finished."""
        if self._finalizing or self.done:
            return
        log.info("all clients left before the note was complete; cancelling engine")
        self._abandoned = True
        if self._task is not None:
            self._task.cancel()

    async def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def subscribe(self) -> AsyncGenerator[NoteEvent, None]:
        """All events from the first; ends after `soap` or `error`."""
        return self._log.replay()

    def _emit_partial(self, parser: SoapStreamParser) -> None:
        sections = parser.sections()
        done = parser.completeness()
        if not self._partial_sent:
            TIME_TO_FIRST_PARTIAL.observe(time.perf_counter() - self._started)
        s, o, a, p = SECTION_KEYS
        self._log.append_partial(
            (sections[s], sections[o], sections[a], sections[p]),
            (done[s], done[o], done[a], done[p]),
        )

    def _emit(self, event: SoapEvent | ErrorEvent) -> None:
        if isinstance(event, SoapEvent):
            TIME_TO_SOAP.observe(time.perf_counter() - self._started)
        else:
            GENERATIONS_FAILED.labels(event.code).inc()
        self._log.append(event)

    # --- the run -------------------------------------------------------------------------

    async def _run(self) -> None:
        started = time.perf_counter()
        try:
            note: SoapNote | None
            try:
                async with asyncio.timeout(self._timeout):
                    note = await self._generate()
                degraded = False
            except TimeoutError:
                note = await self._degrade(ProcessingTimeout())
                degraded = True
            except EngineError as exc:
                log.warning("engine failed: %s", exc)
                note = await self._degrade(ProcessingError())
                degraded = True
            except _ParseFailed:
                self._fail(ParseError())
                return
            if note is None:
                return
            self._finalizing = True
            result = GenerationResult(
                note=note,
                is_degraded=degraded,
                latency_ms=int((time.perf_counter() - started) * 1000),
                finished_at=datetime.now(UTC),
                usage=self._usage,
            )
            event = soap_event(
                note,
                self._source,
                cached=False,
                is_degraded=degraded,
                generation_ms=result.latency_ms,
                usage=result.usage,
                evidence=await check_evidence(self._evidence, self._text, note.sections()),
            )
            # Durable first, then the answer: a client that has `soap` can read the note
            # back, and a crash after it cannot lose it. Shielded: the note is finished
            # even if every client has gone.
            await asyncio.shield(self._on_complete(event, result))
            self._emit(event)
        except asyncio.CancelledError:
            if not self.done and not self._finalizing:
                self._fail(ProcessingError(_CANCELLED))
            raise
        except Exception as exc:  # a bug: never a hung stream, never a stack trace out
            log.error("generation failed unexpectedly: %s", type(exc).__name__, exc_info=False)
            if not self._finalizing:
                self._fail(InternalError())
        finally:
            self._finish()

    async def _generate(self) -> SoapNote:
        # One retry when the output never forms the object (a model that rambled or was
        # cut off); a second failure is a PARSE_ERROR.
        for _attempt in range(2):
            parser = SoapStreamParser()
            self._parser = parser
            if await self._consume(parser):
                return parser.note()
            log.warning("engine output did not form a SOAP object (attempt %d)", _attempt + 1)
        raise _ParseFailed

    async def _consume(self, parser: SoapStreamParser) -> bool:
        loop = asyncio.get_running_loop()
        last_emit = 0.0
        last_done = parser.completeness()
        last_changes = parser.done_changes
        # Text the parser holds that no partial has shown yet, and the timer that will show
        # it. Throttling only on the next delta's arrival would hide the last words for as
        # long as the model pauses (a stalled provider: until the generation timeout).
        unsent = False
        trailing: asyncio.TimerHandle | None = None

        def send() -> None:
            # Also the timer's callback: it runs while we await the next delta, never in
            # the middle of `parser.feed`.
            nonlocal last_emit, last_done, last_changes, unsent, trailing
            if trailing is not None:
                trailing.cancel()
                trailing = None
            self._emit_partial(parser)
            self._partial_sent = True
            last_emit, last_done, unsent = loop.time(), parser.completeness(), False
            last_changes = parser.done_changes

        stream = self._engine.stream(self._text)
        try:
            # Closing the generator closes the engine's upstream request (its `async with`).
            async with aclosing(stream) as deltas:
                async for delta in deltas:
                    if isinstance(delta, Usage):
                        self._count(delta)
                        continue
                    try:
                        changed = parser.feed(delta)
                    except SoapOutputError:
                        return False
                    if parser.finished:
                        # The note is whole, but its `soap` event waits for the evidence
                        # check and the durable write: tens of milliseconds, seconds when
                        # many notes end at once. A note already showing shows its end
                        # now (left to the throttle's timer, it came up to a partial
                        # interval late; bench/streams.py). Unless this delta only closed
                        # the object: the last partial already shows all of it.
                        if self._partial_sent and (unsent or parser.completeness() != last_done):
                            send()
                        # Stop reading: trailing prose costs tokens and time for nothing.
                        break
                    if not changed:
                        continue
                    # Completeness is compared only when the parser wrote it (rarely).
                    completed = (
                        parser.done_changes != last_changes and parser.completeness() != last_done
                    )
                    now = loop.time()
                    first_text = not self._partial_sent and parser.started
                    interval = self._pace.interval
                    if completed or first_text or now - last_emit >= interval:
                        send()
                    else:
                        unsent = True
                        if trailing is None:
                            trailing = loop.call_later(last_emit + interval - now, send)
                if parser.finished:
                    await self._read_usage(deltas)
        finally:
            if trailing is not None:
                trailing.cancel()
            # Failed, timed out or about to retry: the clinician keeps everything that
            # arrived before it (the best-effort content a degraded error refers to). A
            # finished object was shown as it finished (or comes whole as `soap`).
            if unsent and not parser.finished:
                send()
        return parser.finished

    def _count(self, usage: Usage) -> None:
        # Every request of the note counts, a failed first attempt included: it was billed.
        self._usage = usage if self._usage is None else self._usage + usage

    async def _read_usage(self, deltas: AsyncIterator[str | Usage]) -> None:
        """The object is complete; read on only for the provider's usage report, which
        follows its last text. Trailing prose ends the read (it costs tokens for nothing)."""
        try:
            async with asyncio.timeout(USAGE_WAIT_SECONDS):
                async for delta in deltas:
                    if isinstance(delta, Usage):
                        self._count(delta)
                    elif delta.strip():
                        return
        except TimeoutError:
            log.info("no usage report within %.1fs of the note's end", USAGE_WAIT_SECONDS)
        except EngineError as exc:
            # The note is complete; a failure past it costs only the usage figure.
            log.info("engine failed after the note was complete: %s", exc)

    async def _degrade(self, error: DelphosError) -> SoapNote | None:
        """After a failure: complete the note with local rules if configured, else error."""
        parser = self._parser
        if self._fallback is None:
            self._fail(error)
            return None
        # The local rules are CPU-bound on long texts: off the event loop.
        local = await asyncio.to_thread(self._fallback, self._text)
        sections: dict[SectionKey, str] = {}
        done = parser.completeness() if parser else dict.fromkeys(SECTION_KEYS, False)
        for key in SECTION_KEYS:
            llm_text = parser.section_text(key) if parser else ""
            sections[key] = llm_text if done[key] else getattr(local, key)
        return SoapNote.from_sections(sections)

    def _fail(self, error: DelphosError) -> None:
        if self.done or self._log.last_is_final:
            return
        self._emit(error_event(error, degraded=self._partial_sent))
