"""Fake LLM APIs on 127.0.0.1 speaking the providers' real wire formats.

The official SDKs talk to these servers over real TCP and HTTP/1.1, so a test exercises
the same code path as production: request building, SSE decoding, status-error mapping,
dropped connections and client disconnects.

The server is a small HTTP/1.1 implementation on ``asyncio`` streams in a background
thread with its own event loop, rather than an ASGI app, because two behaviours under test
need the raw socket: cutting the connection in the middle of a chunked body (what a
proxy restart or an idle-timeout looks like to the client) and noticing at once that the
client closed its end while the server is stalled. The thread makes the server usable
from any test, sync or async, and lets it live for the whole session (``reset`` between
tests).

Wire formats reproduced:

- Anthropic Messages: ``POST /v1/messages``; with ``"stream": true`` an SSE body of
  ``message_start``, ``content_block_start``, ``ping``, ``content_block_delta``
  (``text_delta``) …, ``content_block_stop``, ``message_delta``, ``message_stop``, each as
  ``event:`` + ``data:`` lines; a mid-stream failure is ``event: error`` with
  ``{"type":"error","error":{"type":"overloaded_error",...}}``. Without ``stream`` a
  ``message`` JSON object. Errors are ``{"type":"error","error":{...},"request_id":...}``.
- OpenAI chat completions: ``POST /v1/chat/completions``; with ``"stream": true`` SSE
  ``data: {chat.completion.chunk}`` lines ending with ``data: [DONE]``; a mid-stream
  failure is ``data: {"error":{...}}``. Without ``stream`` a ``chat.completion`` object.
  Errors are ``{"error":{"message","type","param","code"}}``. With
  ``stream_options.include_usage`` every chunk carries ``"usage": null`` and a last chunk
  with no choices carries the usage, as OpenAI sends it.

Token usage is reported as the providers do (Anthropic: ``input_tokens`` and the cache
counts in ``message_start``, the final ``output_tokens`` in ``message_delta``), counted by
a stand-in tokenizer (:func:`count_tokens`); every report is kept in ``usages`` for tests
to compare. The Anthropic fake applies the documented prompt-cache rule
(:mod:`tests.support.fakes.prompt_cache`: breakpoints, minimum length, 20-block look-back, TTL)
and refuses more than four ``cache_control`` marks or an empty text block, as the API does.
A server can be told to refuse structured output (``refuses``) the way providers whose
model lacks it do: a 400 naming the parameter.

Error messages in the fake's bodies deliberately quote the end of the prompt — the worst
case of a provider echoing input — so tests can prove that engine exceptions never carry
response bodies (and hence never prompt text).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Protocol, Self

from tests.support.fakes.prompt_cache import PrefixCache, PromptCache, TooManyBreakpoints

Provider = Literal["anthropic", "openai"]
# What a fake can be told to refuse with a 400: OpenAI ``response_format`` types
# ("json_schema", "json_object") and Anthropic's "output_config".
Refusable = Literal["json_schema", "json_object", "output_config"]
Outcome = Literal["completed", "dropped", "errored", "rejected"]

# The API version the Anthropic SDK 2.x sends; from it on the API refuses the sampling
# parameters (temperature, top_p, top_k) with a 400, which the fake reproduces.
_ANTHROPIC_NO_SAMPLING_VERSION = "2026-10-21"
_SAMPLING_PARAMS = ("temperature", "top_p", "top_k")

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    409: "Conflict",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    529: "Overloaded",
}

_ANTHROPIC_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request"),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Your credit balance is too low"),
    403: ("permission_error", "Your API key does not have permission to use this resource"),
    404: ("not_found_error", "Not found"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes"),
    429: ("rate_limit_error", "Number of requests has exceeded your rate limit"),
    500: ("api_error", "Internal server error"),
    504: ("timeout_error", "Request timed out"),
    529: ("overloaded_error", "Overloaded"),
}

_OPENAI_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request"),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided"),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden"),
    404: ("invalid_request_error", "model_not_found", "The model does not exist"),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests"),
    500: ("server_error", None, "The server had an error while processing your request"),
    503: ("server_error", None, "The engine is currently overloaded, please try again later"),
}


@dataclass
class Scenario:
    """What the fake does with one request. Limits count characters of ``text``."""

    text: str = ""  # the model output to stream (e.g. a SOAP JSON string)
    chunk: int = 8  # characters per text delta
    status: int = 200  # non-200: the provider's error JSON instead of a stream
    delay: float = 0.0  # seconds between deltas
    stall_after: int | None = None  # after this many chars: hang until the client leaves
    drop_after: int | None = None  # after this many chars: cut the TCP connection
    error_after: int | None = None  # after this many chars: the mid-stream error event
    retry_after: float | None = None  # ``retry-after`` header on an error response
    # Error type of the mid-stream event; the provider's usual one when None
    # (anthropic "overloaded_error", openai "server_error").
    error_type: str | None = None


def count_tokens(text: str) -> int:
    """A stand-in tokenizer: about four characters a token, as for English text."""
    return max(1, (len(text) + 3) // 4)


def _prompt_tokens(body: dict[str, Any]) -> int:
    parts = _prompt_parts(body)
    return count_tokens("".join(parts)) + 4 * len(parts)  # plus each message's framing


def _prompt_text(body: dict[str, Any]) -> str:
    return "\x00".join(_prompt_parts(body))


def _prompt_parts(body: dict[str, Any]) -> list[str]:
    parts: list[str] = []
    system = body.get("system")
    if isinstance(system, str):
        parts.append(system)
    for message in body.get("messages") or []:
        if isinstance(message, dict):
            content = message.get("content")
            if isinstance(content, str):
                parts.append(content)
    return parts


@dataclass(frozen=True)
class ReportedUsage:
    # The prompt tokens neither read from nor written to a cache (Anthropic's meaning of
    # input_tokens; on the OpenAI wire, prompt_tokens is the whole prompt_tokens below).
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    @property
    def prompt_tokens(self) -> int:
        """Every prompt token, cached or not."""
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens


@dataclass
class _Exchange:
    """One request on one connection; ``finished`` once its last byte is being sent."""

    generation: int
    finished: bool = False


@dataclass
class _Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class FakeLLMServer:
    """A fake Anthropic or OpenAI-compatible API on an ephemeral 127.0.0.1 port.

    Each incoming request consumes one pushed :class:`Scenario`; with none queued the
    ``default`` scenario is used. Non-streamed requests (``complete``) honour ``status``,
    ``retry_after``, ``stall_after`` and ``drop_after`` (the last two before any byte of the
    response) and return ``text`` whole.
    """

    def __init__(self, provider: Provider) -> None:
        self.provider: Provider = provider
        self.default = Scenario()
        self.requests: list[dict[str, Any]] = []  # JSON bodies received, in order
        self.request_headers: list[dict[str, str]] = []  # lower-cased names
        self.usages: list[ReportedUsage] = []  # usage reported, one per finished response
        self.refuses: set[Refusable] = set()
        # Anthropic's prompt cache; tests and benchmarks may swap in one with their clock.
        self.prompt_cache = PromptCache()
        # OpenAI's automatic prefix caching.
        self.prefix_cache = PrefixCache()
        self._queue: collections.deque[Scenario] = collections.deque()
        self._disconnects = 0
        self._completed = 0
        self._serial = 0
        # Connections accepted before a ``reset`` belong to an older generation and no
        # longer touch the counters, so a test never sees a previous test's leftovers.
        self._generation = 0
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._port = 0

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> Self:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            try:
                server = loop.run_until_complete(
                    asyncio.start_server(self._on_connect, "127.0.0.1", 0)
                )
            except BaseException as exc:  # reported to start() below
                failure.append(exc)
                ready.set()
                loop.close()
                return
            self._port = server.sockets[0].getsockname()[1]
            self._loop = loop
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self._shutdown(server))
                loop.close()

        self._thread = threading.Thread(target=run, name=f"fake-{self.provider}", daemon=True)
        self._thread.start()
        if not ready.wait(10) or failure:
            cause = failure[0] if failure else None
            raise RuntimeError(f"fake {self.provider} server failed to start") from cause
        return self

    async def _shutdown(self, server: asyncio.Server) -> None:
        server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await server.wait_closed()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget scenarios, requests and counters (between tests of a shared server)."""
        with self._cond:
            self._generation += 1
            self._queue.clear()
            self.default = Scenario()
            self.requests = []
            self.request_headers = []
            self.usages = []
            self.refuses = set()
            self.prompt_cache = PromptCache()
            self.prefix_cache = PrefixCache()
            self._disconnects = 0
            self._completed = 0

    # --- test API ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What the SDK's ``base_url`` should be (OpenAI's SDK expects the ``/v1``)."""
        root = f"http://127.0.0.1:{self._port}"
        return f"{root}/v1" if self.provider == "openai" else root

    def push(self, *scenarios: Scenario) -> None:
        with self._cond:
            self._queue.extend(scenarios)

    @property
    def disconnects(self) -> int:
        """Times a client went away before its response was fully sent."""
        with self._cond:
            return self._disconnects

    @property
    def completed(self) -> int:
        """Responses sent in full (streams to their last event, non-streamed bodies)."""
        with self._cond:
            return self._completed

    # A ``timeout`` argument rather than ``asyncio.timeout``: the answer is a bool a test
    # asserts on, and the wait polls a counter owned by the server thread.
    async def wait_disconnect(self, timeout: float = 5.0, count: int = 1) -> bool:  # noqa: ASYNC109
        """Wait until the server has seen ``count`` client disconnects; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.disconnects < count:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    def wait_disconnect_sync(self, timeout: float = 5.0, count: int = 1) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._disconnects >= count, timeout)

    # --- connection handling (server thread) ---------------------------------------------

    def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.get_running_loop().create_task(self._serve(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # An empty write buffer after every drain: a drop then cuts exactly where the
        # scenario says, after everything before it reached the socket.
        writer.transport.set_write_buffer_limits(high=0)
        with self._cond:
            exchange = _Exchange(self._generation)
        try:
            request = await _read_request(reader)
            if request is None:
                return
            respond = asyncio.ensure_future(self._respond(request, writer, exchange))
            watch = asyncio.ensure_future(_until_eof(reader))
            done, _ = await asyncio.wait({respond, watch}, return_when=asyncio.FIRST_COMPLETED)
            if respond in done:
                watch.cancel()
                error = respond.exception()
                if error is not None and not isinstance(error, ConnectionError):
                    raise error  # a bug in the fake: let it surface
                if error is not None:
                    self._disconnected(exchange)
            else:
                # The client closed its end (EOF or reset) while we were still sending.
                respond.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                    await respond
                self._disconnected(exchange)
        except (ConnectionError, asyncio.IncompleteReadError):
            self._disconnected(exchange)
        finally:
            writer.transport.abort()

    def _finish(self, exchange: _Exchange) -> None:
        """Count a full response *before* its last bytes go out, so that a client which
        has read them can rely on ``completed`` (no race with this thread)."""
        with self._cond:
            exchange.finished = True
            if exchange.generation == self._generation:
                self._completed += 1
                self._cond.notify_all()

    def _disconnected(self, exchange: _Exchange) -> None:
        with self._cond:
            if not exchange.finished and exchange.generation == self._generation:
                self._disconnects += 1
                self._cond.notify_all()

    def _next_id(self) -> int:
        with self._cond:
            self._serial += 1
            return self._serial

    async def _respond(
        self, request: _Request, writer: asyncio.StreamWriter, exchange: _Exchange
    ) -> Outcome:
        serial = self._next_id()
        expected_path = "/v1/messages" if self.provider == "anthropic" else "/v1/chat/completions"
        if request.method != "POST" or request.path != expected_path:
            await self._send_error(writer, 404, serial, prompt="")
            return "rejected"
        try:
            body = json.loads(request.body)
            if not isinstance(body, dict):
                raise ValueError("body is not an object")
        except ValueError:
            await self._send_error(writer, 400, serial, prompt="")
            return "rejected"
        with self._cond:
            if exchange.generation == self._generation:
                self.requests.append(body)
                self.request_headers.append(request.headers)
        prompt = last_user_text(body)

        if self.provider == "anthropic":
            rejection = _anthropic_rejection(request.headers, body)
            if rejection is not None:
                await self._send_error(writer, rejection, serial, prompt=prompt)
                return "rejected"
        if (refusal := self._refusal(body)) is not None:
            await self._send_error(writer, 400, serial, prompt=prompt, message=refusal)
            return "rejected"

        with self._cond:
            scenario = self._queue.popleft() if self._queue else self.default
        if scenario.status != 200:
            await self._send_error(
                writer, scenario.status, serial, prompt=prompt, retry_after=scenario.retry_after
            )
            return "rejected"
        model = str(body.get("model", ""))
        usage = ReportedUsage(_prompt_tokens(body), count_tokens(scenario.text))
        if self.provider == "anthropic":
            # Looked up and written as the response begins (a failed request caches
            # nothing), which is when the API makes an entry available.
            try:
                cached = self.prompt_cache.apply(body)
            except TooManyBreakpoints as exc:
                message = f"A maximum of 4 blocks with cache_control may be provided. Found {exc}."
                await self._send_error(writer, 400, serial, prompt=prompt, message=message)
                return "rejected"
            usage = ReportedUsage(
                cached.input_tokens,
                usage.output_tokens,
                cached.cache_creation_input_tokens,
                cached.cache_read_input_tokens,
            )
        else:
            # ``input_tokens`` here too: the prompt tokens not read from the cache.
            hit = self.prefix_cache.apply(model, _prompt_text(body))
            usage = ReportedUsage(usage.input_tokens - hit, usage.output_tokens, 0, hit)
        if body.get("stream") is True:
            options = body.get("stream_options")
            with_usage = isinstance(options, dict) and options.get("include_usage") is True
            return await self._send_stream(
                writer, exchange, scenario, serial, model, prompt, usage, with_usage
            )
        return await self._send_whole(writer, exchange, scenario, serial, model, usage)

    def _refusal(self, body: dict[str, Any]) -> str | None:
        """The provider's message refusing structured output, if this request is refused."""
        with self._cond:
            refuses = set(self.refuses)
        if "output_config" in refuses and "output_config" in body:
            return "output_config.format: structured outputs are not supported by this model"
        fmt = body.get("response_format")
        if isinstance(fmt, dict) and fmt.get("type") in refuses:
            kind = fmt["type"]
            return f"Invalid parameter: 'response_format' of type '{kind}' is not supported"
        return None

    def _report(self, exchange: _Exchange, usage: ReportedUsage) -> None:
        with self._cond:
            if exchange.generation == self._generation:
                self.usages.append(usage)

    # --- responses -----------------------------------------------------------------------

    async def _send_error(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        serial: int,
        *,
        prompt: str,
        retry_after: float | None = None,
        message: str | None = None,
    ) -> None:
        quoted = _quote(prompt)
        headers = {"content-type": "application/json"}
        headers.update(self._id_header(serial))
        if retry_after is not None:
            headers["retry-after"] = f"{retry_after:g}"
        if self.provider == "anthropic":
            kind, usual = _ANTHROPIC_ERRORS.get(
                status, ("api_error" if status >= 500 else "invalid_request_error", "Error")
            )
            payload: dict[str, Any] = {
                "type": "error",
                "error": {"type": kind, "message": (message or usual) + quoted},
                "request_id": f"req_fake{serial:06d}",
            }
        else:
            kind, code, usual = _OPENAI_ERRORS.get(
                status,
                ("server_error" if status >= 500 else "invalid_request_error", None, "Error"),
            )
            param = "response_format" if message else None
            payload = {
                "error": {
                    "message": (message or usual) + quoted,
                    "type": kind,
                    "param": param,
                    "code": code,
                }
            }
        data = json.dumps(payload).encode()
        headers["content-length"] = str(len(data))
        writer.write(_head(status, headers) + data)
        await writer.drain()

    def _id_header(self, serial: int) -> dict[str, str]:
        if self.provider == "anthropic":
            return {"request-id": f"req_fake{serial:06d}"}
        return {"x-request-id": f"req_fake{serial:06d}", "openai-processing-ms": "1"}

    async def _send_whole(
        self,
        writer: asyncio.StreamWriter,
        exchange: _Exchange,
        scenario: Scenario,
        serial: int,
        model: str,
        usage: ReportedUsage,
    ) -> Outcome:
        if scenario.drop_after is not None:
            return "dropped"
        if scenario.stall_after is not None:
            await asyncio.Event().wait()  # until the client leaves (this task is cancelled)
        if self.provider == "anthropic":
            payload: dict[str, Any] = {
                "id": f"msg_fake{serial:06d}",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": scenario.text}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": _anthropic_usage(usage, usage.output_tokens),
            }
        else:
            payload = {
                "id": f"chatcmpl-fake{serial:06d}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": scenario.text,
                            "refusal": None,
                        },
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": _openai_usage(usage),
            }
        data = json.dumps(payload).encode()
        headers = {"content-type": "application/json", "content-length": str(len(data))}
        headers.update(self._id_header(serial))
        self._report(exchange, usage)
        self._finish(exchange)
        writer.write(_head(200, headers) + data)
        await writer.drain()
        return "completed"

    async def _send_stream(
        self,
        writer: asyncio.StreamWriter,
        exchange: _Exchange,
        scenario: Scenario,
        serial: int,
        model: str,
        prompt: str,
        usage: ReportedUsage,
        with_usage: bool,
    ) -> Outcome:
        wire: _Wire = (
            _AnthropicEvents(serial, model, usage)
            if self.provider == "anthropic"
            else _OpenAIChunks(serial, model, usage if with_usage else None)
        )
        headers = {
            "content-type": "text/event-stream; charset=utf-8",
            "cache-control": "no-cache",
            "transfer-encoding": "chunked",
        }
        headers.update(self._id_header(serial))
        writer.write(_head(200, headers) + b"".join(_chunk(f) for f in wire.opening()))
        await writer.drain()

        text = scenario.text
        limits = [
            limit
            for limit in (scenario.stall_after, scenario.drop_after, scenario.error_after)
            if limit is not None
        ]
        sent = 0
        while True:
            if scenario.drop_after is not None and sent >= scenario.drop_after:
                return "dropped"  # ``_serve`` aborts the socket: no terminating chunk
            if scenario.error_after is not None and sent >= scenario.error_after:
                quoted = _quote(prompt)
                writer.write(_chunk(wire.error(scenario.error_type, quoted)) + _LAST_CHUNK)
                await writer.drain()
                return "errored"
            if scenario.stall_after is not None and sent >= scenario.stall_after:
                await asyncio.Event().wait()  # until the client leaves (this task is cancelled)
            if sent >= len(text):
                break
            size = min([max(1, scenario.chunk), len(text) - sent, *(n - sent for n in limits)])
            writer.write(_chunk(wire.delta(text[sent : sent + size])))
            await writer.drain()
            sent += size
            if scenario.delay and sent < len(text):
                await asyncio.sleep(scenario.delay)

        closing = wire.closing()
        if self.provider == "anthropic" or with_usage:
            self._report(exchange, usage)
        self._finish(exchange)
        writer.write(b"".join(_chunk(frame) for frame in closing) + _LAST_CHUNK)
        await writer.drain()
        return "completed"


# --- wire formats --------------------------------------------------------------------------


class _Wire(Protocol):
    def opening(self) -> list[bytes]: ...
    def delta(self, text: str) -> bytes: ...
    def closing(self) -> list[bytes]: ...
    def error(self, kind: str | None, quoted: str) -> bytes: ...


class _AnthropicEvents:
    def __init__(self, serial: int, model: str, usage: ReportedUsage) -> None:
        self.serial = serial
        self.model = model
        self.usage = usage

    @staticmethod
    def _event(name: str, data: dict[str, Any]) -> bytes:
        return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()

    def opening(self) -> list[bytes]:
        message: dict[str, Any] = {
            "id": f"msg_fake{self.serial:06d}",
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": _anthropic_usage(self.usage, 1),
        }
        return [
            self._event("message_start", {"type": "message_start", "message": message}),
            self._event(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
            ),
            self._event("ping", {"type": "ping"}),
        ]

    def delta(self, text: str) -> bytes:
        return self._event(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": text},
            },
        )

    def closing(self) -> list[bytes]:
        return [
            self._event("content_block_stop", {"type": "content_block_stop", "index": 0}),
            self._event(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": self.usage.output_tokens},
                },
            ),
            self._event("message_stop", {"type": "message_stop"}),
        ]

    def error(self, kind: str | None, quoted: str) -> bytes:
        kind = kind or "overloaded_error"
        message = {"overloaded_error": "Overloaded"}.get(kind, "Internal server error")
        return self._event(
            "error",
            {
                "type": "error",
                "error": {"type": kind, "message": message + quoted},
                "request_id": f"req_fake{self.serial:06d}",
            },
        )


class _OpenAIChunks:
    def __init__(self, serial: int, model: str, usage: ReportedUsage | None) -> None:
        self.serial = serial
        self.model = model
        self.created = int(time.time())
        self.usage = usage  # None: the client did not ask for it

    def _data(self, choices: list[dict[str, Any]], usage: dict[str, Any] | None) -> bytes:
        data: dict[str, Any] = {
            "id": f"chatcmpl-fake{self.serial:06d}",
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_fake",
            "choices": choices,
        }
        if self.usage is not None:
            data["usage"] = usage
        return f"data: {json.dumps(data)}\n\n".encode()

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return self._data([choice], None)

    def opening(self) -> list[bytes]:
        return [self._chunk({"role": "assistant", "content": "", "refusal": None}, None)]

    def delta(self, text: str) -> bytes:
        return self._chunk({"content": text}, None)

    def closing(self) -> list[bytes]:
        frames = [self._chunk({}, "stop")]
        if self.usage is not None:
            frames.append(self._data([], _openai_usage(self.usage)))
        return [*frames, b"data: [DONE]\n\n"]

    def error(self, kind: str | None, quoted: str) -> bytes:
        error = {
            "message": "The server had an error while processing your request" + quoted,
            "type": kind or "server_error",
            "param": None,
            "code": None,
        }
        return f"data: {json.dumps({'error': error})}\n\n".encode()


# --- HTTP/1.1 plumbing ---------------------------------------------------------------------

_LAST_CHUNK = b"0\r\n\r\n"


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _head(status: int, headers: dict[str, str]) -> bytes:
    # One request per connection: the SDKs then never reuse a socket the fake cut.
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}", "connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, target, _version = request_line.split(" ", 2)
    headers: dict[str, str] = {}
    for line in header_lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return _Request(method, target.split("?", 1)[0], headers, body)


def _quote(prompt: str) -> str:
    # The end of the prompt: for a note that is the end of the transcript itself.
    return f" (near: {prompt[-100:]!r})" if prompt else ""


async def _until_eof(reader: asyncio.StreamReader) -> None:
    """Return when the client has closed its end of the connection."""
    with contextlib.suppress(ConnectionError):
        while await reader.read(65536):
            pass


def _anthropic_rejection(headers: dict[str, str], body: dict[str, Any]) -> int | None:
    """The checks the real Messages API makes that an engine bug could trip."""
    if not headers.get("x-api-key") and not headers.get("authorization"):
        return 401
    if not all(key in body for key in ("model", "max_tokens", "messages")):
        return 400
    version = headers.get("anthropic-version", "")
    if version >= _ANTHROPIC_NO_SAMPLING_VERSION and any(p in body for p in _SAMPLING_PARAMS):
        return 400
    if _has_empty_text_block(body):
        return 400
    return None


def _openai_usage(usage: ReportedUsage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.prompt_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read_input_tokens},
    }


def _anthropic_usage(usage: ReportedUsage, output_tokens: int) -> dict[str, int]:
    return {
        "input_tokens": usage.input_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "output_tokens": output_tokens,
    }


def _has_empty_text_block(body: dict[str, Any]) -> bool:
    """The API refuses a text block without non-blank text (in system or messages)."""
    system = body.get("system")
    lists = [system] if isinstance(system, list) else []
    for message in body.get("messages") or []:
        if isinstance(message, dict) and isinstance(message.get("content"), list):
            lists.append(message["content"])
    return any(
        isinstance(block, dict)
        and block.get("type") == "text"
        and not str(block.get("text", "")).strip()
        for blocks in lists
        for block in blocks
    )


def last_user_text(body: dict[str, Any]) -> str:
    """The text of a request's last message, however its content is cut into blocks."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return ""
    content = messages[-1].get("content") if isinstance(messages[-1], dict) else None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(block.get("text", "")) for block in content if isinstance(block, dict))
    return ""
