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

The prompt is laid out for Anthropic's prompt cache (see
:mod:`delphos.engines.anthropic_cache`): a consultation regenerated as it grows reads the
transcript it already sent from the cache, and :class:`~delphos.engines.base.Usage`
carries the tokens written to and read from it.

No ``temperature`` is sent. The SDK 2.x removed the sampling parameters and sends
``anthropic-version: 2026-10-21``, under which the API answers 400 to any of them.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any

import anthropic
import httpx2
from anthropic.types import Message, TextBlock

from delphos.engines.anthropic_cache import user_content
from delphos.engines.api_common import STATUS_LABELS, ApiErrors, complete, release_request_body
from delphos.engines.base import EngineError, EngineRejected, EngineUnavailable
from delphos.engines.prompt import SYSTEM_PROMPT
from delphos.engines.sse_read import sse_batches
from delphos.engines.structured import SOAP_SCHEMA, Spelling, refuses_structured_output
from delphos.engines.transport import request_timeouts, sdk_http_client
from delphos.records import Usage
from delphos.settings import Settings

log = logging.getLogger(__name__)

API_KEY_ENV = "ANTHROPIC_API_KEY"

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


_TYPE_LABELS = {
    "overloaded_error": "overloaded",
    "api_error": "server error",
    "rate_limit_error": "rate limited",
    "timeout_error": "timed out",
}

_ERRORS = ApiErrors(
    provider="anthropic",
    labels={
        **STATUS_LABELS,
        401: "authentication failed (check ANTHROPIC_API_KEY)",
        402: "billing problem",
        404: "not found (check DELPHOS_ANTHROPIC_MODEL and DELPHOS_ANTHROPIC_BASE_URL)",
        529: "overloaded",
    },
    safe_id=re.compile(r"[A-Za-z0-9_-]{1,80}"),
    # Everything the SDK and its HTTP client raise; JSONDecodeError is a malformed event.
    sdk_errors=(anthropic.AnthropicError, httpx2.HTTPError, json.JSONDecodeError),
    rules=(
        # A lambda: ``_from_status`` is defined below.
        (anthropic.APIStatusError, lambda exc: _from_status(exc)),
        ((anthropic.APITimeoutError, httpx2.TimeoutException), "request timed out"),
        (anthropic.APIConnectionError, "connection failed"),
        (httpx2.TransportError, "connection dropped mid-stream"),
        (anthropic.CredentialsError, lambda _: EngineRejected("anthropic: no usable credentials")),
    ),
)


class AnthropicEngine:
    name = "anthropic"

    def __init__(
        self, settings: Settings, *, api_key: str | None = None, prompt_cache: bool = True
    ) -> None:
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
        # Off only to measure what caching saves (bench/llm_cost.py): the same text, sent
        # as one string without cache marks.
        self._prompt_cache = prompt_cache
        # Streams have one deadline, the pipeline's over the whole run (see transport.py).
        timeout, self._stream_timeout = request_timeouts(settings.generation_timeout)
        self._client = anthropic.AsyncAnthropic(
            http_client=sdk_http_client(anthropic.DefaultAsyncHttpxClient),
            api_key=key,
            base_url=settings.anthropic_base_url,
            max_retries=0,
            timeout=timeout,
        )

    async def stream(self, transcript: str) -> AsyncGenerator[str | Usage, None]:
        content = user_content(transcript, cache=self._prompt_cache)
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
                    timeout=self._stream_timeout,
                    system=SYSTEM_PROMPT,
                    messages=[{"role": "user", "content": content}],
                    **extra,
                ) as stream:
                    opened = True
                    if rung > self._rung:
                        # Refused with structured output, accepted without: stop asking.
                        self._rung = rung
                        log.warning("anthropic: structured output refused; prompt alone from now")
                    release_request_body(stream.response)
                    # The SDK's stream is not iterated (see ``_deltas``); it still owns the
                    # response, which leaving the block closes.
                    async for delta in _deltas(stream.response):
                        yield delta
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
                raise _ERRORS.translate(exc) from None
            except _ERRORS.sdk_errors as exc:
                # ``from None``: the SDK's exception text embeds the response body.
                raise _ERRORS.translate(exc) from None

    async def complete(self, system: str, user: str, max_tokens: int = 1024) -> str:
        call = self._client.messages.create(
            model=self.model,
            max_tokens=max_tokens,
            system=system,
            messages=[{"role": "user", "content": user}],
        )
        return await complete(call, _text, _ERRORS)

    async def aclose(self) -> None:
        await self._client.close()


def _from_status(exc: anthropic.APIStatusError) -> EngineError:
    if exc.status_code >= 400:
        return _ERRORS.from_status(exc.status_code, exc.request_id, exc.response.headers)
    # An ``event: error`` inside a stream that had started with a 200: its type says
    # whether another attempt could succeed.
    kind = exc.type
    label = _TYPE_LABELS.get(kind or "", "error")
    request = _ERRORS.request(exc.request_id)
    message = f"anthropic: {label} mid-stream ({kind or 'unknown'}{request})"
    if kind in _PERMANENT_TYPES:
        return EngineRejected(message)
    return EngineUnavailable(message)


# The counts of a ``message_delta``'s usage: cumulative totals that overwrite those of
# ``message_start``, each only when present (an absent one keeps the start's value).
_USAGE_COUNTS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)


async def _deltas(response: httpx2.Response) -> AsyncIterator[str | Usage]:
    """The text each network read brought, joined into one delta, then the message's
    usage, read as plain JSON off the SDK's HTTP response.

    Iterating the SDK's stream builds a typed event and updates a typed message snapshot
    for every delta of every stream (dozens a second each); the note needs the text and
    four counts. Read as the SDK reads it: ``ping`` skipped, ``event: error`` raised as
    the SDK's ``APIStatusError`` (its ``type`` says whether a retry may help), the text of
    ``text_delta``s, usage from ``message_start`` updated by ``message_delta``."""
    usage: dict[str, Any] | None = None
    async for events in sse_batches(response):
        texts: list[str] = []
        for event in events:
            if event.event == "ping":
                continue
            data = json.loads(event.data)
            if event.event == "error":
                if texts:
                    # The text that came before it in the same read is shown first: the
                    # clinician keeps every word the provider sent (a degraded error).
                    yield "".join(texts)
                # Worded as the SDK words it (the body, which may quote the prompt):
                # ``_ERRORS.translate`` writes our message, never copying this one.
                raise anthropic.APIStatusError(f"{data}", response=response, body=data)
            if not isinstance(data, dict):
                continue
            kind = data.get("type")
            if kind == "content_block_delta":
                delta = data.get("delta") or {}
                if delta.get("type") == "text_delta" and (text := delta.get("text")):
                    texts.append(text)
            elif kind == "message_start":
                usage = dict((data.get("message") or {}).get("usage") or {})
            elif kind == "message_delta" and usage is not None:
                update = data.get("usage") or {}
                usage |= {k: update[k] for k in _USAGE_COUNTS if update.get(k) is not None}
        if texts:
            yield "".join(texts)
    if usage is not None:
        yield usage_of(usage)


def _count(value: object) -> int:
    # A count the API left out (null) or garbled costs the usage figure, never the note.
    return value if isinstance(value, int) and value >= 0 else 0


def usage_of(usage: Mapping[str, Any]) -> Usage:
    """Our :class:`Usage` from the API's: its ``input_tokens`` counts only the tokens after
    the last cache entry, ours every prompt token (the cache counts are parts of it)."""
    written = _count(usage.get("cache_creation_input_tokens"))
    read = _count(usage.get("cache_read_input_tokens"))
    return Usage(
        _count(usage.get("input_tokens")) + written + read,
        _count(usage.get("output_tokens")),
        cache_creation_input_tokens=written or None,
        cache_read_input_tokens=read or None,
    )


def _text(message: Message) -> str:
    return "".join(block.text for block in message.content if isinstance(block, TextBlock))
