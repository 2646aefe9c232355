"""A terminal session: read lines, hand each to the core, wait for the answers.

At a terminal the lines come from ``prompt_toolkit`` (line editing, history with the
arrow keys, no 4,095-character limit of the terminal's own line mode) and whatever is
printed meanwhile appears above the prompt, which is redrawn. From a pipe the lines are
read as they are, for scripts."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import shutil
import sys
import textwrap
from collections.abc import AsyncIterator
from typing import TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.patch_stdout import patch_stdout

from adapters.console.outbound import ConsoleOutbound
from adapters.console.words import PLATFORM
from bridge.models import InboundMessage, Intent, Origin, PlatformUser, Reply
from bridge.ports.inbox import Inbox, Receipt

COMMANDS = {
    "/help": Intent.HELP,
    "/reset": Intent.RESET,
    "/new": Intent.RESET,
    "/human": Intent.HUMAN,
    "/stop": Intent.STOP,
}
QUIT = ("/quit", "/exit")


def console_user() -> PlatformUser:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "terminal"
    return PlatformUser(fk_id=f"{PLATFORM}:{name}", first_name=name, last_name=None, custom_data={"source": "terminal"})


async def _lines(stream: TextIO) -> AsyncIterator[str]:
    while True:
        line = await asyncio.to_thread(stream.readline)
        if not line:
            return
        yield line.rstrip("\n")


def _keys() -> KeyBindings:
    keys = KeyBindings()

    @keys.add("c-c")
    def _interrupt(event: KeyPressEvent) -> None:
        # Ctrl-C drops a half-typed line, as every REPL does; on an empty line it leaves.
        if event.current_buffer.text:
            event.current_buffer.reset()
        else:
            event.app.exit(exception=KeyboardInterrupt())

    return keys


async def _prompted(prompt: str) -> AsyncIterator[str]:
    session: PromptSession[str] = PromptSession(history=InMemoryHistory(), key_bindings=_keys())
    while True:
        try:
            yield await session.prompt_async(prompt)
        except (EOFError, KeyboardInterrupt):  # Ctrl-D, or Ctrl-C on an empty line: leave like /quit
            return


def _nothing() -> contextlib.nullcontext[None]:
    return contextlib.nullcontext()


async def _show(reply: Reply) -> None:
    """Commands are answered on the terminal at once, outside the answer count; at a
    terminal wrapped at its width between words (the terminal itself would cut words)."""
    print(wrapped(reply.text, shutil.get_terminal_size(fallback=(0, 0)).columns) + "\n")


def wrapped(text: str, width: int) -> str:
    """Each line of ``text`` wrapped at ``width`` columns between words, list items'
    continuation lines indented under their text; ``width`` 0 (not a terminal): as it is."""
    if width <= 0:
        return text
    lines = []
    for line in text.splitlines():
        indent = " " * (len(line) - len(line.lstrip(" -*")) if line.lstrip().startswith(("- ", "* ")) else 0)
        lines.append(textwrap.fill(line, width - 1, subsequent_indent=indent, break_on_hyphens=False) or line)
    return "\n".join(lines)


async def run_console(inbox: Inbox, outbound: ConsoleOutbound, *, pending: int, interactive: bool) -> int:
    """Read questions until end of input; wait for every answer before returning.
    Returns how many questions got a failure notice instead of an answer."""
    user = console_user()

    def message(text: str, intent: Intent = Intent.ASK) -> InboundMessage:
        return InboundMessage(platform=PLATFORM, user=user, origin=Origin(chat="terminal"), text=text, intent=intent)

    expected = outbound.asked = pending
    if interactive:
        await inbox.receive(message("", Intent.START), respond=_show)
    if pending:
        print(f"(delivering {pending} answer(s) left from last time…)\n")
    with patch_stdout(raw=True) if interactive else _nothing():
        async for raw in _prompted("you> ") if interactive else _lines(sys.stdin):
            text = raw.strip()
            if not text:
                continue
            command = text.lower()
            if command in QUIT:
                break
            if command in COMMANDS:
                if await inbox.receive(message(text, COMMANDS[command]), respond=_show) is Receipt.STOPPED:
                    # The waiting questions will never be answered: wait only for answers
                    # already on their way (one being written out now counts when it comes).
                    expected = outbound.asked = outbound.delivered
                continue
            # A question a person has (a takeover) reaches them; no answer is waited for.
            # At a terminal the prompt stays open meanwhile (answers appear above it), so
            # the person can type /stop while waiting.
            if await inbox.receive(message(text)) is Receipt.ACCEPTED and not outbound.by_person:
                expected += 1
                outbound.asked = expected
        await outbound.wait_for(expected)
    return outbound.failed
