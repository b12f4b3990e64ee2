"""The events of one run as its listeners read them (delphos/soap/replay.py): each live
listener is woken for every new event, and one that leaves disturbs nobody else."""

from __future__ import annotations

import asyncio

from delphos.errors import ProcessingError
from delphos.soap.events import GENERATING, NoteEvent, completeness, error_event
from delphos.soap.replay import EventLog
from delphos.soap.schemas import PartialEvent


async def read_all(log: EventLog, into: list[NoteEvent]) -> None:
    async for event in log.replay():
        into.append(event)


async def test_a_listener_that_leaves_while_waiting_does_not_stall_the_others() -> None:
    log = EventLog(GENERATING)
    staying: list[NoteEvent] = []
    leaving: list[NoteEvent] = []
    stays = asyncio.create_task(read_all(log, staying))
    leaves = asyncio.create_task(read_all(log, leaving))
    await asyncio.sleep(0)  # both have read the status and wait for the next event

    leaves.cancel()
    await asyncio.sleep(0)
    log.append_partial(("S", "", "", ""), (False, False, False, False))
    log.append_partial(("S more", "O", "", ""), (True, False, False, False))
    await asyncio.sleep(0)
    final = error_event(ProcessingError(), degraded=True)
    log.append(final)
    log.close()
    await asyncio.wait_for(stays, timeout=5)

    assert leaves.cancelled()
    assert leaving == [GENERATING]
    assert [event.name for event in staying] == ["status", "partial", "partial", "error"]
    assert staying[-1] is final


async def test_every_listener_waiting_is_woken_by_each_event() -> None:
    log = EventLog(GENERATING)
    seen: list[list[NoteEvent]] = [[] for _ in range(3)]
    tasks = [asyncio.create_task(read_all(log, into)) for into in seen]
    await asyncio.sleep(0)
    for n in range(3):
        log.append_partial(("x" * (n + 1), "", "", ""), (False, False, False, False))
        await asyncio.sleep(0)
    log.close()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)

    for events in seen:
        assert [event.name for event in events] == ["status", "partial", "partial", "partial"]


def test_a_note_with_every_section_complete_stays_settled_through_a_retry() -> None:
    # Settled decides whether the note is finished when every client has left: it must
    # not depend on what a listener happened to read, nor be undone by a restarted run.
    log = EventLog(GENERATING)
    log.append_partial(("S", "O", "A", ""), (True, True, True, False))
    assert not log.settled
    log.append_partial(("S", "O", "A", "P"), (True, True, True, True))
    assert log.settled
    log.append_partial(("S2", "", "", ""), (False, False, False, False))  # a retry restarts
    assert log.settled


def test_a_final_event_settles_the_note() -> None:
    log = EventLog(GENERATING)
    log.append_partial(("S", "", "", ""), (False, False, False, False))
    assert not log.settled
    log.append(error_event(ProcessingError(), degraded=True))
    assert log.settled


async def test_a_listener_that_joins_late_reads_every_partial_as_it_was_sent() -> None:
    # Partials are kept as cuts of the latest texts: each must come back with its own
    # lengths and its own completeness, section by section, however long the sections.
    log = EventLog(GENERATING)
    live: list[NoteEvent] = []
    listening = asyncio.create_task(read_all(log, live))
    await asyncio.sleep(0)
    sent = [
        (("S" * 300, "", "", ""), (False, False, False, False)),
        (("S" * 70_000, "O" * 5, "", ""), (True, False, False, False)),
        (("S" * 70_000, "O" * 9_999, "A", ""), (True, True, False, False)),
        (("S" * 70_000, "O" * 9_999, "A" * 257, "P" * 3), (True, True, True, False)),
        (("S" * 70_000, "O" * 9_999, "A" * 257, "P" * 1_000_000), (True, True, True, True)),
    ]
    for texts, done in sent:
        log.append_partial(texts, done)
        await asyncio.sleep(0)
    log.close()
    await asyncio.wait_for(listening, timeout=5)
    late: list[NoteEvent] = []
    await read_all(log, late)

    expected = [
        PartialEvent(
            subjective=s, objective=o, assessment=a, plan=p, completeness=completeness(done)
        )
        for (s, o, a, p), done in sent
    ]
    assert late[1:] == expected
    assert live[1:] == expected
