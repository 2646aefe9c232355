"""raia's GETs on kept-alive HTTP/1.1 connections of our own: a waiting question's look
(``response-on``) is the bridge's most frequent call, and most of its CPU was aiohttp's
request machinery around a few hundred bytes each way.

One look among a thousand questions waiting (on whole seconds) cost 0.20 ms of CPU
through aiohttp's ``ClientSession``, 0.085 ms here (``bench/looks.py``): one prepared
request head written at once, the answer read by httptools (uvicorn's parser, C), one
timer per request.

What it does not do, aiohttp still does (``Wire``): sends, query strings, proxies,
redirects (never followed anyway), files. Its outcomes are ``Wire``'s: an ``Answer``, or
an ``AgentTransportError`` that says whether the request may have reached raia (a GET is
safe to repeat either way). A request on a kept-alive connection that raia closed
meanwhile, answered by nothing at all, is sent once more on a new connection. An answer
longer than ``max_body`` is an ``AgentProtocolError`` and its connection is dropped unread.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections.abc import Mapping
from typing import cast
from urllib.parse import urlsplit

import httptools
from aiohttp.http import SERVER_SOFTWARE

from adapters.agent_http import never_connected
from adapters.raia.wire import Answer, Timeouts
from bridge.errors import AgentProtocolError, AgentTransportError

SAFE_PATH = re.compile(r"[A-Za-z0-9/_.~-]+")  # raia's ids in paths: nothing to percent-encode
HEAD_ROOM = 64 * 1024  # bytes of an answer's status line and headers (raia's: a few hundred)


class _TooLarge(Exception):
    """An answer longer than the limit: its connection is dropped, nothing more read."""


class _Connection(asyncio.Protocol):
    """One kept-alive connection: one request at a time."""

    def __init__(self, max_body: int) -> None:
        self.max_body = max_body
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[Answer] | None = None
        self.idle_since = 0.0
        self.closed = False
        self.answered = False  # a byte of the current answer arrived
        self.timed_out = False
        self._start()

    def _start(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._headers: dict[str, str] = {}
        self._reason = ""
        self._body: list[bytes] = []
        self._size = 0  # of the body
        self._received = 0  # of the whole answer, as it came
        self._until_close = False  # the body ends when raia closes the connection

    # -- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not asyncio.Transport subclasses

    def data_received(self, data: bytes) -> None:
        if self.waiter is None:  # nothing was asked: a confused peer
            self.close()
            return
        self.answered = True
        self._received += len(data)
        if self._received > self.max_body + HEAD_ROOM:  # headers that never end (the body is counted too)
            self._fail(f"answer longer than {self.max_body} bytes", _TooLarge)
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if isinstance(exc.__context__, _TooLarge):  # raised by on_headers_complete or on_body
                self._fail(f"answer longer than {self.max_body} bytes", _TooLarge)
            else:
                self._fail(f"unreadable answer ({type(exc).__name__})")

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._until_close and exc is None and self.waiter is not None:
            # The end of a body without a length: httptools cannot be told of it (it has
            # no llhttp_finish), so the answer is complete here. A reset is no end.
            self.on_message_complete()
        else:
            self._fail("ServerDisconnectedError")

    # -- httptools callbacks ------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.waiter is None:  # a second answer in the same bytes, to nothing asked
            self.close()

    def on_status(self, reason: bytes) -> None:
        self._reason = reason.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        headers, status = self._headers, self._parser.get_status_code()
        if int(headers.get("content-length", 0)) > self.max_body:  # httptools checked it is a number
            raise _TooLarge
        # Neither a length nor chunks (HTTP/1.0, or a server that streams): the body is
        # all raia sends until it closes the connection (RFC 9112, 6.3).
        chunked = headers.get("transfer-encoding", "").lower().endswith("chunked")
        self._until_close = (
            "content-length" not in headers and not chunked and not (status < 200 or status in (204, 304))
        )

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > self.max_body:
            raise _TooLarge
        self._body.append(body)

    def on_message_complete(self) -> None:
        status, keep = self._parser.get_status_code(), self._parser.should_keep_alive()
        answer = Answer(status, self._headers, self._reason, b"".join(self._body))
        self._start()
        if not keep:
            self.close()
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(answer)

    # -- ours ---------------------------------------------------------------------------

    def timeout(self) -> None:
        self.timed_out = True
        self._fail("TimeoutError")

    def _fail(self, why: str, kind: type[Exception] = ConnectionError) -> None:
        waiter, self.waiter = self.waiter, None
        self.close()
        if waiter is not None and not waiter.done():
            waiter.set_exception(kind(why))

    def close(self) -> None:
        self.closed = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


class LeanGet:
    """GETs to one origin (``base``: scheme, host, port and a path prefix, http or https)
    on at most as many kept-alive connections as requests in flight; idle ones are
    closed after ``keepalive`` seconds, all by ``aclose``. An answer's body is at most
    ``max_body`` bytes."""

    def __init__(
        self, base: str, headers: Mapping[str, str], timeouts: Timeouts, keepalive: float, *, max_body: int
    ) -> None:
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            raise ValueError("an http(s) origin and path")
        self._host, self._tls = parts.hostname, parts.scheme == "https"
        self._port = parts.port or (443 if self._tls else 80)
        self._prefix = parts.path.rstrip("/")
        self._ssl = ssl.create_default_context() if self._tls else None
        host = parts.netloc.rpartition("@")[2]  # never credentials in a Host header
        # The User-Agent aiohttp sends: raia sees the same client on both paths.
        lines = [f"Host: {host}", f"User-Agent: {SERVER_SOFTWARE}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
        self._head = "\r\n".join(lines).encode("latin-1")
        self._timeouts, self._keepalive, self._max_body = timeouts, keepalive, max_body
        self._idle: list[_Connection] = []  # oldest first

    def takes(self, path: str) -> bool:
        return SAFE_PATH.fullmatch(path) is not None

    async def get(self, what: str, path: str) -> Answer:
        """GET ``path`` (under the base): its answer, whatever its status."""
        request = b"GET " + (self._prefix + path).encode() + b" HTTP/1.1\r\n" + self._head
        connection = self._take()
        if connection is not None:
            try:
                return await self._exchange(what, connection, request)
            except AgentTransportError:
                if connection.answered or connection.timed_out:
                    raise
                # Closed by raia while it was idle: nothing was answered, so once more anew.
        return await self._exchange(what, await self._connect(what), request)

    async def aclose(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()

    def _take(self) -> _Connection | None:
        expired = time.monotonic() - self._keepalive
        while self._idle and (self._idle[0].closed or self._idle[0].idle_since < expired):
            self._idle.pop(0).close()
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                return connection
        return None

    async def _connect(self, what: str) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._timeouts.connect):
                _, connection = await loop.create_connection(
                    lambda: _Connection(self._max_body),
                    self._host,
                    self._port,
                    ssl=self._ssl,
                    server_hostname=self._host if self._tls else None,
                )
        except (OSError, TimeoutError) as exc:  # the request never left
            cause = never_connected(exc) or f"cannot connect ({type(exc).__name__})"
            raise AgentTransportError(f"{what}: {cause}", ambiguous=False) from exc
        return connection

    async def _exchange(self, what: str, connection: _Connection, request: bytes) -> Answer:
        assert connection.transport is not None
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Answer] = loop.create_future()
        connection.waiter, connection.answered = waiter, False
        connection.transport.write(request)
        timer = loop.call_later(self._timeouts.read, connection.timeout)
        try:
            answer = await waiter
        except ConnectionError as exc:
            raise AgentTransportError(f"{what}: {exc}", ambiguous=True) from None
        except _TooLarge as exc:  # what raia said, not how it arrived
            raise AgentProtocolError(f"{what}: {exc}") from None
        except BaseException:  # cancelled mid-answer: the connection is in an unknown state
            connection.close()
            raise
        finally:
            timer.cancel()
        if not connection.closed:
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
        return answer
