"""raia's HTTP exchanges on one of two stacks, chosen by what the client is built with.

Production talks to raia with aiohttp directly: a poll is a few hundred bytes, and
httpx's request and URL models on top of aiohttp cost 19 % of the bridge's CPU per turn
(py-spy, bench/replicas.py). Tests and the demo hand the client an ``httpx.AsyncClient``
whose transport reaches the simulator in-process; both stacks give the client the same
``Answer`` and the same ``AgentTransportError`` for a failed exchange.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx

from adapters.agent_http import never_connected, transport_error
from bridge.errors import AgentTransportError

# Per request: a read may be slow when raia is busy, but never unbounded.
CONNECT, READ, WRITE = 5.0, 30.0, 10.0
UPLOAD_READ = 60.0  # a file streams from the platform to raia's storage as fast as both allow
UPLOAD_TOTAL = 600.0  # ... but a stalled upload ends (20 MB at 35 KB/s)


@dataclass(frozen=True)
class Answer:
    status_code: int
    headers: Mapping[str, str]
    reason_phrase: str
    content: bytes


class Wire:
    """One HTTP exchange with raia (or its storage), on httpx or aiohttp."""

    def __init__(self, http: httpx.AsyncClient | aiohttp.ClientSession, proxy: str | None = None) -> None:
        self._http = http
        self._proxy = proxy  # aiohttp: the environment's proxy for raia, looked up once

    async def request(
        self, method: str, url: str, *, body: Any, params: Mapping[str, str] | None, headers: Mapping[str, str]
    ) -> Answer:
        what = f"{method} {url.split('/external', 1)[-1].split('?', 1)[0]}"
        if isinstance(self._http, httpx.AsyncClient):
            timeout = httpx.Timeout(connect=CONNECT, read=READ, write=WRITE, pool=60.0)
            try:
                response = await self._http.request(
                    method, url, json=body, params=params, headers=headers, timeout=timeout
                )
            except httpx.TransportError as exc:
                raise transport_error(what, exc) from exc
            return Answer(response.status_code, response.headers, response.reason_phrase, response.content)
        data = None
        send_headers = dict(headers)
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
            send_headers["Content-Type"] = "application/json"
        limits = aiohttp.ClientTimeout(total=CONNECT + WRITE + READ, sock_connect=CONNECT, sock_read=READ)
        return await _aiohttp(self._http, what, method, url, data, params, send_headers, limits, self._proxy)

    async def put(self, url: str, chunks: AsyncIterator[bytes], headers: Mapping[str, str]) -> Answer:
        """Stream ``chunks`` to a signed storage URL (no API key: the URL is the authorisation)."""
        what = "PUT signed upload URL"
        if isinstance(self._http, httpx.AsyncClient):
            timeout = httpx.Timeout(connect=CONNECT, read=UPLOAD_READ, write=UPLOAD_READ, pool=60.0)
            try:
                response = await self._http.put(url, content=chunks, headers=headers, timeout=timeout)
            except httpx.TransportError as exc:
                raise transport_error(what, exc) from exc
            return Answer(response.status_code, response.headers, response.reason_phrase, response.content)
        limits = aiohttp.ClientTimeout(total=UPLOAD_TOTAL, sock_connect=CONNECT, sock_read=UPLOAD_READ)
        return await _aiohttp(self._http, what, "PUT", url, chunks, None, dict(headers), limits, None)


async def _aiohttp(
    session: aiohttp.ClientSession,
    what: str,
    method: str,
    url: str,
    data: Any,
    params: Mapping[str, str] | None,
    headers: dict[str, str],
    timeout: aiohttp.ClientTimeout,
    proxy: str | None,
) -> Answer:
    try:
        async with session.request(
            method, url, data=data, params=params, headers=headers, timeout=timeout, allow_redirects=False, proxy=proxy
        ) as response:
            content = await response.read()
            return Answer(response.status, response.headers, response.reason or "", content)
    except aiohttp.ClientConnectorError as exc:  # DNS, refused: the request never left
        cause = never_connected(exc.os_error) or never_connected(exc) or f"cannot connect ({type(exc).__name__})"
        raise AgentTransportError(f"{what}: {cause}", ambiguous=False) from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        never_sent = never_connected(exc)
        if never_sent is not None:
            raise AgentTransportError(f"{what}: {never_sent}", ambiguous=False) from exc
        # Anything else may have reached raia: a send is looked up before it is repeated.
        raise AgentTransportError(f"{what}: {type(exc).__name__}", ambiguous=True) from exc
