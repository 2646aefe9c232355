"""The core's ``Outbound`` port for the terminal: answers are written to a stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TextIO

from adapters.console.render import render
from bridge.models import Origin, PlatformUser, Reply, ReplyKind
from bridge.ports.outbound import DeliveryProgress

PLATFORM = "console"


class ConsoleOutbound:
    """Writes answers to the terminal and counts them, so a session can wait for its own."""

    platform = PLATFORM

    def __init__(self, out: TextIO, *, prefix: str, interactive: bool) -> None:
        self._out = out
        self._prefix = prefix
        self._interactive = interactive
        self.delivered = 0
        self.failed = 0  # questions answered with the bridge's notice instead of the agent's answer
        self._changed = asyncio.Event()

    async def deliver(self, origin: Origin, reply: Reply, progress: DeliveryProgress) -> None:
        if reply.kind is ReplyKind.NOTICE and progress.done == 0:
            self.failed += 1
        if progress.done == 0:
            self._out.write(f"{self._prefix}{render(reply)}\n\n")
            self._out.flush()
            await progress.part_delivered(1)
        self.delivered += 1
        self._changed.set()

    @asynccontextmanager
    async def working(self, origin: Origin) -> AsyncIterator[None]:
        if self._interactive:
            self._out.write("  (thinking…)\n")
            self._out.flush()
        yield

    async def profile(self, user: PlatformUser) -> PlatformUser:
        return user

    async def wait_for(self, count: int) -> None:
        """Until ``count`` answers were written (the session waits for its questions)."""
        while self.delivered < count:
            self._changed.clear()
            await self._changed.wait()
