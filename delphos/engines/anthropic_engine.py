"""Notes from Claude through the official ``anthropic`` SDK (Messages API, streamed).

SDK retries are off (``max_retries=0``): :class:`~delphos.engines.retry.RetryingEngine`
owns retrying, because only it knows whether text already reached the clinician.

The note is forced with Anthropic's structured outputs (``output_config.format``, a JSON
schema of the four sections in order; see :mod:`delphos.engines.structured`): the API
then decodes only text that forms the object, keys in schema order. Prefilling the reply
with ``{`` is not used: the newest models refuse prefilled assistant turns. Where a model
or gateway refuses structured outputs (an error naming them) and
``DELPHOS_STRUCTURED_OUTPUT=auto``, the engine falls back, for the rest of the process, to
the prompt alone; the pipeline then stops reading at the object's closing brace and
retries once when no object formed.

No ``temperature`` is sent. The SDK 2.x removed the sampling parameters and sends
``anthropic-version: 2026-10-21``, under which the API answers 400 to any of them.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx2
from anthropic.types import TextBlock

from delphos.engines.base import EngineError, EngineRejected, EngineUnavailable
from delphos.engines.prompt import SYSTEM_PROMPT, user_message
from delphos.engines.retry import retry_after_seconds
from delphos.engines.structured import SOAP_SCHEMA, Spelling, refuses_structured_output
from delphos.records import Usage
from delphos.settings import Settings

log = logging.getLogger(__name__)

API_KEY_ENV = "ANTHROPIC_API_KEY"

# A dead host should fail fast into a retry; the read timeout is the generation deadline,
# which the pipeline enforces over the whole stream anyway.
_CONNECT_TIMEOUT = 10.0

# Error types (``error.type`` in error bodies and in a mid-stream ``event: error``) that a
# later attempt will not fix. Unknown types count as transient: a retry costs little.
_PERMANENT_TYPES = frozenset(
    {
        "invalid_request_error",
        "authentication_error",
        "billing_error",
        "permission_error",
        "not_found_error",
        "request_too_large",
    }
)

_STATUS_LABELS = {
    400: "bad request",
    401: "authentication failed (check ANTHROPIC_API_KEY)",
    402: "billing problem",
    403: "permission denied",
    404: "not found (check DELPHOS_ANTHROPIC_MODEL and DELPHOS_ANTHROPIC_BASE_URL)",
    408: "request timed out",
    409: "conflict",
    413: "request too large",
    429: "rate limited",
    529: "overloaded",
}
_TRANSIENT_STATUSES = frozenset({408, 409, 429})

_TYPE_LABELS = {
    "overloaded_error": "overloaded",
    "api_error": "server error",
    "rate_limit_error": "rate limited",
    "timeout_error": "timed out",
}

# Everything the SDK and its HTTP client raise; JSONDecodeError is a malformed SSE event.
_SDK_ERRORS = (anthropic.AnthropicError, httpx2.HTTPError, json.JSONDecodeError)

_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")


class AnthropicEngine:
    name = "anthropic"

    def __init__(self, settings: Settings, *, api_key: str | None = None) -> None:
        # Passed explicitly so the SDK does not go on to look for profiles or workload
        # identity on disk: the key comes from the variable the SDK documents, or nowhere.
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV, "")
        if not key:
            raise ValueError(
                f"DELPHOS_ENGINE=anthropic needs an API key: set the {API_KEY_ENV} "
                "environment variable (or choose DELPHOS_ENGINE=local)"
            )
        self.model = settings.anthropic_model
        # The Messages API has one spelling of structured output; ``auto`` may fall back to
        # the prompt alone, once for the process (see the module docstring).
        ladders: dict[str, tuple[Spelling, ...]] = {
            "auto": ("json_schema", "none"),
            "on": ("json_schema",),
            "off": ("none",),
        }
        self._ladder = ladders[settings.structured_output]
        self._rung = 0
        self._max_tokens = settings.max_tokens
        self._client = anthropic.AsyncAnthropic(
            api_key=key,
            base_url=settings.anthropic_base_url,
            max_retries=0,
            timeout=anthropic.Timeout(
                settings.generation_timeout,
                connect=min(_CONNECT_TIMEOUT, settings.generation_timeout),
            ),
        )

    async def stream(self, transcript: str) -> AsyncIterator[str | Usage]:
        rung = self._rung
        opened = False
        while True:
            spelling = self._ladder[rung]
            extra: dict[str, Any] = {}
            if spelling != "none":
                extra["output_config"] = {"format": {"type": "json_schema", "schema": SOAP_SCHEMA}}
            try:
                # ``async with``: if our caller closes this generator (the client went
                # away), leaving the block closes the upstream HTTP response at once.
                async with self._client.messages.stream(
                    model=self.model,
                    max_tokens=self._max_tokens,
                    system=SYSTEM_PROMPT,
                    messages=[{"role": "user", "content": user_message(transcript)}],
                    **extra,
                ) as stream:
                    opened = True
                    if rung > self._rung:
                        # Refused with structured output, accepted without: stop asking.
                        self._rung = rung
                        log.warning("anthropic: structured output refused; prompt alone from now")
                    async for text in stream.text_stream:
                        if text:
                            yield text
                    usage = stream.current_message_snapshot.usage
                    yield Usage(usage.input_tokens, usage.output_tokens)
                return
            except anthropic.APIStatusError as exc:
                # Only a refusal of the request itself (never once text has streamed).
                if (
                    not opened
                    and rung + 1 < len(self._ladder)
                    and refuses_structured_output(exc.body)
                ):
                    log.info(
                        "anthropic: structured output refused (%d); retrying without",
                        exc.status_code,
                    )
                    rung += 1
                    continue
                raise translate_error(exc) from None
            except _SDK_ERRORS as exc:
                # ``from None``: the SDK's exception text embeds the response body.
                raise translate_error(exc) from None

    async def complete(self, system: str, user: str, max_tokens: int = 1024) -> str:
        try:
            message = await self._client.messages.create(
                model=self.model,
                max_tokens=max_tokens,
                system=system,
                messages=[{"role": "user", "content": user}],
            )
        except _SDK_ERRORS as exc:
            raise translate_error(exc) from None
        return "".join(block.text for block in message.content if isinstance(block, TextBlock))

    async def aclose(self) -> None:
        await self._client.close()


def translate_error(exc: BaseException) -> EngineError:
    """Our exception for an SDK failure; its message is written here, never copied."""
    if isinstance(exc, anthropic.APIStatusError):
        return _from_status(exc)
    if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException):
        return EngineUnavailable("anthropic: request timed out")
    if isinstance(exc, anthropic.APIConnectionError):
        return EngineUnavailable("anthropic: connection failed")
    if isinstance(exc, httpx2.TransportError):
        return EngineUnavailable("anthropic: connection dropped mid-stream")
    if isinstance(exc, anthropic.CredentialsError):
        return EngineRejected("anthropic: no usable credentials")
    return EngineUnavailable(f"anthropic: unexpected response ({type(exc).__name__})")


def _from_status(exc: anthropic.APIStatusError) -> EngineError:
    status = exc.status_code
    kind = exc.type
    request = f", request {exc.request_id}" if _is_safe_id(exc.request_id) else ""
    error: EngineError
    if status < 400:
        # An ``event: error`` inside a stream that had started with a 200.
        label = _TYPE_LABELS.get(kind or "", "error")
        message = f"anthropic: {label} mid-stream ({kind or 'unknown'}{request})"
        if kind in _PERMANENT_TYPES:
            return EngineRejected(message)
        return EngineUnavailable(message)
    label = _STATUS_LABELS.get(status, "server error" if status >= 500 else "request rejected")
    message = f"anthropic: {label} ({status}{request})"
    if status >= 500 or status in _TRANSIENT_STATUSES:
        error = EngineUnavailable(message)
        error.retry_after = retry_after_seconds(exc.response.headers)
        return error
    return EngineRejected(message)


def _is_safe_id(value: str | None) -> bool:
    return value is not None and _SAFE_ID.fullmatch(value) is not None
