"""A terminal session: read lines, hand each to the core, wait for the answers."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import AsyncIterator
from typing import TextIO

from adapters.console.outbound import PLATFORM, ConsoleOutbound
from bridge.models import InboundMessage, Intent, Origin, PlatformUser, Reply
from bridge.ports.inbox import Inbox, Receipt

COMMANDS = {"/help": Intent.HELP, "/reset": Intent.RESET, "/new": Intent.RESET}
QUIT = ("/quit", "/exit")


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


async def _show(reply: Reply) -> None:
    """Commands are answered on the terminal at once, outside the answer count."""
    print(reply.text + "\n")


async def run_console(inbox: Inbox, outbound: ConsoleOutbound, *, pending: int, interactive: bool) -> int:
    """Read questions until end of input; wait for every answer before returning.
    Returns how many questions got a failure notice instead of an answer."""
    user = console_user()

    def message(text: str, intent: Intent = Intent.ASK) -> InboundMessage:
        return InboundMessage(platform=PLATFORM, user=user, origin=Origin(chat="terminal"), text=text, intent=intent)

    expected = pending
    if interactive:
        await inbox.receive(message("", Intent.START), respond=_show)
    if pending:
        print(f"(delivering {pending} answer(s) left from last time…)\n")
    async for raw in _lines(sys.stdin, "you> " if interactive else None):
        text = raw.strip()
        if not text:
            continue
        command = text.lower()
        if command in QUIT:
            break
        if command in COMMANDS:
            await inbox.receive(message(text, COMMANDS[command]), respond=_show)
            continue
        if await inbox.receive(message(text)) is Receipt.ACCEPTED:
            expected += 1
        if interactive:
            await outbound.wait_for(expected)
    await outbound.wait_for(expected)
    return outbound.failed
