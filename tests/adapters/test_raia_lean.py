"""raia's GETs on connections of our own (``adapters.raia.lean``), against raw sockets:
kept alive and reused, a connection raia closed while idle asked again on a new one,
timeouts and refusals as ``Wire`` reports them, an answer over raia's size limit a
protocol error, as many in flight as RAIA_MAX_IN_FLIGHT says, closed on ``aclose``; a
proxy still goes through aiohttp. How answers are read (lengths, chunks, closes, limits):
tests/adapters/test_kept_alive.py."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from adapters.base import read_json
from adapters.raia.client import MAX_BODY, RaiaClient
from adapters.raia.wire import Timeouts
from bridge.app.runtime import open_agent
from bridge.errors import AgentProtocolError, AgentRateLimited, AgentTransportError
from bridge.ports.agent import ResponseStatus
from tests.conftest import make_settings
from tests.fakes.raia_raw import lean_client
from tests.fakes.raw_http import answering, raw_server, read_request, refused_url, silent

PENDING = b'{"status": "pending", "message": null, "error": null}'
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json"


class Raia:
    """Answers every request on a connection with ``PENDING``; counts connections and
    requests."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests: list[bytes] = []
        self.closed = asyncio.Event()  # a connection was closed by the client

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        while True:
            try:
                self.requests.append(await read_request(reader))
            except asyncio.IncompleteReadError:
                self.closed.set()
                return
            writer.write(OK + b"\r\nContent-Length: %d\r\n\r\n" % len(PENDING) + PENDING)
            await writer.drain()


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


async def test_an_answer_longer_than_the_limit_is_a_protocol_error() -> None:
    """raia's limit (``MAX_BODY``) on its connections, and what an answer over it is
    (how every over-long answer is cut short: tests/adapters/test_kept_alive.py)."""

    async def huge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(OK + b"\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1))
        await writer.drain()
        await reader.read()

    async with lean_client(huge, Timeouts(read=600.0)) as client:
        with pytest.raises(AgentProtocolError) as caught:
            await asyncio.wait_for(client._request("GET", "/conversations/c1/messages"), 60)
    assert f"longer than {MAX_BODY} bytes" in str(caught.value)


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
