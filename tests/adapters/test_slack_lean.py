"""Slack's calls of every turn on connections of the platform's own (``adapters.kept_alive``
through ``adapters.slack.web``), against raw sockets: one request per write on a kept-alive
connection, at most ``limit`` connections with the rest waiting their turn, a GET asked
once more on a new connection when a kept one was dropped unanswered (a POST never),
Slack's refusals as ``SlackApiError`` with their headers, a silent server timed out
within the call's own bound; through a proxy, slack_sdk's own path."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import web
from tests.fakes.raw_http import Handler, answering, raw_server, read_request, silent
from tests.waiting import until

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json"
ANSWER = b'{"ok": true, "ts": "1.2"}'


def answer(writer: asyncio.StreamWriter) -> None:
    writer.write(OK + b"\r\nContent-Length: %d\r\n\r\n" % len(ANSWER) + ANSWER)


@asynccontextmanager
async def connected(handler: Handler, limit: int = 64) -> AsyncIterator[AsyncWebClient]:
    async with raw_server(handler) as base:
        client = AsyncWebClient(token="xoxb-lean", base_url=f"{base}/api/")
        web.connect(client, limit=limit, keepalive=4.0)
        try:
            yield client
        finally:
            web.disconnect(client)


async def test_calls_go_on_one_kept_connection_as_json() -> None:
    connections, requests = 0, []

    async def keep(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while True:
            try:
                requests.append(await read_request(reader))
            except asyncio.IncompleteReadError:
                return
            answer(writer)

    async with connected(keep) as client:
        posted = await web.call(client, "chat.postMessage", channel="D1", text="hé", blocks=None)
        await web.read(client, "users.info", user="U1", include_locale="true")
    assert posted == {"ok": True, "ts": "1.2"}
    assert connections == 1
    head, _, body = requests[0].partition(b"\r\n\r\n")
    assert head.startswith(b"POST /api/chat.postMessage HTTP/1.1\r\n")
    assert b"\r\nAuthorization: Bearer xoxb-lean" in head
    assert b"\r\nContent-Type: application/json; charset=utf-8" in head
    assert json.loads(body) == {"channel": "D1", "text": "hé"}  # None left out
    assert requests[1].startswith(b"GET /api/users.info?user=U1&include_locale=true HTTP/1.1\r\n")


async def test_at_most_limit_connections_and_the_rest_wait_their_turn() -> None:
    open_now = peak = asked = 0
    go = asyncio.Event()

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal open_now, peak, asked
        open_now += 1
        peak = max(peak, open_now)
        try:
            while True:
                await read_request(reader)
                asked += 1
                await go.wait()
                answer(writer)
        except asyncio.IncompleteReadError:
            pass
        finally:
            open_now -= 1

    async with connected(slow, limit=2) as client:
        calls = [asyncio.ensure_future(web.call(client, "reactions.add", name="x")) for _ in range(6)]
        await until(lambda: asked == 2)  # two connections asked; the others wait for one
        go.set()
        results = await asyncio.gather(*calls)
    assert all(r["ok"] for r in results)
    assert peak == 2


async def test_a_dropped_kept_connection_repeats_a_get_but_never_a_post() -> None:
    """The server answers one request per connection and drops the next one unanswered (as
    a server does that closed an idle connection just as the request came)."""
    seen: list[bytes] = []

    async def one_each(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        answer(writer)
        await writer.drain()
        seen.append(await read_request(reader))  # ... and hangs up without a word

    async with connected(one_each) as client:
        await web.read(client, "users.info", user="U1")
        await web.read(client, "users.info", user="U2")  # dropped, then asked anew
        assert [r.split(b" ")[1] for r in seen] == [b"/api/users.info?user=U1"] + [b"/api/users.info?user=U2"] * 2
        with pytest.raises(ConnectionError):
            await web.call(client, "chat.postMessage", channel="D1", text="once")  # on the kept one: dropped
    assert sum(1 for r in seen if r.startswith(b"POST")) == 1  # never sent a second time


async def test_a_refusal_is_a_slack_error_with_its_headers() -> None:
    busy = answering(b"HTTP/1.1 429 Too Many Requests\r\nretry-after: 7", b'{"ok": false, "error": "ratelimited"}')
    async with connected(busy) as client:
        with pytest.raises(SlackApiError) as caught:
            await web.call(client, "chat.postMessage", channel="D1", text="x")
    assert caught.value.response["error"] == "ratelimited"
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers.get("Retry-After") == "7"


async def test_silence_times_out_within_the_calls_bound() -> None:
    loop = asyncio.get_running_loop()
    async with connected(silent) as client:
        began = loop.time()
        with pytest.raises(TimeoutError):
            await web.read(client, "users.info", within=0.3, user="U1")
        assert 0.3 <= loop.time() - began < 5.0  # its own bound, not the connections' 15 s


async def test_through_a_proxy_calls_go_through_slack_sdk() -> None:
    seen: list[bytes] = []
    proxy = answering(OK, ANSWER, seen)
    async with raw_server(proxy) as proxy_url:
        client = AsyncWebClient(token="xoxb-lean", base_url="http://slack.invalid/api/", proxy=proxy_url)
        web.connect(client, limit=64, keepalive=4.0)
        try:
            assert (await web.call(client, "chat.postMessage", channel="D1", text="x"))["ts"] == "1.2"
        finally:
            web.disconnect(client)
    (request,) = seen
    assert request.startswith(b"POST http://slack.invalid/api/chat.postMessage HTTP/1.1\r\n")
