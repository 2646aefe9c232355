"""raia over aiohttp against real sockets: what each failure means for a send (never
reached raia, or may have), timeouts, redirects not followed, Retry-After read, the proxy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from adapters.raia.client import RaiaClient
from adapters.raia.wire import Timeouts, Wire
from bridge.app.runtime import proxy_for
from bridge.errors import AgentProtocolError, AgentRateLimited, AgentTransportError
from tests.fakes.raw_http import answering, hang_up, raw_server, refused_url, silent


async def test_refused_connection_never_reached_raia() -> None:
    async with aiohttp.ClientSession() as session:
        client = RaiaClient(session, base_url=refused_url(), api_key="k")
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


async def test_a_raia_that_says_nothing_times_out_and_may_have_acted() -> None:
    """No answer within the read timeout: the call ends then (not at the default 30 s),
    and a send may have reached raia."""
    loop = asyncio.get_running_loop()
    async with raw_server(silent) as base, aiohttp.ClientSession() as session:
        client = RaiaClient(session, base_url=base, api_key="k", timeouts=Timeouts(read=0.3))
        began = loop.time()
        with pytest.raises(AgentTransportError) as caught:
            await client.send_message("c1", "hello")
        took = loop.time() - began
    assert caught.value.ambiguous is True
    assert "Timeout" in str(caught.value)
    assert 0.3 <= took < 15.0  # the bound is the behaviour: its own timeout, not the default 30 s


async def test_an_upload_storage_never_answers_times_out() -> None:
    """A signed upload URL that takes the bytes and never answers ends at the upload's read timeout."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b"x" * 1_000

    loop = asyncio.get_running_loop()
    async with raw_server(silent) as base, aiohttp.ClientSession() as session:
        wire = Wire(session, timeouts=Timeouts(upload_read=0.3))
        began = loop.time()
        with pytest.raises(AgentTransportError) as caught:
            await wire.put(f"{base}/_storage/upload/t?signature=s", chunks(), {"Content-Type": "image/png"})
        took = loop.time() - began
    assert caught.value.ambiguous is True
    assert str(caught.value).startswith("PUT signed upload URL: ")
    assert 0.3 <= took < 15.0  # the bound is the behaviour: its own timeout, not the default 30 s


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


async def test_requests_go_through_the_proxy_the_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTPS_PROXY / NO_PROXY are read once for RAIA_BASE_URL; a loopback raia is never proxied."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    assert proxy_for("https://api.raia2.com") == "http://proxy.example:3128"
    assert proxy_for("https://raia.internal.example") is None
    assert proxy_for("http://127.0.0.1:8099") is None
    assert proxy_for("http://localhost:8099") is None
    seen: list[bytes] = []
    proxy = answering(b"HTTP/1.1 200 OK\r\nContent-Type: application/json", b'{"name": "Ada"}', seen)
    async with raw_server(proxy) as proxy_url, aiohttp.ClientSession() as session:
        client = RaiaClient(session, base_url="http://raia.invalid", api_key="k", proxy=proxy_url)
        assert await client.agent_name() == "Ada"
    (request,) = seen
    assert request.startswith(b"GET http://raia.invalid/external/agents/by-api-key HTTP/1.1\r\n")
