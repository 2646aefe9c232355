"""The Bot API caller of every turn (adapters.telegram.api) against the fake Bot API over
loopback: JSON in, the answer's ``result`` out, and every refusal as python-telegram-bot's
own error, read as PTB reads it; no error names the token. Against raw sockets: calls on
one kept-alive connection, and only a call whose repetition changes nothing is sent again
when a kept connection was dropped unanswered."""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from adapters.telegram.api import BotApi
from adapters.telegram.http import AiohttpRequest
from tests.fakes import telegram as tg
from tests.fakes.raw_http import raw_server, read_request
from tests.fakes.server import bound, serving


@asynccontextmanager
async def calling(api_url: str, *, timeout: float = 20.0) -> AsyncIterator[BotApi]:
    api = BotApi(f"{api_url}/bot{tg.TOKEN}", timeout=timeout)
    try:
        yield api
    finally:
        api.close()


async def test_a_call_posts_its_parameters_as_json_and_returns_the_result() -> None:
    fake = tg.FakeTelegram()
    async with serving(fake.app()) as api_url, calling(api_url) as api:
        entities = [{"type": "bold", "offset": 0, "length": 5}]
        markup = {"inline_keyboard": [[{"text": "👍", "callback_data": "v:1:up"}]]}
        sent = await api.call(
            "sendMessage",
            {
                "chat_id": 42,
                "text": "Hello там",
                "entities": entities,
                "reply_markup": markup,
                "message_thread_id": None,
            },
        )
    assert sent["message_id"] == fake.message_id(fake.sent[0])
    (message,) = fake.sent
    assert (message.chat_id, message.text, message.entities) == (42, "Hello там", entities)
    assert message.params["reply_markup"] == markup
    assert "message_thread_id" not in message.params  # None is left out, as PTB leaves it out


@pytest.mark.parametrize(
    ("code", "description", "parameters", "error"),
    [
        (429, "Too Many Requests: retry after 3", {"retry_after": 3}, RetryAfter),
        (400, "Bad Request: group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": -1009}, ChatMigrated),
        (403, "Forbidden: bot was blocked by the user", None, Forbidden),
        (400, "Bad Request: can't parse entities: unsupported entity", None, BadRequest),
        (404, "Not Found", None, InvalidToken),
        (401, "Unauthorized", None, InvalidToken),
        (409, "Conflict: terminated by other getUpdates request", None, Conflict),
        (500, "Internal Server Error", None, NetworkError),
    ],
)
async def test_a_refusal_is_ptbs_error(
    code: int, description: str, parameters: dict[str, int] | None, error: type[TelegramError]
) -> None:
    fake = tg.FakeTelegram()
    fake.fail("sendMessage", code, description, parameters)
    async with serving(fake.app()) as api_url, calling(api_url) as api:
        with pytest.raises(error) as raised:
            await api.call("sendMessage", {"chat_id": 42, "text": "hi"})
    assert type(raised.value) is error
    if isinstance(raised.value, RetryAfter):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PTB deprecates int retry_after
            assert raised.value.retry_after == 3
    elif isinstance(raised.value, ChatMigrated):
        assert raised.value.new_chat_id == -1009
    else:  # PTB's reading of the description ("Bad Request: can't…" -> "Can't…")
        assert raised.value.message.lower().endswith(description.split(": ", 1)[-1].lower())


async def _proxy_page(request: Request) -> PlainTextResponse:
    # A proxy's error page that quotes the request line, token and all.
    return PlainTextResponse(f"<html>502 Bad Gateway for {request.url.path}</html>", status_code=502)


async def test_an_unreadable_answer_is_a_network_error_that_does_not_quote_it() -> None:
    proxy = Starlette(routes=[Route("/{path:path}", _proxy_page, methods=["POST"])])
    async with serving(proxy) as api_url, calling(api_url) as api:
        with pytest.raises(NetworkError) as raised:
            await api.call("sendMessage", {"chat_id": 42, "text": "hi"})
    assert "Bad Gateway (502)" in raised.value.message
    assert tg.TOKEN not in str(raised.value)


async def test_a_success_without_a_result_is_refused() -> None:
    fake = tg.FakeTelegram()
    fake.raw["sendMessage"] = [b'{"ok": true}', b"not json"]
    async with serving(fake.app()) as api_url, calling(api_url) as api:
        for _ in range(2):
            with pytest.raises(TelegramError, match="Invalid server response"):
                await api.call("sendMessage", {"chat_id": 42, "text": "hi"})


async def test_a_silent_server_times_out() -> None:
    fake = tg.FakeTelegram()
    fake.held["sendMessage"] = asyncio.Event()  # never answered
    async with serving(fake.app()) as api_url, calling(api_url, timeout=0.2) as api:
        with pytest.raises(TimedOut):
            await api.call("sendMessage", {"chat_id": 42, "text": "hi"})


async def test_an_unreachable_server_is_a_network_error_without_the_token() -> None:
    sock = bound()
    port = sock.getsockname()[1]
    sock.close()  # bound, never listened on: nothing answers there
    async with calling(f"http://127.0.0.1:{port}") as api:
        with pytest.raises(NetworkError) as raised:
            await api.call("sendMessage", {"chat_id": 42, "text": "hi"})
    assert tg.TOKEN not in str(raised.value)


SENT = b'{"ok":true,"result":{"message_id":7}}'
TELEGRAM_OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(SENT), SENT)


async def test_calls_go_on_one_kept_connection_one_write_each() -> None:
    connections, requests = 0, []

    async def keep(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while True:
            try:
                requests.append(await read_request(reader))
            except asyncio.IncompleteReadError:
                return
            writer.write(TELEGRAM_OK)

    async with raw_server(keep) as base, calling(base) as api:
        assert await api.call("sendChatAction", {"chat_id": 42, "action": "typing"}) == {"message_id": 7}
        assert await api.call("sendMessage", {"chat_id": 42, "text": "hé"}) == {"message_id": 7}
    assert connections == 1
    head, _, body = requests[1].partition(b"\r\n\r\n")
    assert head.startswith(f"POST /bot{tg.TOKEN}/sendMessage HTTP/1.1\r\n".encode())
    assert b"\r\nContent-Type: application/json\r\n" in head
    assert json.loads(body) == {"chat_id": 42, "text": "hé"}


async def test_a_dropped_kept_connection_repeats_typing_but_never_a_message() -> None:
    """The server answers one request per connection and drops the next one unanswered (as
    a server does that closed an idle connection just as the request came): "typing…" goes
    once more on a new connection, a message never (it may have been posted)."""
    seen: list[bytes] = []

    async def one_each(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        writer.write(TELEGRAM_OK)
        await writer.drain()
        seen.append(await read_request(reader))  # ... and hangs up without a word

    def methods() -> list[bytes]:
        return [r.split(b" ")[1].rpartition(b"/")[2] for r in seen]

    async with raw_server(one_each) as base, calling(base) as api:
        await api.call("sendChatAction", {"chat_id": 42, "action": "typing"})
        await api.call("sendChatAction", {"chat_id": 42, "action": "typing"})  # dropped, then sent anew
        assert methods() == [b"sendChatAction"] * 3
        with pytest.raises(NetworkError) as raised:
            await api.call("sendMessage", {"chat_id": 42, "text": "once"})  # on the kept one: dropped
    assert methods().count(b"sendMessage") == 1  # never sent a second time
    assert tg.TOKEN not in str(raised.value)


async def test_through_a_proxy_the_calls_go_to_it() -> None:
    """With HTTPS_PROXY set (``via``: PTB's aiohttp request with the proxy) the JSON goes to
    the proxy, asking it for the Bot API's URL, not straight to the Bot API on connections
    of its own; the answer is read as ever."""
    seen: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        body = json.dumps({"ok": True, "result": {"message_id": 7}}).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
        writer.write(body)
        await writer.drain()

    async with raw_server(proxy) as proxy_url:
        via = AiohttpRequest(proxy=proxy_url)
        api = BotApi(f"http://api.telegram.invalid/bot{tg.TOKEN}", via=via)
        try:
            assert await api.call("sendMessage", {"chat_id": 42, "text": "hé"}) == {"message_id": 7}
        finally:
            api.close()
            await via.shutdown()
    head, _, body = seen[0].partition(b"\r\n\r\n")
    assert head.startswith(f"POST http://api.telegram.invalid/bot{tg.TOKEN}/sendMessage HTTP/1.1\r\n".encode())
    assert b"\r\nContent-Type: application/json\r\n" in head
    assert json.loads(body) == {"chat_id": 42, "text": "hé"}
