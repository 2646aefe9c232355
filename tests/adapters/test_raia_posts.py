"""raia's JSON calls on connections of our own (``adapters.raia.posts``), against raw
sockets: a new person's user, conversation and question on one kept-alive connection
without aiohttp's client; a send on a kept connection raia dropped is never sent again
(ambiguous: looked up before it is repeated), a refusal never reached raia, a silence
times out, Retry-After is read."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from adapters.raia.client import RaiaClient
from adapters.raia.wire import Timeouts
from bridge.errors import AgentRateLimited, AgentTransportError
from bridge.ports.agent import NewUser
from tests.fakes.raia_raw import lean_client
from tests.fakes.raw_http import answering, read_request, refused_url, silent

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json"


def body_of(request: bytes) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(request.partition(b"\r\n\r\n")[2])
    return loaded


class Raia:
    """Answers each request on a connection with the id of what it made; records them."""

    def __init__(self, per_connection: int = 1000) -> None:
        self.connections = 0
        self.requests: list[bytes] = []
        self.per_connection = per_connection

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        for _ in range(self.per_connection):
            try:
                self.requests.append(await read_request(reader))
            except asyncio.IncompleteReadError:
                return
            body = b'{"id": "made-%d"}' % len(self.requests)
            writer.write(OK + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            await writer.drain()
        await read_request(reader)  # ... the next one is dropped without a word


async def test_a_new_persons_calls_go_on_one_kept_alive_connection_of_our_own() -> None:
    raia = Raia()
    async with lean_client(raia) as client:
        user = await client.find_or_create_user(NewUser("slack:T1:U1", "Ada", "Lovelace", {"team": "T1"}))
        conversation = await client.create_conversation(user, "Slack chat with Ada", {"platform": "slack"})
        message = await client.send_message(conversation, "Hello?", [])
    assert (user, conversation, message) == ("made-1", "made-2", "made-3")
    assert raia.connections == 1
    head, _, _ = raia.requests[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /external/users HTTP/1.1"
    assert {"Agent-Secret-Key: sk-key", "Accept: application/json", "Content-Type: application/json"} <= set(lines)
    assert f"Content-Length: {len(raia.requests[0]) - len(head) - 4}" in lines
    assert body_of(raia.requests[0]) == {
        "fkId": "slack:T1:U1",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "customData": {"team": "T1"},
    }
    assert raia.requests[2].startswith(b"POST /external/conversations/made-2/messages/async HTTP/1.1\r\n")
    assert body_of(raia.requests[2])["message"] == "Hello?"


async def test_a_send_raia_drops_on_a_kept_connection_is_never_sent_again() -> None:
    """raia answers one request per connection and drops the next unanswered (it may have
    stored it): the send fails as ambiguous, and nothing is sent on a new connection."""
    raia = Raia(per_connection=1)
    async with lean_client(raia) as client:
        await client.create_conversation("u1", "Slack chat with Ada", {})
        with pytest.raises(AgentTransportError) as caught:
            await client.send_message("c1", "Hello?", [])
    assert caught.value.ambiguous is True
    assert raia.connections == 1


async def test_silence_times_out_as_ambiguous_and_a_refusal_never_reached_raia() -> None:
    loop = asyncio.get_running_loop()
    async with lean_client(silent, Timeouts(connect=0.1, write=0.1, read=0.1)) as client:
        began = loop.time()
        with pytest.raises(AgentTransportError) as caught:
            await client.send_message("c1", "Hello?", [])
        assert caught.value.ambiguous is True
        assert "TimeoutError" in str(caught.value)
        assert 0.3 <= loop.time() - began < 5.0
    async with aiohttp.ClientSession() as session:
        client = RaiaClient(session, base_url=refused_url(), api_key="k", keepalive=4.0)
        with pytest.raises(AgentTransportError) as refused:
            await client.send_message("c1", "Hello?", [])
        await client.aclose()
    assert refused.value.ambiguous is False
    assert "connection refused" in str(refused.value)


async def test_retry_after_is_read() -> None:
    busy = answering(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7", b'{"message": "slow down"}')
    async with lean_client(busy) as client:
        with pytest.raises(AgentRateLimited) as caught:
            await client._request("POST", "/conversations", json={"conversationUserId": "u1"})
    assert caught.value.retry_after == 7.0
    assert "slow down" in str(caught.value)
