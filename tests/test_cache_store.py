"""Note cache behaviour on both backends (in-process and the real Redis)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.asyncio import Redis

from delphos.cache import CacheHit, MemoryCache, NoteCache, RedisCache, ResilientCache, build_cache
from delphos.redis_guard import safe_redis_location
from delphos.settings import Settings
from tests.support.fixtures.cache import CacheFactory, delete_prefix, make_entry

MAX_DELTA = 5
TENANT = "clinic-a"
CONSULTATION = "consult-1"


async def lookup(
    cache: NoteCache,
    text: str,
    *,
    tenant: str = TENANT,
    consultation: str = CONSULTATION,
    max_delta: int = MAX_DELTA,
) -> CacheHit | None:
    return await cache.lookup(tenant, consultation, text=text, max_delta=max_delta)


def with_words(text: str, extra: list[str]) -> str:
    return text + " " + " ".join(extra)


def replace_words(text: str, count: int) -> str:
    """Upper-case ``count`` lower-case words spread through the middle (case counts)."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if w.isalpha() and w.islower()]
    middle = candidates[len(candidates) // 4 : 3 * len(candidates) // 4]
    step = max(1, len(middle) // count) if count else 1
    for i in middle[::step][:count]:
        words[i] = words[i].upper()
    return " ".join(words)


@pytest.fixture
def visit(consultations: list[tuple[str, str]]) -> tuple[str, str]:
    return consultations[0]


@pytest.fixture
def next_words(consultations: list[tuple[str, str]]) -> list[str]:
    """Real words the dialogue could continue with."""
    return consultations[1][0].split()[:10]


async def test_miss_when_nothing_is_cached(note_cache: NoteCache, visit: tuple[str, str]) -> None:
    assert await lookup(note_cache, visit[0]) is None


async def test_same_text_is_an_exact_hit(note_cache: NoteCache, visit: tuple[str, str]) -> None:
    entry = make_entry(*visit)
    await note_cache.store(TENANT, CONSULTATION, entry)

    hit = await note_cache.lookup(TENANT, CONSULTATION, text=visit[0], max_delta=MAX_DELTA)

    assert hit is not None
    assert (hit.reason, hit.delta_words) == ("exact", 0)
    assert hit.payload == entry.payload
    assert hit.soap_hash == entry.soap_hash


async def test_hits_are_independent_copies_of_what_was_stored(
    note_cache: NoteCache, visit: tuple[str, str]
) -> None:
    entry = make_entry(*visit)
    await note_cache.store(TENANT, CONSULTATION, entry)

    first = await lookup(note_cache, visit[0])
    assert first is not None
    assert "cached" not in first.payload
    first.payload["cached"] = True
    second = await lookup(note_cache, visit[0])
    assert second is not None
    assert second.payload == entry.payload


async def test_fewer_than_five_new_words_reuse_the_note(
    note_cache: NoteCache, visit: tuple[str, str], next_words: list[str]
) -> None:
    entry = make_entry(*visit)
    await note_cache.store(TENANT, CONSULTATION, entry)

    hit = await note_cache.lookup(
        TENANT,
        CONSULTATION,
        text=with_words(visit[0], next_words[:4]),
        max_delta=MAX_DELTA,
    )

    assert hit is not None
    assert (hit.reason, hit.delta_words) == ("delta", 4)
    assert hit.payload == entry.payload


async def test_respacing_is_a_delta_hit_of_zero_words(
    note_cache: NoteCache, visit: tuple[str, str]
) -> None:
    await note_cache.store(TENANT, CONSULTATION, make_entry(*visit))
    respaced = visit[0].replace("\n", "\n\n").replace(" . ", " .  ")

    hit = await note_cache.lookup(TENANT, CONSULTATION, text=respaced, max_delta=MAX_DELTA)

    assert hit is not None
    assert (hit.reason, hit.delta_words) == ("delta", 0)


async def test_five_new_words_are_a_miss(
    note_cache: NoteCache, visit: tuple[str, str], next_words: list[str]
) -> None:
    await note_cache.store(TENANT, CONSULTATION, make_entry(*visit))
    assert await lookup(note_cache, with_words(visit[0], next_words[:5])) is None


async def test_edits_in_the_middle_count_words(
    note_cache: NoteCache, visit: tuple[str, str]
) -> None:
    await note_cache.store(TENANT, CONSULTATION, make_entry(*visit))

    four = await lookup(note_cache, replace_words(visit[0], 4))
    five = await lookup(note_cache, replace_words(visit[0], 5))

    assert four is not None
    assert four.delta_words == 4
    assert five is None


async def test_max_delta_zero_allows_only_exact_hits(
    note_cache: NoteCache, visit: tuple[str, str], next_words: list[str]
) -> None:
    await note_cache.store(TENANT, CONSULTATION, make_entry(*visit))
    assert await lookup(note_cache, with_words(visit[0], next_words[:1]), max_delta=0) is None
    assert await lookup(note_cache, visit[0], max_delta=0) is not None


async def test_other_tenant_with_same_consultation_id_misses(
    note_cache: NoteCache, consultations: list[tuple[str, str]]
) -> None:
    await note_cache.store(TENANT, CONSULTATION, make_entry(*consultations[0]))
    assert await lookup(note_cache, consultations[0][0], tenant="clinic-b") is None

    # The other tenant's own note does not replace the first tenant's.
    await note_cache.store("clinic-b", CONSULTATION, make_entry(*consultations[1]))
    assert await lookup(note_cache, consultations[0][0]) is not None


async def test_other_consultation_misses(note_cache: NoteCache, visit: tuple[str, str]) -> None:
    await note_cache.store(TENANT, CONSULTATION, make_entry(*visit))
    assert await lookup(note_cache, visit[0], consultation="consult-2") is None


async def test_separators_in_ids_cannot_collide(
    note_cache: NoteCache, visit: tuple[str, str]
) -> None:
    await note_cache.store("a:b", "c", make_entry(*visit))
    assert await lookup(note_cache, visit[0], tenant="a", consultation="b:c") is None
    assert await lookup(note_cache, visit[0], tenant="a:b", consultation="c") is not None


async def test_any_consultation_id_up_to_255_characters(
    note_cache: NoteCache, visit: tuple[str, str]
) -> None:
    odd_id = ("ü/:* {}\n\x00é" * 30)[:255]
    await note_cache.store(TENANT, odd_id, make_entry(*visit))
    assert await lookup(note_cache, visit[0], consultation=odd_id) is not None
    assert await lookup(note_cache, visit[0], consultation=odd_id[:254]) is None


async def test_latest_note_replaces_the_previous_one(
    note_cache: NoteCache, consultations: list[tuple[str, str]], next_words: list[str]
) -> None:
    dialogue, note = consultations[0]
    grown = with_words(dialogue, next_words)
    newer = make_entry(grown, consultations[1][1])
    await note_cache.store(TENANT, CONSULTATION, make_entry(dialogue, note))
    await note_cache.store(TENANT, CONSULTATION, newer)

    exact = await lookup(note_cache, grown)
    assert exact is not None
    assert exact.payload == newer.payload
    # The old text is now 10 words away from what is cached.
    assert await lookup(note_cache, dialogue) is None


async def test_entry_expires_after_its_time_to_live(
    note_cache_factory: CacheFactory, visit: tuple[str, str]
) -> None:
    cache = note_cache_factory(ttl_seconds=0.3)
    await cache.store(TENANT, CONSULTATION, make_entry(*visit))
    assert await lookup(cache, visit[0]) is not None

    await asyncio.sleep(0.8)

    assert await lookup(cache, visit[0]) is None


async def test_100k_character_text(
    note_cache: NoteCache,
    long_consultation_text: str,
    consultations: list[tuple[str, str]],
    next_words: list[str],
) -> None:
    text = long_consultation_text
    assert len(text) >= 100_000
    await note_cache.store(TENANT, CONSULTATION, make_entry(text, consultations[0][1]))

    exact = await lookup(note_cache, text)
    grown = await lookup(note_cache, with_words(text, next_words[:3]))
    edited = await lookup(note_cache, replace_words(text, 2))
    different = await lookup(note_cache, "\n".join(d for d, _ in reversed(consultations)))

    assert exact is not None
    assert exact.reason == "exact"
    assert grown is not None
    assert grown.delta_words == 3
    assert edited is not None
    assert edited.delta_words == 2
    assert different is None


async def test_health_is_ok(note_cache: NoteCache) -> None:
    health = await note_cache.health()
    assert health.ok
    assert health.kind == note_cache.kind


async def test_least_recently_used_entry_is_evicted_first(
    consultations: list[tuple[str, str]],
) -> None:
    cache = MemoryCache(max_entries=2, ttl_seconds=60)
    (t1, n1), (t2, n2), (t3, n3) = consultations[:3]
    await cache.store(TENANT, "c1", make_entry(t1, n1))
    await cache.store(TENANT, "c2", make_entry(t2, n2))
    assert await lookup(cache, t1, consultation="c1") is not None  # c1 is now the most recent
    await cache.store(TENANT, "c3", make_entry(t3, n3))

    assert await lookup(cache, t1, consultation="c1") is not None
    assert await lookup(cache, t2, consultation="c2") is None
    assert await lookup(cache, t3, consultation="c3") is not None
    assert len(cache) == 2


async def test_the_in_process_cache_evicts_the_oldest_notes_beyond_its_byte_bound(
    consultations: list[tuple[str, str]],
) -> None:
    (t1, n1), (t2, n2), (t3, n3) = consultations[:3]
    probe = MemoryCache(max_entries=100, ttl_seconds=60)
    await probe.store(TENANT, "c1", make_entry(t1, n1))
    one_note = probe.bytes_held
    assert one_note > 0
    # Room for two notes of this size, not three: the count alone would keep all three.
    cache = MemoryCache(max_entries=100, ttl_seconds=60, max_bytes=one_note * 5 // 2)
    await cache.store(TENANT, "c1", make_entry(t1, n1))
    await cache.store(TENANT, "c2", make_entry(t2, n2))
    await cache.store(TENANT, "c3", make_entry(t3, n3))

    assert await lookup(cache, t1, consultation="c1") is None
    assert await lookup(cache, t2, consultation="c2") is not None
    assert await lookup(cache, t3, consultation="c3") is not None
    assert cache.bytes_held <= one_note * 5 // 2
    # Replacing an entry counts its new size, not both.
    await cache.store(TENANT, "c3", make_entry(t3, n3))
    assert len(cache) == 2
    assert cache.bytes_held <= one_note * 5 // 2


async def test_the_in_process_cache_holds_notes_packed_and_answers_them_whole(
    consultations: list[tuple[str, str]],
) -> None:
    text, note = consultations[0]
    entry = make_entry(text, note)
    cache = MemoryCache(max_entries=10, ttl_seconds=60)
    await cache.store(TENANT, CONSULTATION, entry)
    exact = await lookup(cache, text)
    grown = await lookup(cache, text + " thanks")

    assert exact is not None
    assert grown is not None
    assert exact.payload == entry.payload
    assert grown.payload == entry.payload
    assert cache.bytes_held < len(text.encode()) + len(exact.payload_json)


def test_the_in_process_cache_byte_bound_is_a_setting() -> None:
    settings = Settings(redis_url=None, cache_max_bytes=8 << 20)
    cache = build_cache(settings)
    assert isinstance(cache, MemoryCache)
    assert "/8 MiB" in asyncio.run(cache.health()).detail


async def test_redis_keeps_each_note_with_its_text_under_one_key_that_expires(
    redis_server_url: str, visit: tuple[str, str], next_words: list[str]
) -> None:
    prefix = f"delphos-test-{uuid.uuid4().hex}"
    cache = RedisCache(redis_server_url, prefix=prefix, ttl_seconds=60, timeout=5.0)
    raw = Redis.from_url(redis_server_url, decode_responses=True)
    try:
        await cache.store(TENANT, CONSULTATION, make_entry(*visit))
        assert [key async for key in raw.scan_iter(match=f"{prefix}:*")] == [
            cache.entry_key(TENANT, CONSULTATION)
        ]
        assert 0 < await raw.pttl(cache.entry_key(TENANT, CONSULTATION)) <= 60_000
        # The same key answers the exact text and a text a word longer.
        assert await lookup(cache, visit[0]) is not None
        assert await lookup(cache, with_words(visit[0], next_words[:1])) is not None
        await raw.delete(cache.entry_key(TENANT, CONSULTATION))
        assert await lookup(cache, visit[0]) is None
    finally:
        await raw.aclose()
        await cache.aclose()
        await delete_prefix(redis_server_url, prefix)


def test_redis_location_never_shows_credentials() -> None:
    location = safe_redis_location("redis://user:s3cret@cache.internal:6380/2")
    assert location == "redis://cache.internal:6380/2"
    assert "s3cret" not in safe_redis_location("rediss://:s3cret@cache.internal")


async def test_build_cache_without_redis_is_in_process() -> None:
    cache = build_cache(Settings(redis_url=None))
    assert isinstance(cache, MemoryCache)
    assert (await cache.health()).ok


async def test_build_cache_with_redis_is_shared_and_resilient(
    redis_server_url: str, visit: tuple[str, str]
) -> None:
    prefix = f"delphos-test-{uuid.uuid4().hex}"
    settings = Settings(redis_url=redis_server_url, redis_prefix=prefix)
    writer, reader = build_cache(settings), build_cache(settings)
    try:
        assert isinstance(writer, ResilientCache)
        await writer.store(TENANT, CONSULTATION, make_entry(*visit))
        # A second worker (another cache object) sees the note.
        assert await lookup(reader, visit[0]) is not None
        assert (await reader.health()).ok
    finally:
        await writer.aclose()
        await reader.aclose()
        await delete_prefix(redis_server_url, prefix)
