"""raia's GETs on connections of our own (``adapters.raia.lean``), against raw sockets:
kept alive and reused, answers by length or in chunks, a connection raia closed while
idle asked again on a new one, timeouts and refusals as ``Wire`` reports them, closed
on ``aclose``; a proxy still goes through aiohttp."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from adapters.raia.client import RaiaClient
from adapters.raia.wire import Timeouts
from bridge.errors import AgentRateLimited, AgentTransportError
from bridge.ports.agent import ResponseStatus
from tests.fakes.raw_http import Handler, answering, raw_server, read_request, refused_url, silent

PENDING = b'{"status": "pending", "message": null, "error": null}'
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json"


class Raia:
    """Answers every request on a connection with ``PENDING``; counts connections and
    requests, and hangs up after ``per_connection`` requests."""

    def __init__(self, per_connection: int = 1000, chunked: bool = False, close: bool = False) -> None:
        self.connections = 0
        self.requests: list[bytes] = []
        self.per_connection, self.chunked, self.close = per_connection, chunked, close
        self.closed = asyncio.Event()  # a connection was closed by the client

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        for _ in range(self.per_connection):
            try:
                self.requests.append(await read_request(reader))
            except asyncio.IncompleteReadError:
                self.closed.set()
                return
            if self.chunked:
                half = len(PENDING) // 2
                body = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (
                    half,
                    PENDING[:half],
                    len(PENDING) - half,
                    PENDING[half:],
                )
                writer.write(OK + b"\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
            else:
                connection = b"\r\nConnection: close" if self.close else b""
                writer.write(OK + connection + b"\r\nContent-Length: %d\r\n\r\n" % len(PENDING) + PENDING)
            await writer.drain()


@asynccontextmanager
async def lean_client(handler: Handler, timeouts: Timeouts | None = None) -> AsyncIterator[RaiaClient]:
    async with raw_server(handler) as base, aiohttp.ClientSession() as session:
        client = RaiaClient(session, base_url=base, api_key="sk-key", timeouts=timeouts, keepalive=4.0)
        try:
            yield client
        finally:
            await client.aclose()


async def test_looks_go_on_one_kept_alive_connection() -> None:
    raia = Raia()
    async with lean_client(raia) as client:
        for _ in range(3):
            assert (await client.response_on("c1", "m1")).status is ResponseStatus.PENDING
        await client.aclose()
        await asyncio.wait_for(raia.closed.wait(), 5)  # closed by aclose
    assert raia.connections == 1
    head = raia.requests[0].decode()
    assert head.startswith("GET /external/conversations/c1/messages/m1/response-on HTTP/1.1\r\n")
    assert "Agent-Secret-Key: sk-key\r\n" in head
    assert "Accept: application/json\r\n" in head


@pytest.mark.parametrize("raia", [Raia(chunked=True), Raia(close=True)], ids=["chunked", "connection-close"])
async def test_answers_in_chunks_and_connections_raia_closes(raia: Raia) -> None:
    async with lean_client(raia) as client:
        for _ in range(2):
            assert (await client.response_on("c1", "m1")).status is ResponseStatus.PENDING
    assert raia.connections == (2 if raia.close else 1)


async def test_a_kept_connection_that_raia_drops_is_asked_again_on_a_new_one() -> None:
    """raia answers one request per connection and drops the next one unanswered (as a
    server does that closed an idle connection just as the request came): the look goes
    once more, on a new connection, and is answered."""
    connections = 0

    async def one_each(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        writer.write(OK + b"\r\nContent-Length: %d\r\n\r\n" % len(PENDING) + PENDING)
        await writer.drain()
        await read_request(reader)  # ... and hangs up without a word

    async with lean_client(one_each) as client:
        for _ in range(2):  # the first try only (no retries around it)
            assert (await client._request("GET", "/conversations/c1/messages/m1/response-on"))["status"] == "pending"
    assert connections == 2


async def test_silence_times_out_once_and_a_refusal_never_reached_raia() -> None:
    loop = asyncio.get_running_loop()
    async with lean_client(silent, Timeouts(read=0.3)) as client:
        began = loop.time()
        with pytest.raises(AgentTransportError) as caught:
            await client._request("GET", "/conversations/c1")  # the first try, without retries
        assert caught.value.ambiguous is True
        assert "TimeoutError" in str(caught.value)
        assert 0.3 <= loop.time() - began < 5.0
    async with aiohttp.ClientSession() as session:
        client = RaiaClient(session, base_url=refused_url(), api_key="k", keepalive=4.0)
        with pytest.raises(AgentTransportError) as refused:
            await client._request("GET", "/conversations/c1")
    assert refused.value.ambiguous is False
    assert "connection refused" in str(refused.value)


async def test_retry_after_is_read() -> None:
    busy = answering(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7", b'{"message": "slow down"}')
    async with lean_client(busy) as client:
        with pytest.raises(AgentRateLimited) as caught:
            await client._request("GET", "/conversations/c1")
    assert caught.value.retry_after == 7.0
    assert "slow down" in str(caught.value)


async def test_through_a_proxy_gets_go_through_aiohttp() -> None:
    seen: list[bytes] = []
    proxy = answering(OK, b'{"name": "Ada"}', seen)
    async with raw_server(proxy) as proxy_url, aiohttp.ClientSession() as session:
        client = RaiaClient(session, base_url="http://raia.invalid", api_key="k", proxy=proxy_url, keepalive=4.0)
        assert await client.agent_name() == "Ada"
    (request,) = seen
    assert request.startswith(b"GET http://raia.invalid/external/agents/by-api-key HTTP/1.1\r\n")
