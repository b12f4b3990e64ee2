"""What the Anthropic and OpenAI engines share: turning an SDK failure into our error,
and letting a sent request's body go (:func:`release_request_body`).

Both APIs answer failures with an HTTP status, a request id and sometimes a wait hint;
which statuses a later attempt may fix is one rule for both (:func:`is_transient`), and
:class:`~delphos.engines.retry.RetryingEngine` retries exactly the errors it marks
:class:`~delphos.engines.base.EngineUnavailable`. A message is always written here from
the status, never copied from the SDK's exception: that text embeds the response body,
which may quote the prompt (patient text).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx2

from delphos.engines.base import EngineError, EngineRejected, EngineUnavailable
from delphos.engines.retry import retry_after_seconds

T = TypeVar("T")

# Request timeout, conflict and rate limit: the same request may succeed later. Every
# 5xx (Anthropic's 529 "overloaded" included) likewise; any other 4xx will not change.
_TRANSIENT_STATUSES = frozenset({408, 409, 429})


# What an HTTP status means whoever answered it; providers add their own (the variable
# to check on a 401 or 404, Anthropic's 402 and 529, OpenAI's 422).
STATUS_LABELS: Mapping[int, str] = {
    400: "bad request",
    403: "permission denied",
    408: "request timed out",
    409: "conflict",
    413: "request too large",
    429: "rate limited",
}


def is_transient(status: int) -> bool:
    """Whether a failed request with this HTTP status is worth sending again."""
    return status >= 500 or status in _TRANSIENT_STATUSES


# Which SDK exceptions (first match wins) become which error: a label for a transient
# failure (``EngineUnavailable("<provider>: <label>")``), or a function of the exception.
Rule = tuple[
    type[BaseException] | tuple[type[BaseException], ...], str | Callable[[Any], EngineError]
]


@dataclass(frozen=True)
class ApiErrors:
    """How one provider's failures read: its name, its status labels, the shape of its
    request ids, everything its SDK raises, and how each kind translates."""

    provider: str
    labels: Mapping[int, str]
    safe_id: re.Pattern[str]
    sdk_errors: tuple[type[BaseException], ...]
    rules: tuple[Rule, ...]

    def translate(self, exc: BaseException) -> EngineError:
        """Our exception for an SDK failure; its message is written here, never copied."""
        for kinds, outcome in self.rules:
            if isinstance(exc, kinds):
                if isinstance(outcome, str):
                    return EngineUnavailable(f"{self.provider}: {outcome}")
                return outcome(exc)
        return EngineUnavailable(f"{self.provider}: unexpected response ({type(exc).__name__})")

    def request(self, request_id: str | None) -> str:
        """``", request <id>"`` when the provider's id looks like one (it is logged)."""
        if request_id is not None and self.safe_id.fullmatch(request_id) is not None:
            return f", request {request_id}"
        return ""

    def from_status(
        self, status: int, request_id: str | None, headers: Mapping[str, str]
    ) -> EngineError:
        """Our error for an HTTP error response: retryable (with the provider's wait hint)
        when :func:`is_transient`, a rejection otherwise."""
        fallback = "server error" if status >= 500 else "request rejected"
        label = self.labels.get(status, fallback)
        message = f"{self.provider}: {label} ({status}{self.request(request_id)})"
        if not is_transient(status):
            return EngineRejected(message)
        error = EngineUnavailable(message)
        error.retry_after = retry_after_seconds(headers)
        return error


async def complete(call: Awaitable[T], answer: Callable[[T], str], errors: ApiErrors) -> str:
    """One non-streamed request: its answer's text, or our error for the SDK's failure.

    ``from None``: the SDK's exception (and so its text, which embeds the response body)
    does not ride along as the cause of ours.
    """
    try:
        result = await call
    except errors.sdk_errors as exc:
        raise errors.translate(exc) from None
    return answer(result)


def release_request_body(response: httpx2.Response) -> None:
    """The request is sent and answered: let its JSON body (the whole transcript, ~18 KB
    for a real consultation) and its headers go while the answer streams, rather than
    hold them for as long as the stream lasts (at 2,000 streams, ~650 open upstream at
    once: ~12 MB for the bodies; bench/streams.py with tracemalloc). The SDKs send some
    30 headers, ~3 KB per request as ``httpx`` keeps them, the API key among them: a key
    held in every open stream's memory serves nothing once the request is answered. The
    request object itself stays (method and URL): errors name it. The SDKs build a
    retry from their own options, never from this request."""
    request = response.request
    request.stream = httpx2.ByteStream(b"")
    request._content = b""
    request.headers = httpx2.Headers()
