"""The load generator's webhook posts: pre-built raw HTTP/1.1 requests on plain asyncio
sockets, each timed from its write to its whole response.

An aiohttp client posting 2,000 requests at once spent most of an acknowledgement's
measured time in itself (building each request, its connection pool, parsing each
answer): ``bench/ack_floor.py`` measured 0.61-1.08 s at p99 against a server that only
answers 200, where the bridge's target is 1 s. Here every request is bytes made before
the burst; the connections are opened first (their own time, printed apart: the listen
queue shows there) and given half a second to be accepted, then every request is written
in one pass and its
acknowledgement is the time from its write to the last byte of its response. The
generator's own CPU per post is a few tens of microseconds, so what remains of the floor
is the server's.

``bench/ack_floor.py`` and ``bench/replicas.py`` both post through ``burst``: the floor
and the bridge are measured the same way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlsplit

WRITES_PER_PASS = 64  # requests written before the loop reads what came back meanwhile
CONNECT_TIMEOUT = 30.0
SETTLE = 0.5  # seconds between the connections' opening and the burst's requests
ANSWER_TIMEOUT = 300.0  # a burst of 10,000 on a busy machine (bench/waiting.py --many)


@dataclass(frozen=True)
class Post:
    """One webhook request as bytes on the wire, and where it goes."""

    host: str
    port: int
    raw: bytes


def post(url: str, body: bytes, headers: Mapping[str, str]) -> Post:
    """``body`` POSTed to ``url`` (http only) with ``headers``, as one HTTP/1.1 request that
    keeps its connection open."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None or parts.port is None:
        raise ValueError(f"not an http://host:port URL: {url}")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"POST {path} HTTP/1.1", f"Host: {parts.hostname}:{parts.port}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items() if name.lower() != "content-length"]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return Post(parts.hostname, parts.port, head + body)


class RefusedPost(Exception):
    """A post the server answered with anything but 2xx (a 503 in a burst is a failure)."""


@dataclass
class _Exchange(asyncio.Protocol):
    """One connection: a request written, its response read (status line, headers, a
    Content-Length or chunked body); then the next, as keep-alive allows."""

    connected: asyncio.Future[None]
    transport: asyncio.Transport | None = None
    buffer: bytearray = field(default_factory=bytearray)
    answered: asyncio.Future[float] | None = None
    sent_at: float = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not asyncio's class
        self.connected.set_result(None)

    def send(self, raw: bytes) -> asyncio.Future[float]:
        """Write ``raw`` now; the future gets the seconds until its response was whole."""
        assert self.transport is not None
        self.answered = asyncio.get_running_loop().create_future()
        self.buffer.clear()
        self.sent_at = time.perf_counter()
        self.transport.write(raw)
        return self.answered

    def data_received(self, data: bytes) -> None:
        at = time.perf_counter()
        self.buffer += data
        if self.answered is None or self.answered.done():
            return
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return
        head = bytes(self.buffer[:head_end]).decode("latin-1").split("\r\n")
        fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:])}
        body = self.buffer[head_end + 4 :]
        if "content-length" in fields:
            if len(body) < int(fields["content-length"]):
                return
        elif fields.get("transfer-encoding", "").lower() == "chunked" and not body.endswith(b"0\r\n\r\n"):
            return
        status = int(head[0].split(" ", 2)[1])
        if 200 <= status <= 299:
            self.answered.set_result(at - self.sent_at)
        else:
            self.answered.set_exception(RefusedPost(f"{head[0]}: {bytes(body[:200])!r}"))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.connected.done():
            self.connected.set_exception(exc or ConnectionError("closed"))
        if self.answered is not None and not self.answered.done():
            self.answered.set_exception(ConnectionError(f"closed before the response: {exc}"))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


@dataclass
class Burst:
    """What one burst measured, in seconds: each post's acknowledgement (in the order of
    the posts) and each connection's opening."""

    acks: list[float]
    connects: list[float]
    cpu: float  # this process's CPU over the burst (connecting and posting)


async def _open(target: Post, opened: list[_Exchange], connects: list[float]) -> _Exchange:
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    exchange = _Exchange(loop.create_future())
    await loop.create_connection(lambda: exchange, target.host, target.port)
    opened.append(exchange)
    await exchange.connected
    connects.append(time.perf_counter() - start)
    return exchange


async def burst(posts: Sequence[Post], senders: int | None = None) -> Burst:
    """Every post at the same instant, each on a connection of its own (all opened first);
    or with ``senders``, that many senders each posting its share one after the other (a
    connection per server each, kept open). Raises ``RefusedPost`` if any was not
    acknowledged with a 2xx."""
    cpu = time.process_time()
    opened: list[_Exchange] = []
    connects: list[float] = []
    try:
        if senders is None:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                exchanges = await asyncio.gather(*(_open(p, opened, connects) for p in posts))
            # Connected is not yet accepted: the server takes the connections from its listen
            # queue meanwhile, and a request written before that would count the wait.
            await asyncio.sleep(SETTLE)
            async with asyncio.timeout(ANSWER_TIMEOUT):
                acks = await _all_at_once(exchanges, posts)
        else:
            acks = [0.0] * len(posts)
            async with asyncio.timeout(ANSWER_TIMEOUT):
                shares = await asyncio.gather(
                    *(_one_after_another(posts[s::senders], opened, connects) for s in range(senders))
                )
            for lane, share in enumerate(shares):
                acks[lane::senders] = share
    finally:
        for exchange in opened:
            exchange.close()
    return Burst(acks, connects, time.process_time() - cpu)


async def _all_at_once(exchanges: Sequence[_Exchange], posts: Sequence[Post]) -> list[float]:
    answers = []
    for start in range(0, len(posts), WRITES_PER_PASS):
        end = start + WRITES_PER_PASS
        answers += [e.send(p.raw) for e, p in zip(exchanges[start:end], posts[start:end], strict=True)]
        await asyncio.sleep(0)  # responses that came meanwhile are timed now, not after every write
    return list(await asyncio.gather(*answers))


async def _one_after_another(share: Sequence[Post], opened: list[_Exchange], connects: list[float]) -> list[float]:
    to: dict[tuple[str, int], _Exchange] = {}  # replicas: a connection to each, as a sender reaches it
    acks = []
    for p in share:
        exchange = to.get((p.host, p.port))
        if exchange is None:
            exchange = to[p.host, p.port] = await _open(p, opened, connects)
        acks.append(await exchange.send(p.raw))
    return acks
