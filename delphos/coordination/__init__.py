"""The coordinator: cross-worker locks and the event relay, in process or in Redis."""

from __future__ import annotations

from delphos.coordination.base import Coordinator, StreamEvent
from delphos.coordination.memory import MemoryCoordinator
from delphos.coordination.redis_store import RedisCoordinator
from delphos.coordination.resilient import ResilientCoordinator
from delphos.settings import Settings

__all__ = [
    "Coordinator",
    "MemoryCoordinator",
    "RedisCoordinator",
    "ResilientCoordinator",
    "StreamEvent",
    "build_coordinator",
]


def build_coordinator(settings: Settings) -> Coordinator:
    """Redis (shared by all workers, outages absorbed) when configured, else in-process."""
    if settings.redis_url:
        return ResilientCoordinator(
            RedisCoordinator(
                settings.redis_url, prefix=settings.redis_prefix, timeout=settings.redis_timeout
            )
        )
    return MemoryCoordinator()
