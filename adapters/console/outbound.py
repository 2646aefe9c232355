"""The core's ``Outbound`` port for the terminal: answers are written to a stream (plain),
or printed with ``rich`` for a person at a terminal (then ``sys.stdout`` is looked up at
each print, so the prompt line that ``prompt_toolkit`` keeps at the bottom is redrawn
under an answer that arrives while the person types)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import TextIO

from rich.console import Console

from adapters.console.render import render, render_rich
from adapters.console.words import PLATFORM
from bridge import texts
from bridge.models import Origin, PlatformUser, Reply, ReplyKind
from bridge.ports.outbound import CONVERSATION_POST, DeliveryProgress, LiveText


class ConsoleOutbound:
    """Writes answers to the terminal and counts them, so a session can wait for its own."""

    platform = PLATFORM

    def __init__(self, out: TextIO, *, prefix: str, interactive: bool) -> None:
        self._out = out
        self.prefix = prefix
        self._interactive = interactive
        self._console = Console(soft_wrap=False, highlight=False) if interactive else None
        self.delivered = 0
        self.failed = 0  # questions answered with the bridge's notice instead of the agent's answer
        # A person's takeover (its notices, the staff's messages): questions then reach the
        # staff, and no agent answer follows them. ``asked``: questions the session counts.
        self.by_person = False
        self.asked = 0
        self._changed = asyncio.Event()

    async def deliver(self, origin: Origin, reply: Reply, progress: DeliveryProgress) -> None:
        staff = progress.key.startswith(CONVERSATION_POST)
        if staff:
            back = "-back-" in progress.key
            if not back and not self.by_person:  # a takeover began: what was asked went to the staff
                self.delivered = max(self.delivered, self.asked)
            self.by_person = not back
        if reply.kind is ReplyKind.NOTICE and progress.done == 0 and not staff:
            self.failed += 1
        if progress.done == 0:
            if self._console is not None:
                self._console.print(render_rich(reply, prefix=self.prefix))
                self._console.print()
            else:
                self._out.write(f"{self.prefix}{render(reply)}\n\n")
                self._out.flush()
            await progress.part_delivered(1)
        if not staff:
            self.delivered += 1
        self._changed.set()

    @asynccontextmanager
    async def working(self, origin: Origin) -> AsyncIterator[None]:
        if self._console is not None:
            self._console.print("  (thinking…)", style="dim")
        yield

    async def profile(self, user: PlatformUser) -> PlatformUser:
        return user

    def live(self, origin: Origin, language: str = "en", key: str = "") -> LiveText | None:
        # At a terminal the words are printed as they arrive; a script gets the whole answer.
        return _Printed(self, language) if self._console is not None else None

    def _count(self, reply: Reply) -> None:
        if reply.kind is ReplyKind.NOTICE:
            self.failed += 1
        self.delivered += 1
        self._changed.set()

    async def wait_for(self, count: int) -> None:
        """Until ``count`` answers were written (the session waits for its questions; those
        a person took over count as answered)."""
        while self.delivered < count:
            self._changed.clear()
            await self._changed.wait()


class _Printed:
    """A streamed answer printed as it arrives, then its sources under it."""

    def __init__(self, outbound: ConsoleOutbound, language: str) -> None:
        self._outbound = outbound
        self._language = language
        self._printed = ""

    async def show(self, text: str) -> None:
        if not self._printed:
            sys.stdout.write(self._outbound.prefix)
        if text.startswith(self._printed):
            sys.stdout.write(text[len(self._printed) :])
            sys.stdout.flush()
            self._printed = text

    async def finish(self, reply: Reply, progress: DeliveryProgress) -> None:
        if progress.done == 0:
            rest = reply.text[len(self._printed) :] if reply.text.startswith(self._printed) else ""
            sources = render(replace(reply, text="")).strip()
            sys.stdout.write(rest + ("\n\n" + sources if sources else "") + "\n\n")
            sys.stdout.flush()
            await progress.part_delivered(1)
        self._outbound._count(reply)

    async def abandon(self) -> None:
        if self._printed:
            sys.stdout.write(f"\n{texts.text('cut_off', self._language)}\n\n")
            sys.stdout.flush()
