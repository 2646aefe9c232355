"""An httpx transport in front of the raia simulator that misbehaves on cue, the way a
real network and a real raia sometimes do."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from adapters.raia.simulator import RaiaSimulator

Mischief = Callable[[httpx.Request], httpx.Response]


@dataclass
class Tamper(httpx.AsyncBaseTransport):
    sim: RaiaSimulator
    # (method, path pattern, what to answer instead): each used once, in order.
    rules: list[tuple[str, str, Mischief]] = field(default_factory=list)
    # A send raia takes this long to store, while the client has already given up on it.
    slow_send: float | None = None
    # Requests whose path matches are answered only after this many seconds.
    stall: dict[str, float] = field(default_factory=dict)
    _inner: httpx.ASGITransport = field(init=False)
    _late: set[asyncio.Task[httpx.Response]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._inner = httpx.ASGITransport(app=self.sim)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for rule in self.rules:
            method, pattern, mischief = rule
            if request.method == method and re.search(pattern, request.url.path):
                self.rules.remove(rule)
                return mischief(request)
        for pattern, seconds in self.stall.items():
            if re.search(pattern, request.url.path):
                await asyncio.sleep(seconds)
        delay = self.slow_send
        if delay is not None and request.url.path.endswith("/messages/async"):
            self.slow_send = None
            await request.aread()
            task = asyncio.create_task(self._later(request, delay))
            self._late.add(task)
            raise httpx.ReadTimeout("raia is still working on it", request=request)
        return await self._inner.handle_async_request(request)

    async def _later(self, request: httpx.Request, delay: float) -> httpx.Response:
        await asyncio.sleep(delay)
        return await self._inner.handle_async_request(request)


def body(content: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Mischief:
    return lambda request: httpx.Response(status, content=content, headers=headers, request=request)
