"""Notes from any OpenAI-compatible chat completions server (official ``openai`` SDK).

OpenAI itself, LLM gateways, vLLM, Ollama and llama.cpp all speak streamed chat
completions. ``max_tokens`` is sent rather than ``max_completion_tokens``: every
compatible server understands the former.

The note is asked for as structured output (see :mod:`delphos.engines.structured`) and
with ``stream_options.include_usage`` so the server reports the tokens the note cost in a
last chunk without choices.

The prompt keeps its stable part first and the transcript last (see
:mod:`delphos.engines.prompt`), so servers that cache prompt prefixes by themselves (vLLM
with prefix caching, llama.cpp's slot cache, OpenAI from 1,024 tokens) reuse the previous
request's work; when the server reports cached tokens (``prompt_tokens_details.
cached_tokens``) the note's usage carries them as ``cache_read_input_tokens``.

SDK retries are off (``max_retries=0``): :class:`~delphos.engines.retry.RetryingEngine`
owns retrying, because only it knows whether text already reached the clinician.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncGenerator
from typing import Any

import httpx2
import openai
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam

from delphos.engines.api_common import STATUS_LABELS, ApiErrors, complete, release_request_body
from delphos.engines.base import EngineError
from delphos.engines.openai_chunks import ChunkText, framed_text
from delphos.engines.prompt import SYSTEM_PROMPT, user_message
from delphos.engines.sse_read import SseEvent, SseSplitter, body
from delphos.engines.structured import (
    ladder,
    refuses_structured_output,
    response_format,
)
from delphos.engines.transport import request_timeouts, sdk_http_client
from delphos.records import Usage
from delphos.settings import Settings

log = logging.getLogger(__name__)

BASE_URL_ENV = "DELPHOS_OPENAI_BASE_URL"

_ERRORS = ApiErrors(
    provider="openai",
    labels={
        **STATUS_LABELS,
        401: "authentication failed (check DELPHOS_OPENAI_API_KEY)",
        404: "not found (check DELPHOS_OPENAI_MODEL and DELPHOS_OPENAI_BASE_URL)",
        422: "request not accepted",
    },
    safe_id=re.compile(r"[A-Za-z0-9_.-]{1,80}"),
    # Everything the SDK and its HTTP client raise; JSONDecodeError is a malformed event.
    sdk_errors=(openai.OpenAIError, httpx2.HTTPError, json.JSONDecodeError),
    rules=(
        # A lambda: ``_from_status`` is defined below.
        (openai.APIStatusError, lambda exc: _from_status(exc)),
        ((openai.APITimeoutError, httpx2.TimeoutException), "request timed out"),
        # The SDK raises this for a refused connection and one dropped mid-stream alike.
        (openai.APIConnectionError, "connection failed or dropped"),
        # A ``data: {"error": ...}`` event inside a stream that had started with a 200.
        (openai.APIError, "error event mid-stream"),
        (httpx2.TransportError, "connection dropped mid-stream"),
    ),
)


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
        # Streams have one deadline, the pipeline's over the whole run (see transport.py).
        timeout, self._stream_timeout = request_timeouts(settings.generation_timeout)
        self._client = openai.AsyncOpenAI(
            http_client=sdk_http_client(openai.DefaultAsyncHttpxClient),
            base_url=settings.openai_base_url,
            # Self-hosted servers usually want no key, but the SDK insists on one.
            api_key=settings.openai_api_key or "not-needed",
            max_retries=0,
            timeout=timeout,
        )

    async def stream(self, transcript: str) -> AsyncGenerator[str | Usage, None]:
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": user_message(transcript)},
        ]
        try:
            stream = await self._open(messages)
            del messages
            _forget_request_body(stream)
            # ``async with``: if our caller closes this generator (the client went away),
            # leaving the block closes the upstream HTTP response at once.
            async with stream:
                chunks = _Chunks(stream.response)
                async for raw in body(stream.response):
                    items = chunks.feed(raw)
                    # The read is not held while its text goes downstream and the next
                    # one is awaited (under load, several events: kilobytes per stream).
                    del raw
                    for item in items:
                        yield item
                    if chunks.failed is not None:
                        raise chunks.failed
                for item in chunks.end():
                    yield item
                if chunks.failed is not None:
                    raise chunks.failed
        except _ERRORS.sdk_errors as exc:
            # ``from None``: the SDK's exception text embeds the response body.
            raise _ERRORS.translate(exc) from None

    async def _open(
        self, messages: list[ChatCompletionMessageParam]
    ) -> openai.AsyncStream[ChatCompletionChunk]:
        """Start the streamed request, stepping down the structured-output ladder when the
        server refuses a spelling (see :mod:`delphos.engines.structured`)."""
        rung = self._rung
        while True:
            request: dict[str, Any] = {
                "model": self.model,
                "messages": messages,
                "max_tokens": self._max_tokens,
                "temperature": self._temperature,
                "stream": True,
                "stream_options": {"include_usage": True},
            }
            spelling = self._ladder[rung]
            if (fmt := response_format(spelling)) is not None:
                request["response_format"] = fmt
            try:
                # The SDK's own POST (auth, headers, status errors, the stream object), as
                # ``chat.completions.create`` ends in, without the walk it first makes of
                # the parameters against their TypedDicts: for plain JSON like ours that
                # walk changes nothing, and it cost ~0.5 ms of the event loop per note
                # (~7 % of the worker's loop while 500 streams open, py-spy).
                stream = await self._client.post(
                    "/chat/completions",
                    body=request,
                    cast_to=ChatCompletion,
                    options={"timeout": self._stream_timeout},
                    stream=True,
                    stream_cls=openai.AsyncStream[ChatCompletionChunk],
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
        call = self._client.chat.completions.create(
            model=self.model,
            messages=messages,
            max_tokens=max_tokens,
            temperature=self._temperature,
        )
        return await complete(call, _text, _ERRORS)

    async def aclose(self) -> None:
        await self._client.close()


class _Chunks:
    """What each network read of the body brought: its text deltas joined into one, and
    the usage report if it came, as plain JSON read off the SDK's HTTP response.

    Iterating the SDK's stream builds a typed model of every chunk, for each of the 50
    deltas a second of every stream: with 200 streams that construction was about half
    of the worker's event-loop time (bench/streams.py). The note needs two fields, so the
    chunks are decoded here (:mod:`delphos.engines.sse_read`), as the SDK does it: events
    whose data is JSON, ``[DONE]`` last, and an ``{"error": ...}`` object mid-stream
    raised as the SDK's ``APIError``; a chunk of the plain shape gives its text without
    a full decode (:mod:`delphos.engines.openai_chunks`). The request itself (auth,
    retries off, status errors) is still the SDK's. Fed by the engine's own loop over the
    body: no generator of its own per read."""

    def __init__(self, response: httpx2.Response) -> None:
        self._response = response
        self._events = SseSplitter()
        self._plain = ChunkText()
        # The last plain chunk's event as bytes around its text: ``data: `` and the JSON
        # up to the text, and the JSON after it with the event's blank line (see feed).
        self._frame: tuple[bytes, bytes] | None = None
        self._frame_of = self._plain.frame
        self._done = False
        # An ``{"error": ...}`` event, raised by the engine once the text that came before
        # it in the same read has been passed on (the clinician keeps every word sent).
        self.failed: openai.APIError | None = None

    def feed(self, raw: bytes) -> list[str | Usage]:
        frame = self._frame
        if frame is not None and not self._done and not self._events.pending:
            # Nearly every read: one whole event (several when the loop was busy) of the
            # last plain chunk's frame with another text. Read off the bytes here, that
            # is exactly what splitting the events and matching their data
            # (ChunkText.text) give, without the events' decode, their tuples and the
            # comparisons on str (0.5 us a delta instead of 1.6, in isolation).
            head, tail = frame
            text = framed_text(raw, head, tail)
            if text is not None:
                return [text] if text else []
        out = self._read(self._events.feed(raw))
        frame_of = self._plain.frame
        if frame_of != self._frame_of:
            self._frame_of = frame_of
            head_text, tail_text = frame_of
            self._frame = (
                (b"data: " + head_text.encode(), tail_text.encode() + b"\n\n")
                if head_text
                else None
            )
        return out

    def end(self) -> list[str | Usage]:
        return self._read(self._events.end())

    def _read(self, events: list[SseEvent]) -> list[str | Usage]:
        if self._done or not events:
            return []  # nothing, or the rest after [DONE]
        out: list[str | Usage] = []
        texts: list[str] = []
        for event in events:
            if event.data.startswith("[DONE]"):
                # Read on to the end of the body, so HTTP/1.1 can reuse the connection.
                self._done = True
                break
            text = self._plain.text(event.data)
            if text is not None:
                if text:
                    texts.append(text)
                continue
            chunk = json.loads(event.data)
            if not isinstance(chunk, dict):
                continue
            if error := chunk.get("error"):
                message = error.get("message") if isinstance(error, dict) else None
                self.failed = openai.APIError(
                    message if isinstance(message, str) else "An error occurred during streaming",
                    request=self._response.request,
                    body=error,
                )
                self._done = True
                break
            # Some servers end with a usage-only chunk that has no choices.
            choices = chunk.get("choices")
            if choices and (text := (choices[0].get("delta") or {}).get("content")):
                texts.append(text)
            if usage := chunk.get("usage"):
                if texts:
                    out.append("".join(texts))
                    texts = []
                out.append(usage_of(CompletionUsage.model_validate(usage)))
        if texts:
            out.append("".join(texts))
        return out


def _forget_request_body(stream: openai.AsyncStream[ChatCompletionChunk]) -> None:
    """The request is sent: let its prompt (the whole transcript) go while the answer
    streams. It is otherwise held twice per open stream for as long as it lasts: as the
    JSON bytes of ``httpx``'s request (:func:`release_request_body`) and in the SDK's
    request options, which only the SDK's own chunk iterator reads (we do not use it;
    it takes None as "no options")."""
    stream._options = None
    release_request_body(stream.response)


def _from_status(exc: openai.APIStatusError) -> EngineError:
    return _ERRORS.from_status(exc.status_code, exc.request_id, exc.response.headers)


def usage_of(usage: CompletionUsage) -> Usage:
    """Our :class:`Usage` from the server's: ``prompt_tokens`` already counts the cached
    ones, which servers that say so report as ``prompt_tokens_details.cached_tokens``."""
    details = usage.prompt_tokens_details
    cached = details.cached_tokens if details is not None else None
    return Usage(
        usage.prompt_tokens, usage.completion_tokens, cache_read_input_tokens=cached or None
    )


def _text(completion: ChatCompletion) -> str:
    if not completion.choices:
        return ""
    return completion.choices[0].message.content or ""
