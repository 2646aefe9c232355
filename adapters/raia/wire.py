"""raia's HTTP exchanges, on aiohttp.

aiohttp directly, not httpx: a poll is a few hundred bytes, and httpx's request and URL
models on top of aiohttp cost 19 % of the bridge's CPU per turn (py-spy,
bench/replicas.py). A failed exchange is one ``AgentTransportError``, which says whether
the request may have reached raia.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

from adapters.agent_http import never_connected
from bridge.errors import AgentTransportError, FileUnavailable

CHUNK = 64 * 1024  # a file is read from storage this much at a time


@dataclass(frozen=True)
class Timeouts:
    """Per request: a read may be slow when raia is busy, but never unbounded."""

    connect: float = 5.0
    read: float = 30.0
    write: float = 10.0
    upload_read: float = 60.0  # a file streams from the platform to raia's storage as fast as both allow
    upload_total: float = 600.0  # ... but a stalled upload ends (20 MB at 35 KB/s)


@dataclass(frozen=True)
class Answer:
    status_code: int
    headers: Mapping[str, str]
    reason_phrase: str
    content: bytes


class Wire:
    """One HTTP exchange with raia (or its storage)."""

    def __init__(
        self, session: aiohttp.ClientSession, proxy: str | None = None, timeouts: Timeouts | None = None
    ) -> None:
        self._session = session
        self._proxy = proxy  # the environment's proxy for raia, looked up once
        timeouts = timeouts or Timeouts()
        self._timeout = aiohttp.ClientTimeout(
            total=timeouts.connect + timeouts.write + timeouts.read,
            sock_connect=timeouts.connect,
            sock_read=timeouts.read,
        )
        self._upload_timeout = aiohttp.ClientTimeout(
            total=timeouts.upload_total, sock_connect=timeouts.connect, sock_read=timeouts.upload_read
        )

    async def request(
        self, method: str, url: str, *, body: Any, params: Mapping[str, str] | None, headers: Mapping[str, str]
    ) -> Answer:
        what = f"{method} {url.split('/external', 1)[-1].split('?', 1)[0]}"
        data = None
        send_headers = dict(headers)
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
            send_headers["Content-Type"] = "application/json"
        return await self._exchange(what, method, url, data, params, send_headers, self._timeout, self._proxy)

    async def put(self, url: str, chunks: AsyncIterator[bytes], headers: Mapping[str, str]) -> Answer:
        """Stream ``chunks`` to a signed storage URL (no API key: the URL is the authorisation)."""
        what = "PUT signed upload URL"
        return await self._exchange(what, "PUT", url, chunks, None, dict(headers), self._upload_timeout, None)

    @asynccontextmanager
    async def fetch(self, url: str) -> AsyncIterator[tuple[int, int | None, AsyncIterator[bytes]]]:
        """GET a signed storage URL (no API key: the URL is the authorisation): its status,
        its length when the storage says, and its body a chunk at a time. The URL is the
        key to the file: it never appears in an error or a log line."""
        what = "GET signed file URL"
        try:
            async with self._session.get(
                url, timeout=self._upload_timeout, allow_redirects=True, proxy=self._proxy
            ) as response:
                yield response.status, response.content_length, _chunks(response)
        except FileUnavailable:
            raise
        except aiohttp.ClientConnectorError:
            raise AgentTransportError(f"{what}: cannot connect", ambiguous=False) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise AgentTransportError(f"{what}: {type(exc).__name__}", ambiguous=False) from None

    async def _exchange(
        self,
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
            async with self._session.request(
                method,
                url,
                data=data,
                params=params,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
                proxy=proxy,
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


async def _chunks(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.content.iter_chunked(CHUNK):
            yield chunk
    except (aiohttp.ClientError, TimeoutError) as exc:  # cut off mid-file
        raise FileUnavailable(f"the agent's file storage broke off ({type(exc).__name__})") from None
