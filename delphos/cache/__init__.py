"""The note cache: the latest note per (tenant, consultation), in process or in Redis."""

from __future__ import annotations

from delphos.cache.delta import normalise_words, word_delta
from delphos.cache.memory import MemoryCache
from delphos.cache.redis_store import RedisCache
from delphos.cache.resilient import ResilientCache
from delphos.cache.store import CacheEntry, CacheHealth, CacheHit, NoteCache
from delphos.settings import Settings

__all__ = [
    "CacheEntry",
    "CacheHealth",
    "CacheHit",
    "MemoryCache",
    "NoteCache",
    "RedisCache",
    "ResilientCache",
    "build_cache",
    "normalise_words",
    "word_delta",
]


def build_cache(settings: Settings) -> NoteCache:
    """Redis (shared by all workers, outages absorbed) when configured, else in-process."""
    if settings.redis_url:
        return ResilientCache(
            RedisCache(
                settings.redis_url,
                prefix=settings.redis_prefix,
                ttl_seconds=settings.cache_ttl_seconds,
                timeout=settings.redis_timeout,
            )
        )
    return MemoryCache(
        max_entries=settings.cache_max_entries,
        ttl_seconds=settings.cache_ttl_seconds,
        max_bytes=settings.cache_max_bytes,
    )
