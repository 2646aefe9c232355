"""An ASGI app in front of the raia simulator that misbehaves on cue, the way a real
network and a real raia sometimes do. Served on loopback like the simulator itself."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.raia.simulator import RaiaSimulator

Mischief = Callable[[], ASGIApp]


@dataclass
class Tamper:
    sim: RaiaSimulator
    # (method, path pattern, what to answer instead): each used once, in order.
    rules: list[tuple[str, str, Mischief]] = field(default_factory=list)
    # A send raia takes this long to store, while the connection breaks before its answer
    # is through: the client cannot know whether raia has it.
    slow_send: float | None = None
    # Requests whose path matches are passed on only after this many seconds (dropped if
    # the client hangs up meanwhile).
    stall: dict[str, float] = field(default_factory=dict)
    _late: set[asyncio.Task[None]] = field(default_factory=set)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # the simulator's lifespan
            await self.sim(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        for rule in self.rules:
            if method == rule[0] and re.search(rule[1], path):
                self.rules.remove(rule)
                await rule[2]()(scope, receive, send)
                return
        seconds = sum(s for pattern, s in self.stall.items() if re.search(pattern, path))
        if seconds:
            body = await _body(receive)
            if await _hung_up_within(receive, seconds):
                return
            receive = _replaying(body, receive)
        delay = self.slow_send
        if delay is not None and path.endswith("/messages/async"):
            self.slow_send = None
            body = await _body(receive)
            self._late.add(asyncio.create_task(self._later(scope, body, delay)))
            # The answer's head, then the connection closes (uvicorn logs the incomplete response).
            await send({"type": "http.response.start", "status": 201, "headers": [(b"content-length", b"100")]})
            return
        await self.sim(scope, receive, send)

    async def stored_late(self) -> None:
        """Until every slow send has reached the simulator (what it stores is then final)."""
        while self._late:
            await self._late.pop()

    async def _later(self, scope: Scope, body: bytes, delay: float) -> None:
        await asyncio.sleep(delay)

        async def nowhere(message: Message) -> None:
            pass

        await self.sim(scope, _replaying(body, _never), nowhere)


def cut() -> Mischief:
    """The request is read and dropped, and the connection closes in the middle of the
    answer: the client cannot know whether the agent has it (it does not)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await _body(receive)
        await send({"type": "http.response.start", "status": 201, "headers": [(b"content-length", b"100")]})

    return lambda: app


def body(content: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Mischief:
    return lambda: Response(content, status_code=status, headers=headers)


async def _body(receive: Receive) -> bytes:
    data = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return bytes(data)
        data += message.get("body", b"")
        if not message.get("more_body", False):
            return bytes(data)


async def _hung_up_within(receive: Receive, seconds: float) -> bool:
    """Whether the client hangs up before ``seconds`` pass (the request body already read)."""
    try:
        async with asyncio.timeout(seconds):
            while (await receive())["type"] != "http.disconnect":
                pass
    except TimeoutError:
        return False
    return True


def _replaying(body: bytes, then: Receive) -> Receive:
    """``receive`` for an app that gets ``body`` (already read) first, then what ``then`` says."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        return pending.pop() if pending else await then()

    return receive


async def _never() -> Message:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")
