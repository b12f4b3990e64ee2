"""The SDKs' transport for direct connections (delphos/engines/lean_http.py), through httpx
against a real HTTP server on 127.0.0.1 that the test drives step by step."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import httpx2
import openai
import pytest

from delphos.engines.lean_http import BODY, LeanBody, LeanTransport
from delphos.engines.transport import sdk_http_client
from tests.support.ports import free_port

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class Upstream:
    """An HTTP/1.1 server whose answer to each request is the test's ``handler``."""

    handler: Handler
    connections: int = 0
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    break
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                await self.handler(reader, writer)
        finally:
            self.closed.set()
            writer.close()


Start = Callable[[Handler], Awaitable[Upstream]]


@pytest.fixture
async def upstream() -> AsyncIterator[Start]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> Upstream:
        up = Upstream(handler)
        server = await asyncio.start_server(up.serve, "127.0.0.1", 0)
        servers.append(server)
        up.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        return up

    yield start
    for server in servers:
        server.close()


def client() -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=LeanTransport(ssl.create_default_context()))


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


CHUNKED = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"


async def test_each_chunk_arrives_while_the_server_is_still_sending(upstream: Start) -> None:
    seen = asyncio.Event()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(CHUNKED + chunk(b"data: one\n\n"))
        await writer.drain()
        await seen.wait()  # the second only once the client has read the first
        writer.write(chunk(b"data: two\n\n") + b"0\r\n\r\n")
        await writer.drain()

    up = await upstream(answer)
    async with client() as http, http.stream("POST", up.url, content=b"{}") as response:
        body = response.extensions[BODY]
        assert isinstance(body, LeanBody)
        pieces = []
        async for piece in body:
            pieces.append(piece)
            seen.set()
    assert response.status_code == 200
    assert pieces == [b"data: one\n\n", b"data: two\n\n"]


async def test_what_piled_up_while_the_reader_was_busy_is_read_as_one_piece(
    upstream: Start,
) -> None:
    # A busy event loop reads a stream's socket late: the events that came meanwhile are
    # one piece (one delta downstream), not one wake-up and parser step each.
    sent = asyncio.Event()

    async def burst(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(CHUNKED)
        for n in range(3):
            writer.write(chunk(b"data: %d\n\n" % n))
            await writer.drain()
        sent.set()
        await asyncio.sleep(0.3)
        writer.write(chunk(b"data: last\n\n") + b"0\r\n\r\n")
        await writer.drain()

    up = await upstream(burst)
    async with client() as http, http.stream("POST", up.url, content=b"{}") as response:
        await sent.wait()
        await asyncio.sleep(0.1)  # the reader is busy elsewhere
        pieces = [piece async for piece in response.aiter_raw()]
    assert pieces == [b"data: 0\n\ndata: 1\n\ndata: 2\n\n", b"data: last\n\n"]


async def test_closing_a_response_early_closes_its_connection(upstream: Start) -> None:
    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(CHUNKED + chunk(b"data: one\n\n"))
        await writer.drain()
        await reader.read()  # until the client goes

    up = await upstream(stall)
    async with client() as http:
        async with http.stream("POST", up.url, content=b"{}") as response:
            async for _ in response.extensions[BODY]:
                break
        await asyncio.wait_for(up.closed.wait(), 5)


async def test_a_connection_is_reused_once_its_answer_was_read_to_the_end(upstream: Start) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()

    up = await upstream(answer)
    async with client() as http:
        for _ in range(3):
            response = await http.post(up.url, json={"n": 1})
            assert response.content == b"ok"
    assert up.connections == 1


async def test_a_connection_dropped_mid_body_is_a_protocol_error(upstream: Start) -> None:
    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(CHUNKED + chunk(b"data: one\n\n"))
        await writer.drain()
        writer.transport.abort()

    up = await upstream(drop)
    async with client() as http, http.stream("POST", up.url, content=b"{}") as response:
        with pytest.raises(httpx2.RemoteProtocolError):
            async for _ in response.aiter_raw():
                pass


async def test_a_provider_silent_past_the_read_timeout_is_a_read_timeout(upstream: Start) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    up = await upstream(silent)
    async with client() as http:
        with pytest.raises(httpx2.ReadTimeout):
            await http.post(up.url, content=b"{}", timeout=httpx2.Timeout(5, read=0.2))


async def test_a_body_that_keeps_coming_outlives_its_read_timeout(upstream: Start) -> None:
    # The read timeout bounds each wait, not the whole body: chunks 0.1 s apart over
    # 0.8 s against a 0.25 s read timeout (the deadline timer fires and re-arms meanwhile).
    async def steady(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(CHUNKED)
        for n in range(8):
            await asyncio.sleep(0.1)
            writer.write(chunk(b"data: %d\n\n" % n))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    up = await upstream(steady)
    async with client() as http:
        response = await http.post(up.url, content=b"{}", timeout=httpx2.Timeout(5, read=0.25))
    assert response.content == b"".join(b"data: %d\n\n" % n for n in range(8))


async def test_a_provider_that_falls_silent_mid_body_is_a_read_timeout(upstream: Start) -> None:
    async def stalls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(CHUNKED)
        for n in range(4):
            writer.write(chunk(b"data: %d\n\n" % n))
            await writer.drain()
            await asyncio.sleep(0.1)
        await reader.read()

    up = await upstream(stalls)
    got: list[bytes] = []
    loop = asyncio.get_running_loop()
    async with client() as http:
        req = http.build_request("POST", up.url, content=b"{}")
        req.extensions["timeout"] = httpx2.Timeout(5, read=0.25).as_dict()
        response = await http.send(req, stream=True)
        started = loop.time()

        async def read_all() -> None:
            async for part in response.aiter_raw():
                got.append(part)

        with pytest.raises(httpx2.ReadTimeout):
            await read_all()
        waited = loop.time() - started
        await response.aclose()
    assert b"".join(got) == b"".join(b"data: %d\n\n" % n for n in range(4))
    # Four chunks 0.1 s apart, then the 0.25 s of silence: not cut short, not held long.
    assert 0.5 < waited < 2.0


async def test_a_refused_connection_is_a_connect_error_and_the_sdks_connection_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with client() as http:
        with pytest.raises(httpx2.ConnectError):
            await http.post(url, content=b"{}")
    sdk = openai.AsyncOpenAI(
        base_url=url + "/v1",
        api_key="k",
        max_retries=0,
        http_client=sdk_http_client(openai.DefaultAsyncHttpxClient),
    )
    with pytest.raises(openai.APIConnectionError):
        await sdk.models.list()
    await sdk.close()


def test_the_sdk_client_makes_its_direct_connections_with_this_transport() -> None:
    http = sdk_http_client(openai.DefaultAsyncHttpxClient)
    assert isinstance(http._transport, LeanTransport)


def test_the_transport_runs_on_uvloop_as_uvicorn_serves() -> None:
    import uvloop

    async def exchange() -> bytes:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(CHUNKED + chunk(b"data: one\n\n") + b"0\r\n\r\n")
            await writer.drain()

        server = await asyncio.start_server(Upstream(answer).serve, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        try:
            async with client() as http:
                return (await http.post(url, content=b"{}")).content
        finally:
            server.close()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(exchange()) == b"data: one\n\n"
