"""The Slack Web API calls on every turn (posting an answer, the thinking status or the
hourglass reaction, the person's name) as plain JSON POSTs (or, for a read method, a GET)
on kept-alive connections of the platform's own (``adapters.kept_alive``). slack_sdk's
generic call path (argument handling, logging, response wrapping) cost as much CPU again
as the exchange itself, and aiohttp's request machinery about as much again (py-spy);
errors still surface as slack_sdk's ``SlackApiError``, so their handling is unchanged."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlencode
from weakref import WeakKeyDictionary

from multidict import CIMultiDict
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.kept_alive import Connections

TIMEOUT = 15.0  # seconds a call may take, the wait for a connection included
# Each platform's connections, by its client: made when it starts, closed when it stops.
_CONNECTIONS: WeakKeyDictionary[AsyncWebClient, Connections] = WeakKeyDictionary()


def connect(client: AsyncWebClient, *, limit: int, keepalive: float) -> None:
    """The client's calls go on connections of its own from now on; through a proxy
    (slack_sdk reads ``HTTPS_PROXY``) they stay on slack_sdk's path, which goes through it."""
    if client.proxy:
        return
    _CONNECTIONS[client] = Connections(client.base_url, limit=limit, keepalive=keepalive, timeout=TIMEOUT)


def disconnect(client: AsyncWebClient) -> None:
    connections = _CONNECTIONS.pop(client, None)
    if connections is not None:
        connections.close()


async def call(client: AsyncWebClient, method: str, *, within: float | None = None, **arguments: Any) -> dict[str, Any]:
    """POST ``method`` with a JSON body (arguments that are None are left out, as
    slack_sdk does), answered ``within`` seconds (default: the connections' timeout) or
    ``TimeoutError`` (a bound of the exchange's own, cheaper than an ``asyncio.timeout``). Through slack_sdk when
    the client has no connections (not started)."""
    payload = {k: v for k, v in arguments.items() if v is not None}
    connections = _CONNECTIONS.get(client)
    if connections is None:
        async with asyncio.timeout(within or TIMEOUT):
            fallback = await client.api_call(method, json=payload)
        return dict(fallback.data) if isinstance(fallback.data, dict) else {}
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    head = connections.head(
        f"POST {connections.prefix}{method}",
        f"Authorization: Bearer {client.token}\r\nContent-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n",
    )
    answer = await connections.exchange(head + body, repeatable=False, within=within)
    return _read(client, "POST", method, answer.status, answer.headers, answer.body)


async def read(client: AsyncWebClient, method: str, *, within: float | None = None, **arguments: str) -> dict[str, Any]:
    """GET ``method`` with its arguments as the query: Slack's read methods (users.info)
    take no JSON body. Otherwise as ``call``."""
    connections = _CONNECTIONS.get(client)
    if connections is None:
        async with asyncio.timeout(within or TIMEOUT):
            fallback = await client.api_call(method, http_verb="GET", params=arguments)
        return dict(fallback.data) if isinstance(fallback.data, dict) else {}
    head = connections.head(
        f"GET {connections.prefix}{method}?{urlencode(arguments)}", f"Authorization: Bearer {client.token}\r\n"
    )
    answer = await connections.exchange(head, repeatable=True, within=within)
    return _read(client, "GET", method, answer.status, answer.headers, answer.body)


def _read(
    client: AsyncWebClient, verb: str, method: str, status: int, headers: dict[str, str], raw: bytes
) -> dict[str, Any]:
    """Slack's answer; a ``SlackApiError`` unless it is ``ok``."""
    try:
        answer = json.loads(raw) if raw else {}
    except ValueError:
        answer = {}
    if not isinstance(answer, dict):
        answer = {}
    if status < 300 and answer.get("ok"):
        return answer
    answer.setdefault("ok", False)
    answer.setdefault("error", f"http_{status}")
    wrapped = AsyncSlackResponse(
        client=client,
        http_verb=verb,
        api_url=client.base_url + method,
        req_args={},
        data=answer,
        headers=CIMultiDict(headers),  # type: ignore[arg-type]  # read case-insensitively (Retry-After)
        status_code=status,
    )
    raise SlackApiError(f"The request to the Slack API failed: {answer['error']}", wrapped)  # type: ignore[no-untyped-call]
