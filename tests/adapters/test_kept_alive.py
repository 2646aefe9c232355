"""The kept-alive connections every lean caller shares (``adapters.kept_alive``: raia's
GETs and POSTs, Slack's and Telegram's calls), against raw sockets: answers by length, in
chunks or until the server closes (a reset is no end), a connection the server closes or
that holds bytes after its answer never used again, and answers over the limit (by their
length, as their body comes, or headers that never end) refused with their connection
dropped at once. What each caller makes of a failure is in its own tests."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from adapters.kept_alive import Answer, Connections, TooLarge
from tests.fakes.raw_http import Handler, raw_server, read_request

BODY = b'{"status": "pending"}'
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json"
LIMIT = 4096  # bytes of a body here: small, so that going past it is quick


@asynccontextmanager
async def connections(handler: Handler) -> AsyncIterator[Connections]:
    async with raw_server(handler) as base:
        kept = Connections(base + "/", limit=4, keepalive=4.0, timeout=600.0, max_body=LIMIT)
        try:
            yield kept
        finally:
            kept.close()


async def get(kept: Connections) -> Answer:
    # The caller's bound, far below the connections' 600 s: a guard that fails hangs here.
    return await asyncio.wait_for(kept.exchange(kept.head("GET /x", ""), repeatable=False), 10)


class Server:
    """Answers every request on a connection with ``BODY``, by length or in chunks;
    ``close``: says it closes (but leaves that to the client); ``extra``: sent right after each answer, in the same
    write. Counts connections."""

    def __init__(self, chunked: bool = False, close: bool = False, extra: bytes = b"") -> None:
        self.connections = 0
        self.chunked, self.close, self.extra = chunked, close, extra

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        while True:
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                return
            if self.chunked:
                half = len(BODY) // 2
                body = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (half, BODY[:half], len(BODY) - half, BODY[half:])
                writer.write(OK + b"\r\nTransfer-Encoding: chunked\r\n\r\n" + body + self.extra)
            else:
                connection = b"\r\nConnection: close" if self.close else b""
                writer.write(OK + connection + b"\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY + self.extra)
            await writer.drain()  # and, closing or not, reads on: it is the client that must not ask


@pytest.mark.parametrize(
    "server",
    [Server(), Server(chunked=True), Server(close=True), Server(extra=b"HTTP/1.1 200 OK\r\nContent-Le")],
    ids=["by-length", "chunked", "connection-close", "half-an-answer-more"],
)
async def test_answers_and_connections_that_are_never_used_again(server: Server) -> None:
    """A connection the server closes, or one with bytes after the answer (a half-read
    connection), is never asked again; others are kept."""
    async with connections(server) as kept:
        for _ in range(2):
            answer = await get(kept)
            assert (answer.status, answer.reason, answer.body) == (200, "OK", BODY)
    assert server.connections == (2 if server.close or server.extra else 1)


class CloseDelimited:
    """Answers each connection's request with a body that has neither a length nor chunks
    (in two writes), ended by closing the connection; ``reset``: by a reset instead, which
    is no end."""

    def __init__(self, version: bytes = b"1.1", reset: bool = False) -> None:
        self.connections = 0
        self.version, self.reset = version, reset

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await read_request(reader)
        writer.write(b"HTTP/%s 200 OK\r\nContent-Type: application/json\r\n\r\n" % self.version + BODY[:9])
        await writer.drain()
        writer.write(BODY[9:])
        await writer.drain()
        if self.reset:  # SO_LINGER 0: the close sends RST
            writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()


@pytest.mark.parametrize("version", [b"1.1", b"1.0"])
async def test_a_body_without_length_or_chunks_ends_when_the_server_closes(version: bytes) -> None:
    server = CloseDelimited(version)
    async with connections(server) as kept:
        for _ in range(2):  # each on a new connection
            assert (await get(kept)).body == BODY
    assert server.connections == 2


async def test_a_body_without_length_cut_off_by_a_reset_is_no_answer() -> None:
    async with connections(CloseDelimited(reset=True)) as kept:
        with pytest.raises(ConnectionError) as caught:
            await get(kept)
    assert not isinstance(caught.value, TooLarge)


@pytest.mark.parametrize("way", ["by-content-length", "in-chunks", "until-closed", "headers-without-end"])
async def test_an_answer_longer_than_the_limit_is_refused_and_its_connection_dropped(way: str) -> None:
    """A length over the limit fails at once (before any of the body); a body without one
    (in chunks, or until the server closes, which it leaves to the client here) as soon
    as it passes the limit, and so do headers that never end. Each time the server sees
    the connection closed (long before the 600 s timeout), and the next exchange goes on a
    new connection."""
    served = 0
    closed = asyncio.Event()
    over = b"x" * (LIMIT + 1000)

    async def huge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        served += 1
        await read_request(reader)
        if served > 1:
            writer.write(OK + b"\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY)
        elif way == "by-content-length":
            writer.write(OK + b"\r\nContent-Length: %d\r\n\r\n" % (LIMIT + 1))
        elif way == "in-chunks":
            writer.write(OK + b"\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(over), over))
        elif way == "until-closed":
            writer.write(OK + b"\r\n\r\n" + over)
        else:
            writer.write(OK + b"\r\n")
            with contextlib.suppress(ConnectionError):
                while not reader.at_eof():
                    writer.write(b"X-More: " + b"x" * 1000 + b"\r\n")
                    await writer.drain()
        with contextlib.suppress(ConnectionError):
            await writer.drain()
            await reader.read()
        if served == 1:
            closed.set()

    async with connections(huge) as kept:
        with pytest.raises(TooLarge) as caught:
            await get(kept)
        assert f"longer than {LIMIT} bytes" in str(caught.value)
        await asyncio.wait_for(closed.wait(), 10)
        assert (await get(kept)).body == BODY
    assert served == 2
