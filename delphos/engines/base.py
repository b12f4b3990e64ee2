"""The one small protocol every note engine speaks: transcript in, text deltas out.

Engines produce the *text* of one JSON object with the keys ``subjective``, ``objective``,
``assessment`` and ``plan`` (in that order), streamed as deltas. They know nothing of SSE,
caching or persistence; the incremental parser turns their deltas into sections.

``stream`` may also yield one :class:`Usage` — the provider's token counts — usually after
the last text delta (LLM engines; the local engine costs no tokens and yields none).

``stream`` is an async generator: the caller closes it (``contextlib.aclosing``) when the
client goes away, and the generator's ``async with`` on the SDK stream closes the upstream
HTTP request at once.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Protocol

from delphos.records import Usage


class EngineError(Exception):
    """An engine failed. ``str(exc)`` is safe to log: never patient text, never a body."""

    retryable: bool = False


class EngineUnavailable(EngineError):
    """Transient: rate limited (429), overloaded (529), 5xx, connection refused or dropped."""

    retryable = True
    # Seconds the provider asked us to wait (its ``retry-after`` header), when it said so.
    retry_after: float | None = None


class EngineRejected(EngineError):
    """Permanent: bad credentials, bad request, unknown model."""

    retryable = False


class Engine(Protocol):
    name: str  # "local" | "anthropic" | "openai"
    model: str

    def stream(self, transcript: str) -> AsyncGenerator[str | Usage, None]:
        """Yield the deltas of the SOAP JSON object for ``transcript``, and the request's
        :class:`Usage` when the provider reports it."""
        ...

    async def complete(self, system: str, user: str, max_tokens: int = 1024) -> str:
        """One short, non-streamed answer (per-turn editing, custom analysis prompts)."""
        ...

    async def aclose(self) -> None:
        """Release clients (HTTP pools) at application shutdown."""
        ...
