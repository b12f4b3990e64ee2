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

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens a provider reported for a note: what the clinic is billed for (or, on its own
    server, what the note cost in compute). Summed over every request a note took."""

    input_tokens: int
    output_tokens: int

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens
        )

    def as_json(self) -> dict[str, int]:
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens}


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

    def stream(self, transcript: str) -> AsyncIterator[str | Usage]:
        """Yield the deltas of the SOAP JSON object for ``transcript``, and the request's
        :class:`Usage` when the provider reports it."""
        ...

    async def complete(self, system: str, user: str, max_tokens: int = 1024) -> str:
        """One short, non-streamed answer (per-turn editing, custom analysis prompts)."""
        ...

    async def aclose(self) -> None:
        """Release clients (HTTP pools) at application shutdown."""
        ...
