"""HTTP/1.1 exchanges on kept-alive connections of our own, the answers read by
httptools (uvicorn's parser, C): raia's GETs (``adapters.raia.lean``: a waiting
question's look is the bridge's most frequent call) and JSON calls
(``adapters.raia.posts``), Slack's and Telegram's calls of every turn. aiohttp's client
machinery around their few hundred bytes was most of their CPU (py-spy,
bench/replicas.py): request and URL objects, a task of its own to write each body, its
stream reader. Here one request (head and body) is written at once, with one timer;
``bench/looks.py``, ``bench/slack_calls.py`` and ``bench/telegram_calls.py`` print the
CPU per call both ways.

At most ``limit`` connections (others wait for one, first come first served); an idle one
is closed after ``keepalive`` seconds, before a server with a 5 s idle timeout may close
it. A request that may be repeated (a GET) on a kept connection the server closed
meanwhile, answered by nothing at all, is sent once more on a new one; a POST never is
(it may have been taken): that failure is the caller's, as it was aiohttp's.

Answers are read as RFC 9112 says, by length, in chunks, or (neither given) until the
server closes the connection; a reset is no such end but a dropped connection. Nothing
the server sends is held without bound: a body over ``max_body`` (announced, or as it
arrives) or a whole answer over ``max_body`` + 64 KiB (httptools gathers headers without
limit) fails as ``TooLarge`` and its connection is dropped unread. A connection is kept
only when its answer ended cleanly with nothing after it."""

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
    headers: dict[str, str]  # by lower-case name (raia's answers are read by them; a platform's when a call failed)
    body: bytes
    reason: str = ""  # the status line's words


# The longest body read (raia's largest answers, a long conversation's messages, are a few
# MB; a platform's a few KB), and the most of status line and headers around it: past
# either the connection is dropped, so that a broken or hostile server cannot fill memory.
MAX_BODY = 16 * 1024 * 1024
HEAD_ROOM = 64 * 1024


class TooLarge(ConnectionError):
    """An answer longer than the limit: its connection is dropped, nothing more read (a
    platform's caller sees a failed exchange; raia's reads it as a protocol error)."""


class _Connection(asyncio.Protocol):
    """One connection, one exchange at a time."""

    def __init__(self, max_body: int) -> None:
        self.max_body = max_body
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[Answer] | None = None
        self.idle_since = 0.0
        self.closed = False
        self.answered = False  # a byte of the current answer arrived
        self._start()

    def _start(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._headers: dict[str, str] = {}
        self._reason = ""
        self._body: list[bytes] = []
        self._size = 0  # of the body
        self._received = 0  # of the whole answer, as it came
        self._until_close = False  # the body ends when the server closes the connection

    # -- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not asyncio.Transport subclasses

    def data_received(self, data: bytes) -> None:
        if self.waiter is None:  # nothing asked: a confused server
            self.close()
            return
        self.answered = True
        self._received += len(data)
        # httptools gathers headers without limit: the whole answer is bounded as it comes.
        if self._received > self.max_body + HEAD_ROOM:
            self.fail(f"answer longer than {self.max_body} bytes", TooLarge)
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if isinstance(exc.__context__, TooLarge):  # raised by on_headers_complete or on_body
                self.fail(f"answer longer than {self.max_body} bytes", TooLarge)
            else:
                self.fail(f"unreadable answer ({type(exc).__name__})")

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._until_close and exc is None and self.waiter is not None:
            # The end of a body without a length: httptools cannot be told of it (it has
            # no llhttp_finish), so the answer is complete here. A reset is no end.
            self.on_message_complete()
        else:
            self.fail("server disconnected")

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
            raise TooLarge
        # Neither a length nor chunks (HTTP/1.0, or a server that streams): the body is
        # all the server sends until it closes the connection (RFC 9112, 6.3).
        chunked = headers.get("transfer-encoding", "").lower().endswith("chunked")
        self._until_close = (
            "content-length" not in headers and not chunked and not (status < 200 or status in (204, 304))
        )

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > self.max_body:
            raise TooLarge
        self._body.append(body)

    def on_message_complete(self) -> None:
        status, keep = self._parser.get_status_code(), self._parser.should_keep_alive()
        answer = Answer(status, self._headers, b"".join(self._body), self._reason)
        self._start()
        if not keep:
            self.close()
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(answer)

    # -- ours ---------------------------------------------------------------------------

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

    def __init__(
        self,
        base: str,
        *,
        limit: int,
        keepalive: float,
        timeout: float,
        connect: float | None = None,
        max_body: int = MAX_BODY,
    ) -> None:
        """``timeout``: an exchange's seconds, the wait for a connection included;
        ``connect``: at most this many of them to make one (default: all)."""
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            raise ValueError("an http(s) URL")
        self._host, tls = parts.hostname, parts.scheme == "https"
        self._port = parts.port or (443 if tls else 80)
        self._ssl = ssl.create_default_context() if tls else None
        self.prefix = parts.path if parts.path.endswith("/") else parts.path + "/"
        self._host_line = f"Host: {parts.netloc.rpartition('@')[2]}\r\nUser-Agent: {SERVER_SOFTWARE}\r\n"
        self._limit, self._keepalive, self._timeout = limit, keepalive, timeout
        self._connect_within, self._max_body = connect, max_body
        self._open = 0  # connections counted against the limit: idle, busy or being made
        self._idle: list[_Connection] = []  # the most recently used last
        self._waiting: deque[asyncio.Future[_Connection | None]] = deque()
        self._closed = False

    def head(self, line: str, headers: str) -> bytes:
        """A request's head: ``line`` ("POST /api/x"), then ``headers`` (each ending in CRLF)."""
        return f"{line} HTTP/1.1\r\n".encode("latin-1") + self.after_line(headers)

    def after_line(self, headers: str) -> bytes:
        """A head without its request line (to prepare once): Host, User-Agent, ``headers``."""
        return f"{self._host_line}{headers}\r\n".encode("latin-1")

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
        while self._idle and (self._idle[0].closed or self._idle[0].idle_since < expired):  # the oldest first
            self._idle.pop(0).close()
            self._open -= 1
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
            async with asyncio.timeout(self._connect_within):
                _, connection = await loop.create_connection(
                    lambda: _Connection(self._max_body),
                    self._host,
                    self._port,
                    ssl=self._ssl,
                    server_hostname=self._host if self._ssl else None,
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
