"""The terminal as a platform: ``raia-bridge chat`` and ``raia-bridge demo``."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TextIO

from bridge.models import InboundMessage, PlatformUser, Reply, ReplyKind, Route
from bridge.outbound import DeliveryProgress
from bridge.service import ConversationService, Submitted

PLATFORM = "console"
HELP = "Type a question and press Enter. Commands: /reset (start a new conversation), /help, /quit."


def render_reply(reply: Reply) -> str:
    """Plain-text rendering: the Markdown as written, then a numbered sources list."""
    lines = [reply.text]
    if reply.kind is ReplyKind.ANSWER and reply.has_sources:
        lines += ["", "Sources:"]
        number = 0
        for url in reply.urls:
            number += 1
            lines.append(f"  [{number}] {url.title} — {url.url}" if url.title != url.url else f"  [{number}] {url.url}")
        for file in reply.files:
            number += 1
            lines.append(f"  [{number}] {file.filename}")
    return "\n".join(lines)


class ConsoleOutbound:
    platform = PLATFORM

    def __init__(self, out: TextIO, *, prefix: str, interactive: bool) -> None:
        self._out = out
        self._prefix = prefix
        self._interactive = interactive
        self.delivered = 0
        self._changed = asyncio.Event()

    async def deliver(self, route: Route, reply: Reply, progress: DeliveryProgress) -> None:
        if progress.done == 0:
            self._out.write(f"{self._prefix}{render_reply(reply)}\n\n")
            self._out.flush()
            await progress.part_delivered(1)
        self.delivered += 1
        self._changed.set()

    @asynccontextmanager
    async def working(self, route: Route) -> AsyncIterator[None]:
        if self._interactive:
            self._out.write("  (thinking…)\n")
            self._out.flush()
        yield

    async def wait_for(self, count: int) -> None:
        while self.delivered < count:
            self._changed.clear()
            await self._changed.wait()


def console_user() -> PlatformUser:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "terminal"
    return PlatformUser(fk_id=f"{PLATFORM}:{name}", first_name=name, last_name=None, custom_data={"source": "terminal"})


async def _lines(stream: TextIO, prompt: str | None) -> AsyncIterator[str]:
    while True:
        if prompt:
            sys.stdout.write(prompt)
            sys.stdout.flush()
        line = await asyncio.to_thread(stream.readline)
        if not line:
            return
        yield line.rstrip("\n")


async def run_console(
    service: ConversationService, outbound: ConsoleOutbound, *, pending: int, interactive: bool
) -> None:
    """Read questions until end of input; wait for every answer before returning."""
    user = console_user()
    expected = pending
    if interactive:
        print(f"Connected to {await service.agent_name()}. {HELP}\n")
    if pending:
        print(f"(delivering {pending} answer(s) left from last time…)\n")
    async for raw in _lines(sys.stdin, "you> " if interactive else None):
        text = raw.strip()
        if not text:
            continue
        command = text.lower()
        if command in ("/quit", "/exit"):
            break
        if command == "/help":
            print(HELP + "\n")
            continue
        if command in ("/reset", "/new"):
            await service.reset(user)
            print("Started a new conversation. The assistant will not remember earlier messages.\n")
            continue
        msg = InboundMessage(
            platform=PLATFORM,
            user=user,
            route=Route(chat="terminal"),
            text=text,
            dedupe_keys=(),
        )
        if await service.submit(msg) is Submitted.ACCEPTED:
            expected += 1
        if interactive:
            await outbound.wait_for(expected)
    await outbound.wait_for(expected)
