"""The core's ``Outbound`` port for the terminal: answers are written to a stream (plain),
or printed with ``rich`` for a person at a terminal (then ``sys.stdout`` is looked up at
each print, so the prompt line that ``prompt_toolkit`` keeps at the bottom is redrawn
under an answer that arrives while the person types)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TextIO

from rich.console import Console

from adapters.console.render import render, render_rich
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
        self._console = Console(soft_wrap=False, highlight=False) if interactive else None
        self.delivered = 0
        self.failed = 0  # questions answered with the bridge's notice instead of the agent's answer
        self._changed = asyncio.Event()

    async def deliver(self, origin: Origin, reply: Reply, progress: DeliveryProgress) -> None:
        if reply.kind is ReplyKind.NOTICE and progress.done == 0:
            self.failed += 1
        if progress.done == 0:
            if self._console is not None:
                self._console.print(render_rich(reply, prefix=self._prefix))
                self._console.print()
            else:
                self._out.write(f"{self._prefix}{render(reply)}\n\n")
                self._out.flush()
            await progress.part_delivered(1)
        self.delivered += 1
        self._changed.set()

    @asynccontextmanager
    async def working(self, origin: Origin) -> AsyncIterator[None]:
        if self._console is not None:
            self._console.print("  (thinking…)", style="dim")
        yield

    async def profile(self, user: PlatformUser) -> PlatformUser:
        return user

    async def wait_for(self, count: int) -> None:
        """Until ``count`` answers were written (the session waits for its questions)."""
        while self.delivered < count:
            self._changed.clear()
            await self._changed.wait()
