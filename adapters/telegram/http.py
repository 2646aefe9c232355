"""python-telegram-bot's HTTP on aiohttp (PTB's ``BaseRequest``), instead of its default
httpx stack: under a burst, with a thousand chats waiting, Bot API calls are most of the
Telegram side's CPU, and httpx's request models on top of the socket cost about as
much as the exchange itself (see bench/replicas.py).

Errors become PTB's own (``TimedOut``, ``NetworkError``), so everything above works as
with the default. Their messages name the failure, never the URL: it holds the token.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import JSONDict
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData

from adapters.base import read_json

# An idle connection is dropped before a server with a 5 s idle timeout (a common default)
# may close it: a request on a connection the server just closed fails.
KEEPALIVE = 4.0


class AiohttpRequest(BaseRequest):
    def __init__(
        self,
        *,
        connections: int = 64,
        connect_timeout: float = 10.0,
        read_timeout: float = 20.0,
        write_timeout: float = 20.0,
        pool_timeout: float = 10.0,
        proxy: str | None = None,
    ) -> None:
        self._connections = connections
        self._proxy = proxy  # HTTPS_PROXY for the Bot API, looked up once (``proxy_for``)
        self._timeouts = {
            "connect": connect_timeout,
            "read": read_timeout,
            "write": write_timeout,
            "pool": pool_timeout,
        }
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._connections, keepalive_timeout=KEEPALIVE)
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _timeout(self, name: str, given: Any) -> float:
        if isinstance(given, DefaultValue) or given is None:
            return self._timeouts[name]
        return float(given)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        read = self._timeout("read", read_timeout)
        connect = self._timeout("connect", connect_timeout)
        bound = read + connect + self._timeout("write", write_timeout) + self._timeout("pool", pool_timeout)
        timeout = aiohttp.ClientTimeout(total=bound, sock_connect=connect, sock_read=read)
        data: Any = None
        if request_data is not None:
            if request_data.contains_files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (filename, content, mime) in (request_data.multipart_data or {}).items():
                    form.add_field(name, content, filename=filename, content_type=mime)
                data = form
            else:
                data = request_data.json_parameters  # form-encoded, as PTB's default sends it
        return await self._exchange(method, url, data, {"User-Agent": self.USER_AGENT}, timeout)

    async def exchange_json(self, url: str, body: bytes, timeout: aiohttp.ClientTimeout) -> tuple[int, bytes]:
        """POST ``body`` (JSON) to ``url``: ``BotApi``'s calls when a proxy stands between."""
        await self.initialize()
        headers = {"User-Agent": self.USER_AGENT, "Content-Type": "application/json"}
        return await self._exchange("POST", url, body, headers, timeout)

    async def _exchange(
        self, method: str, url: str, data: Any, headers: dict[str, str], timeout: aiohttp.ClientTimeout
    ) -> tuple[int, bytes]:
        if self._session is None:
            raise RuntimeError("AiohttpRequest is not initialized")
        try:
            async with self._session.request(
                method, url, data=data, headers=headers, timeout=timeout, proxy=self._proxy
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}") from exc

    @staticmethod
    def parse_json_payload(payload: bytes) -> JSONDict:
        """PTB's, except that JSON nested beyond reason is refused like any malformed answer
        (PTB's own lets a ``RecursionError`` through, which would end long polling), and
        the answer is not logged whole with a traceback."""
        try:
            data = read_json(payload.decode("utf-8", "replace"))
        except ValueError:
            raise TelegramError("Invalid server response") from None
        if not isinstance(data, dict):
            raise TelegramError("Invalid server response")
        return data
