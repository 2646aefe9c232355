"""The platforms' calls of every turn on kept-alive HTTP/1.1 connections of our own.

Slack's thinking status, answer post, users.info and hourglass, Telegram's "typing…" and
answer (``sendChatAction``, ``sendMessage``) are a turn's outbound exchanges, and aiohttp's
client machinery around their few hundred bytes was a quarter of a Slack turn's CPU
(py-spy, bench/replicas.py): request and URL objects, a task of its own to write each
body, its stream reader. Here one request (head and body) is written at once and the
answer is read by httptools (uvicorn's parser, C); ``bench/slack_calls.py`` and
``bench/telegram_calls.py`` print the CPU per call both ways.

At most ``limit`` connections (others wait for one, first come first served); an idle one
is closed after ``keepalive`` seconds, before a server with a 5 s idle timeout may close
it. A request that may be repeated (a GET) on a kept connection the server closed
meanwhile, answered by nothing at all, is sent once more on a new one; a POST never is
(it may have been taken): that failure is the caller's, as it was aiohttp's.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import httptools
from aiohttp.http import SERVER_SOFTWARE


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]  # as the server sent them (read only when a call failed)
    body: bytes


class _Connection(asyncio.Protocol):
    """One connection, one exchange at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[Answer] | None = None
        self.idle_since = 0.0
        self.closed = False
        self.answered = False  # a byte of the current answer arrived
        self._reset()

    def _reset(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not asyncio.Transport subclasses

    def data_received(self, data: bytes) -> None:
        if self.waiter is None:  # nothing asked: a confused server
            self.close()
            return
        self.answered = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.fail(f"unreadable answer ({type(exc).__name__})")

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.fail("server disconnected")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        answer = Answer(self._parser.get_status_code(), self._headers, b"".join(self._body))
        if not self._parser.should_keep_alive():
            self.close()
        self._reset()
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(answer)

    def fail(self, why: str, kind: type[OSError] = ConnectionError) -> None:
        waiter, self.waiter = self.waiter, None
        self.close()
        if waiter is not None and not waiter.done():
            waiter.set_exception(kind(why))

    def close(self) -> None:
        self.closed = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


class Connections:
    """Exchanges with one origin (``base``: an http(s) URL, its path the API's prefix)."""

    def __init__(self, base: str, *, limit: int, keepalive: float, timeout: float) -> None:
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("an http(s) URL")
        self._host, tls = parts.hostname, parts.scheme == "https"
        self._port = parts.port or (443 if tls else 80)
        self._ssl = ssl.create_default_context() if tls else None
        self.prefix = parts.path if parts.path.endswith("/") else parts.path + "/"
        self._host_line = f"Host: {parts.netloc.rpartition('@')[2]}\r\nUser-Agent: {SERVER_SOFTWARE}\r\n"
        self._limit, self._keepalive, self._timeout = limit, keepalive, timeout
        self._open = 0  # connections counted against the limit: idle, busy or being made
        self._idle: list[_Connection] = []  # the most recently used last
        self._waiting: deque[asyncio.Future[_Connection | None]] = deque()
        self._closed = False

    def head(self, line: str, headers: str) -> bytes:
        """A request's head: ``line`` ("POST /api/x"), then ``headers`` (each ending in CRLF)."""
        return f"{line} HTTP/1.1\r\n{self._host_line}{headers}\r\n".encode("latin-1")

    async def exchange(self, request: bytes, *, repeatable: bool, within: float | None = None) -> Answer:
        """Send ``request`` (head and body) and read its answer, whatever its status, within
        ``within`` seconds (default: the timeout), the wait for a connection included.
        Raises ``TimeoutError`` or ``ConnectionError``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self._timeout if within is None else within)
        connection = self._take()
        if connection is None:  # rarely: all busy, or none kept
            async with asyncio.timeout_at(deadline):
                connection = await self._acquire()
        if connection is not None:  # a kept one
            try:
                return await self._exchange(loop, connection, request, deadline)
            except ConnectionError:
                if connection.answered or not repeatable:
                    raise
            # Closed by the server while idle, nothing answered: once more, on a new one
            # (in the place of a kept one, if that is what comes: it may be as stale).
            async with asyncio.timeout_at(deadline):
                connection = await self._acquire()
            if connection is not None:
                connection.close()
        async with asyncio.timeout_at(deadline):
            connection = await self._connect()
        return await self._exchange(loop, connection, request, deadline)

    def close(self) -> None:
        """Idle connections now, busy ones when their exchange ends."""
        self._closed = True
        for connection in self._idle:
            connection.close()
        self._idle.clear()
        while self._waiting:
            self._waiting.popleft().set_exception(ConnectionError("closed"))

    def _take(self) -> _Connection | None:
        """A kept connection, if one is idle."""
        expired = time.monotonic() - self._keepalive
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed and connection.idle_since >= expired:
                return connection
            connection.close()
            self._open -= 1
        return None

    async def _acquire(self) -> _Connection | None:
        """A kept connection, or None: a place to make a new one (counted already)."""
        connection = self._take()
        if connection is not None:
            return connection
        if self._open < self._limit:
            self._open += 1
            return None
        waiter: asyncio.Future[_Connection | None] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:  # handed over: pass it on
                self._release(waiter.result())
            elif waiter in self._waiting:
                self._waiting.remove(waiter)
            raise

    def _release(self, connection: _Connection | None) -> None:
        """``connection`` (None: a place) to the first waiting request, else kept idle."""
        if connection is not None and (connection.closed or self._closed):
            connection.close()
            connection = None
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        if connection is None:
            self._open -= 1
        else:
            connection.idle_since = time.monotonic()
            self._idle.append(connection)

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(
                _Connection, self._host, self._port, ssl=self._ssl, server_hostname=self._host if self._ssl else None
            )
        except BaseException:
            self._release(None)
            raise
        return connection

    async def _exchange(
        self, loop: asyncio.AbstractEventLoop, connection: _Connection, request: bytes, deadline: float
    ) -> Answer:
        assert connection.transport is not None
        waiter: asyncio.Future[Answer] = loop.create_future()
        connection.waiter, connection.answered = waiter, False
        connection.transport.write(request)
        # One timer, not asyncio.timeout: a call's own bookkeeping was a sixth of its CPU.
        timer = loop.call_at(deadline, connection.fail, "timed out", TimeoutError)
        try:
            answer = await waiter
        except BaseException:  # failed, timed out or cancelled mid-answer: not kept
            connection.close()
            raise
        finally:
            timer.cancel()
            self._release(connection)
        return answer
