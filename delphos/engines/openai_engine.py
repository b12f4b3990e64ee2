"""Notes from any OpenAI-compatible chat completions server (official ``openai`` SDK).

OpenAI itself, LLM gateways, vLLM, Ollama and llama.cpp all speak streamed chat
completions. ``max_tokens`` is sent rather than ``max_completion_tokens``: every
compatible server understands the former.

The note is asked for as structured output (see :mod:`delphos.engines.structured`) and
with ``stream_options.include_usage`` so the server reports the tokens the note cost in a
last chunk without choices.

SDK retries are off (``max_retries=0``): :class:`~delphos.engines.retry.RetryingEngine`
owns retrying, because only it knows whether text already reached the clinician.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import openai
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from delphos.engines.base import EngineError, EngineRejected, EngineUnavailable, Usage
from delphos.engines.prompt import SYSTEM_PROMPT, user_message
from delphos.engines.retry import retry_after_seconds
from delphos.engines.structured import (
    ladder,
    refuses_structured_output,
    response_format,
)
from delphos.settings import Settings

log = logging.getLogger(__name__)

BASE_URL_ENV = "DELPHOS_OPENAI_BASE_URL"

# A dead host should fail fast into a retry; the read timeout is the generation deadline,
# which the pipeline enforces over the whole stream anyway.
_CONNECT_TIMEOUT = 10.0

_STATUS_LABELS = {
    400: "bad request",
    401: "authentication failed (check DELPHOS_OPENAI_API_KEY)",
    403: "permission denied",
    404: "not found (check DELPHOS_OPENAI_MODEL and DELPHOS_OPENAI_BASE_URL)",
    408: "request timed out",
    409: "conflict",
    413: "request too large",
    422: "request not accepted",
    429: "rate limited",
}
_TRANSIENT_STATUSES = frozenset({408, 409, 429})

# Everything the SDK and its HTTP client raise; JSONDecodeError is a malformed SSE event.
_SDK_ERRORS = (openai.OpenAIError, httpx2.HTTPError, json.JSONDecodeError)

_SAFE_ID = re.compile(r"[A-Za-z0-9_.-]{1,80}")


class OpenAIEngine:
    name = "openai"

    def __init__(self, settings: Settings) -> None:
        if not settings.openai_base_url:
            raise ValueError(
                f"DELPHOS_ENGINE=openai needs the server's URL: set {BASE_URL_ENV} "
                "(e.g. http://127.0.0.1:11434/v1 for Ollama, http://127.0.0.1:8000/v1 for vLLM)"
            )
        self.model = settings.openai_model
        self._ladder = ladder(settings.structured_output)
        # Index into the ladder of the first spelling this server has not refused: shared
        # by every note of the process, so only the first one pays for a rejection.
        self._rung = 0
        self._max_tokens = settings.max_tokens
        self._temperature = settings.temperature
        self._client = openai.AsyncOpenAI(
            base_url=settings.openai_base_url,
            # Self-hosted servers usually want no key, but the SDK insists on one.
            api_key=settings.openai_api_key or "not-needed",
            max_retries=0,
            timeout=openai.Timeout(
                settings.generation_timeout,
                connect=min(_CONNECT_TIMEOUT, settings.generation_timeout),
            ),
        )

    async def stream(self, transcript: str) -> AsyncIterator[str | Usage]:
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": user_message(transcript)},
        ]
        try:
            stream = await self._open(messages)
            # ``async with``: if our caller closes this generator (the client went away),
            # leaving the block closes the upstream HTTP response at once.
            async with stream:
                async for chunk in _chunks(stream.response):
                    # Some servers end with a usage-only chunk that has no choices.
                    choices = chunk.get("choices")
                    if choices and (text := (choices[0].get("delta") or {}).get("content")):
                        yield text
                    if usage := chunk.get("usage"):
                        yield Usage(usage["prompt_tokens"], usage["completion_tokens"])
        except _SDK_ERRORS as exc:
            # ``from None``: the SDK's exception text embeds the response body.
            raise translate_error(exc) from None

    async def _open(
        self, messages: list[ChatCompletionMessageParam]
    ) -> openai.AsyncStream[ChatCompletionChunk]:
        """Start the streamed request, stepping down the structured-output ladder when the
        server refuses a spelling (see :mod:`delphos.engines.structured`)."""
        rung = self._rung
        while True:
            extra: dict[str, Any] = {}
            spelling = self._ladder[rung]
            if (fmt := response_format(spelling)) is not None:
                extra["response_format"] = fmt
            try:
                # Annotated: with ``**extra`` the SDK's overloads cannot pick the stream type.
                stream: openai.AsyncStream[ChatCompletionChunk]
                stream = await self._client.chat.completions.create(
                    model=self.model,
                    messages=messages,
                    max_tokens=self._max_tokens,
                    temperature=self._temperature,
                    stream=True,
                    stream_options={"include_usage": True},
                    **extra,
                )
            except openai.APIStatusError as exc:
                if rung + 1 >= len(self._ladder) or not refuses_structured_output(exc.body):
                    raise
                log.info(
                    "openai: server refused structured output as %s (%d); trying %s",
                    spelling,
                    exc.status_code,
                    self._ladder[rung + 1],
                )
                rung += 1
                continue
            if rung > self._rung:
                # Refused, and the next spelling accepted: the refusal was about the
                # spelling (not, say, an over-long prompt), so stop asking for it.
                self._rung = rung
                log.warning("openai: server refused structured output; using %s from now", spelling)
            return stream

    async def complete(self, system: str, user: str, max_tokens: int = 1024) -> str:
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ]
        try:
            completion = await self._client.chat.completions.create(
                model=self.model,
                messages=messages,
                max_tokens=max_tokens,
                temperature=self._temperature,
            )
        except _SDK_ERRORS as exc:
            raise translate_error(exc) from None
        if not completion.choices:
            return ""
        return completion.choices[0].message.content or ""

    async def aclose(self) -> None:
        await self._client.close()


async def _chunks(response: httpx2.Response) -> AsyncIterator[dict[str, Any]]:
    """The streamed chunks as plain JSON objects, read off the SDK's HTTP response.

    Iterating the SDK's stream builds a typed model of every chunk, for each of the 30-50
    deltas a second of every stream: with 200 streams that construction was about half
    of the worker's event-loop time (bench/streams.py). The note needs two fields, so the
    chunks are decoded here, as the SDK does it: SSE events whose data is JSON, ``[DONE]``
    last, and an ``{"error": ...}`` object mid-stream raised as the SDK's ``APIError``.
    The request itself (auth, retries off, status errors) is still the SDK's."""
    data: list[str] = []
    done = False
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            data.append(line[6:] if line.startswith("data: ") else line[5:])
            continue
        if line or not data or done:
            continue  # another field (event, id, comment), or the rest after [DONE]
        payload = "\n".join(data)
        data = []
        if payload.startswith("[DONE]"):
            # Read on to the end of the body, so HTTP/1.1 can reuse the connection.
            done = True
            continue
        chunk = json.loads(payload)
        if not isinstance(chunk, dict):
            continue
        if error := chunk.get("error"):
            message = error.get("message") if isinstance(error, dict) else None
            raise openai.APIError(
                message if isinstance(message, str) else "An error occurred during streaming",
                request=response.request,
                body=error,
            )
        yield chunk


def translate_error(exc: BaseException) -> EngineError:
    """Our exception for an SDK failure; its message is written here, never copied."""
    if isinstance(exc, openai.APIStatusError):
        return _from_status(exc)
    if isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException):
        return EngineUnavailable("openai: request timed out")
    if isinstance(exc, openai.APIConnectionError):
        # The openai SDK raises this for a refused connection and for one dropped
        # mid-stream alike.
        return EngineUnavailable("openai: connection failed or dropped")
    if isinstance(exc, openai.APIError):
        # A ``data: {"error": ...}`` event inside a stream that had started with a 200.
        return EngineUnavailable("openai: error event mid-stream")
    if isinstance(exc, httpx2.TransportError):
        return EngineUnavailable("openai: connection dropped mid-stream")
    return EngineUnavailable(f"openai: unexpected response ({type(exc).__name__})")


def _from_status(exc: openai.APIStatusError) -> EngineError:
    status = exc.status_code
    request = f", request {exc.request_id}" if _is_safe_id(exc.request_id) else ""
    label = _STATUS_LABELS.get(status, "server error" if status >= 500 else "request rejected")
    message = f"openai: {label} ({status}{request})"
    if status >= 500 or status in _TRANSIENT_STATUSES:
        error = EngineUnavailable(message)
        error.retry_after = retry_after_seconds(exc.response.headers)
        return error
    return EngineRejected(message)


def _is_safe_id(value: str | None) -> bool:
    return value is not None and _SAFE_ID.fullmatch(value) is not None
