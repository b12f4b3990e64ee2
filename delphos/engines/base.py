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

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import Protocol


def _plus(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else a + b


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens a provider reported for a note: what the clinic is billed for (or, on its own
    server, what the note cost in compute). Summed over every request a note took.

    ``input_tokens`` is every prompt token, cached or not. The two cache counts are the
    parts of it that the provider wrote to its prompt cache (billed above the base rate by
    Anthropic) or read from it (billed at a fraction); ``None`` when it reported none.
    """

    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            _plus(self.cache_creation_input_tokens, other.cache_creation_input_tokens),
            _plus(self.cache_read_input_tokens, other.cache_read_input_tokens),
        )

    def as_json(self) -> dict[str, int]:
        # The cache counts only when reported: notes without caching keep the shape they
        # always had.
        data = {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens}
        if self.cache_creation_input_tokens is not None:
            data["cache_creation_input_tokens"] = self.cache_creation_input_tokens
        if self.cache_read_input_tokens is not None:
            data["cache_read_input_tokens"] = self.cache_read_input_tokens
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Usage:
        """The inverse of :meth:`as_json` (spooled notes); ``ValueError`` if malformed."""

        def count(key: str) -> int | None:
            value = data.get(key)
            if value is None:
                return None
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"usage.{key} is not a token count")
            return value

        input_tokens, output_tokens = count("input_tokens"), count("output_tokens")
        if input_tokens is None or output_tokens is None:
            raise ValueError("usage lacks input_tokens or output_tokens")
        return cls(
            input_tokens,
            output_tokens,
            count("cache_creation_input_tokens"),
            count("cache_read_input_tokens"),
        )


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
