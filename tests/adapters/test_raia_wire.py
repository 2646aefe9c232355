"""raia over aiohttp (production's stack) against real sockets: what each failure means
for a send (never reached raia, or may have), redirects not followed, Retry-After read."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import aiohttp
import pytest

from adapters.raia.client import RaiaClient
from bridge.errors import AgentProtocolError, AgentRateLimited, AgentTransportError

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


def answering(head: bytes, body: bytes = b"") -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(head + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        writer.close()

    return handle


async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Reads the whole request, then closes without a word: raia may have stored it."""
    await reader.readuntil(b"\r\n\r\n")
    await asyncio.sleep(0.05)
    writer.close()


async def test_refused_connection_never_reached_raia() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with aiohttp.ClientSession() as session:
        client = RaiaClient(session, base_url=f"http://127.0.0.1:{port}", api_key="k")
        with pytest.raises(AgentTransportError) as caught:
            await client.send_message("c1", "hello")
    assert caught.value.ambiguous is False
    assert "connection refused" in str(caught.value)


async def test_a_hang_up_after_the_request_may_have_reached_raia() -> None:
    async with raw_server(hang_up) as base, aiohttp.ClientSession() as session:
        client = RaiaClient(session, base_url=base, api_key="k")
        with pytest.raises(AgentTransportError) as caught:
            await client.send_message("c1", "hello")
    assert caught.value.ambiguous is True


async def test_redirects_are_not_followed_and_retry_after_is_read() -> None:
    moved = answering(b"HTTP/1.1 302 Found\r\nLocation: http://elsewhere.invalid/")
    async with raw_server(moved) as base, aiohttp.ClientSession() as session:
        with pytest.raises(AgentProtocolError, match="redirect"):
            await RaiaClient(session, base_url=base, api_key="k").send_message("c1", "hello")
    busy = answering(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Type: application/json",
                     b'{"message": "slow down"}')  # fmt: skip
    async with raw_server(busy) as base, aiohttp.ClientSession() as session:
        with pytest.raises(AgentRateLimited) as caught:
            await RaiaClient(session, base_url=base, api_key="k").send_message("c1", "hello")
    assert caught.value.retry_after == 7.0
    assert "slow down" in str(caught.value)
