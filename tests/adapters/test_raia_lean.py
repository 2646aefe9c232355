"""raia's GETs on connections of our own (``adapters.raia.lean``), against raw sockets:
kept alive and reused, answers by length, in chunks or until raia closes, a connection
raia closed while idle asked again on a new one, timeouts and refusals as ``Wire``
reports them, answers over the size limit refused, as many in flight as
RAIA_MAX_IN_FLIGHT says, closed on ``aclose``; a proxy still goes through aiohttp."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from adapters.base import read_json
from adapters.raia.client import MAX_BODY, RaiaClient
from adapters.raia.wire import Timeouts
from bridge.app.runtime import open_agent
from bridge.errors import AgentProtocolError, AgentRateLimited, AgentTransportError
from bridge.ports.agent import ResponseStatus
from tests.conftest import make_settings
from tests.fakes.raw_http import Handler, answering, raw_server, read_request, refused_url, silent

PENDING = b'{"status": "pending", "message": null, "error": null}'
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json"


class Raia:
    """Answers every request on a connection with ``PENDING``; counts connections and
    requests, and hangs up after ``per_connection`` requests. ``extra``: sent right after
    each answer, in the same write."""

    def __init__(
        self, per_connection: int = 1000, chunked: bool = False, close: bool = False, extra: bytes = b""
    ) -> None:
        self.connections = 0
        self.requests: list[bytes] = []
        self.per_connection, self.chunked, self.close, self.extra = per_connection, chunked, close, extra
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
                writer.write(OK + b"\r\nTransfer-Encoding: chunked\r\n\r\n" + body + self.extra)
            else:
                connection = b"\r\nConnection: close" if self.close else b""
                answer = OK + connection + b"\r\nContent-Length: %d\r\n\r\n" % len(PENDING) + PENDING
                writer.write(answer + self.extra)
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


@pytest.mark.parametrize(
    "raia",
    [Raia(chunked=True), Raia(close=True), Raia(extra=b"HTTP/1.1 200 OK\r\nContent-Le")],
    ids=["chunked", "connection-close", "half-an-answer-more"],
)
async def test_answers_in_chunks_and_connections_raia_closes(raia: Raia) -> None:
    """A connection raia closes, or one with bytes after the answer (a half-read
    connection), is never asked again."""
    async with lean_client(raia) as client:
        for _ in range(2):
            assert (await client.response_on("c1", "m1")).status is ResponseStatus.PENDING
    assert raia.connections == (2 if raia.close or raia.extra else 1)


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


async def until_closed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, chunk: bytes) -> None:
    """Sends ``chunk`` after ``chunk`` of a body until the client hangs up."""
    with contextlib.suppress(ConnectionError):
        while not reader.at_eof():
            writer.write(chunk)
            await writer.drain()


class CloseDelimited:
    """Answers each connection's request with a body that has neither a length nor
    chunks (in two writes), ended by closing the connection; ``reset``: ended by a reset
    instead, which is no end."""

    def __init__(self, version: bytes = b"1.1", reset: bool = False) -> None:
        self.connections = 0
        self.version, self.reset = version, reset

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await read_request(reader)
        writer.write(b"HTTP/%s 200 OK\r\nContent-Type: application/json\r\n\r\n" % self.version + PENDING[:9])
        await writer.drain()
        writer.write(PENDING[9:])
        await writer.drain()
        if self.reset:  # SO_LINGER 0: the close sends RST
            writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()


@pytest.mark.parametrize("version", [b"1.1", b"1.0"])
async def test_a_body_without_length_or_chunks_ends_when_raia_closes(version: bytes) -> None:
    raia = CloseDelimited(version)
    async with lean_client(raia) as client:
        for _ in range(2):  # the first try (no retries), each on a new connection
            assert await client._request("GET", "/conversations/c1/messages/m1/response-on") == read_json(PENDING)
    assert raia.connections == 2


async def test_a_body_without_length_cut_off_by_a_reset_is_no_answer() -> None:
    async with lean_client(CloseDelimited(reset=True)) as client:
        with pytest.raises(AgentTransportError) as caught:
            await client._request("GET", "/conversations/c1/messages/m1/response-on")
    assert caught.value.ambiguous is True


@pytest.mark.parametrize("way", ["by-content-length", "as-it-comes", "headers-without-end"])
async def test_an_answer_longer_than_the_limit_is_an_error_and_its_connection_dropped(way: str) -> None:
    """A length over the limit fails at once; a body without one (here: chunks, never
    ending) as soon as it passes the limit, and so do headers that never end. Each time
    raia sees the connection closed long before the read timeout, and the next look goes
    on a new connection."""
    connections = 0
    closed = asyncio.Event()

    async def huge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        if connections > 1:
            writer.write(OK + b"\r\nContent-Length: %d\r\n\r\n" % len(PENDING) + PENDING)
            await writer.drain()
            await reader.read()
        elif way == "headers-without-end":
            writer.write(OK + b"\r\n")
            await until_closed(reader, writer, b"X-More: " + b"x" * 1000 + b"\r\n")
            closed.set()
        else:  # over the limit by its length, or chunks that never end
            announced = way == "by-content-length"
            head = b"Content-Length: %d" % (MAX_BODY + 1) if announced else b"Transfer-Encoding: chunked"
            writer.write(OK + b"\r\n" + head + b"\r\n\r\n")
            await until_closed(reader, writer, b"x" * 65536 if announced else b"10000\r\n" + b"x" * 65536 + b"\r\n")
            closed.set()

    async with lean_client(huge, Timeouts(read=600.0)) as client:
        with pytest.raises(AgentProtocolError) as caught:
            await asyncio.wait_for(client._request("GET", "/conversations/c1/messages"), 60)
        assert f"longer than {MAX_BODY} bytes" in str(caught.value)
        await asyncio.wait_for(closed.wait(), 60)
        assert (await client.response_on("c1", "m1")).status is ResponseStatus.PENDING
    assert connections == 2


async def test_as_many_looks_in_flight_as_raia_max_in_flight_says() -> None:
    """raia holds every look until 40 are in flight at once (more than the old 32): with
    RAIA_MAX_IN_FLIGHT=40 they all get there and are answered."""
    in_flight, enough = 0, asyncio.Event()

    async def together(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal in_flight
        while True:
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                return
            in_flight += 1
            if in_flight == 40:
                enough.set()
            await enough.wait()
            writer.write(OK + b"\r\nContent-Length: %d\r\n\r\n" % len(PENDING) + PENDING)
            await writer.drain()

    async with (
        raw_server(together) as base,
        open_agent(make_settings(raia_base_url=base, raia_max_in_flight=40)) as client,
    ):
        assert isinstance(client, RaiaClient)
        # The first tries (no retries): one that waited out its timeout fails the test.
        looks = [client._request("GET", f"/conversations/c{i}/messages/m1/response-on") for i in range(40)]
        answers = await asyncio.wait_for(asyncio.gather(*looks), 60)
    assert answers == [read_json(PENDING)] * 40
