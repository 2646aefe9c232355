"""The terminal chat as a person uses it: prompt_toolkit reads keys, rich prints answers."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from adapters.console.outbound import ConsoleOutbound
from adapters.console.render import render, render_rich
from adapters.console.session import run_console, wrapped
from adapters.raia.simulator import RaiaSimulator
from bridge import texts
from bridge.models import FileCitation, Origin, QuestionState, Reply, ReplyKind, UrlCitation
from tests import waiting
from tests.conftest import started

ANSWER = Reply(
    "**Plans**: *Basic* and `Pro`.\n\n- monthly\n- yearly",
    urls=(UrlCitation("https://example.com/pricing", "Pricing"),),
    files=(FileCitation("f1", "handbook.pdf"),),
)


def _shown(reply: Reply) -> str:
    console = Console(file=io.StringIO(), width=80, color_system=None)
    console.print(render_rich(reply, prefix="Ada> "))
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(out, str)
    return out


def test_a_person_sees_formatted_markdown_and_numbered_sources() -> None:
    """At a terminal Markdown is rendered (no ** or backticks left) and sources are numbered;
    a script gets the text as written."""
    shown = _shown(ANSWER)
    assert "Plans: Basic and Pro." in shown
    assert "**" not in shown
    assert "`" not in shown
    assert "• monthly" in shown
    assert "[1] Pricing — https://example.com/pricing" in shown
    assert "[2] handbook.pdf" in shown
    assert render(ANSWER).startswith("**Plans**")
    notice = _shown(Reply("The agent is *busy*.", kind=ReplyKind.NOTICE))
    assert "The agent is *busy*." in notice  # the bridge's own words, shown as they are
    assert "Sources" not in notice


class _Terminal:
    """A person at the terminal chat: keys typed into prompt_toolkit, answers counted."""

    def __init__(self, keys: PipeInput, outbound: ConsoleOutbound, session: asyncio.Task[int]) -> None:
        self.keys, self.outbound, self.session = keys, outbound, session

    async def answered(self, count: int) -> None:
        async with asyncio.timeout(10):
            while self.outbound.delivered < count:
                await asyncio.sleep(0.01)


@asynccontextmanager
async def _terminal(sim: RaiaSimulator, tmp_path: Path, typed: str) -> AsyncIterator[_Terminal]:
    """The chat started with ``typed`` already at the prompt; left once the block ends."""
    outbound = ConsoleOutbound(io.StringIO(), prefix="Ada> ", interactive=True)
    with create_pipe_input() as keys, create_app_session(input=keys, output=DummyOutput()):
        async with started(sim, tmp_path / "b.db", outbound) as rt:  # type: ignore[arg-type]
            rt.service.register(outbound)
            keys.send_text(typed)
            session = asyncio.create_task(run_console(rt.service, outbound, pending=0, interactive=True))
            yield _Terminal(keys, outbound, session)
            assert await asyncio.wait_for(session, 10) == 0


async def test_interactive_chat_edits_lines_and_keeps_no_line_limit(sim: RaiaSimulator, tmp_path: Path) -> None:
    """Keys typed at the prompt (with a correction by backspace and a 6,000-character line,
    longer than a terminal's own line mode takes) become questions; Ctrl-D leaves."""
    long_question = "x" * 6000
    async with _terminal(sim, tmp_path, "helo\x7flo there\r") as person:
        await person.answered(1)
        person.keys.send_text(long_question + "\r")
        await person.answered(2)
        person.keys.send_text("\x04")  # Ctrl-D
    (conversation,) = sim.conversations
    assert sim.user_messages(conversation) == ["hello there", long_question]


async def test_ctrl_c_clears_a_half_typed_line_and_leaves_from_an_empty_one(sim: RaiaSimulator, tmp_path: Path) -> None:
    """Ctrl-C with text at the prompt drops the text and keeps the chat (as a REPL does);
    Ctrl-C on an empty line leaves, like /quit."""
    async with _terminal(sim, tmp_path, "half a thought\x03what I meant\r") as person:
        await person.answered(1)
        assert not person.session.done()
        person.keys.send_text("\x03")  # Ctrl-C on the empty line
    (conversation,) = sim.conversations
    assert sim.user_messages(conversation) == ["what I meant"]


def test_help_wraps_between_words_at_the_terminal_width() -> None:
    """The greeting and /help, printed as they are, would break mid-word at 80 columns."""
    help_text = texts.text("console_start", "en", agent="Ada (demo agent)", help=texts.text("console_help", "en"))
    lines = wrapped(help_text, 80).splitlines()
    assert len(lines) > 1
    assert all(len(line) < 80 for line in lines)
    assert " ".join(lines) == help_text  # every break is between two words
    assert wrapped("- a list item that goes on and on past the edge", 20).splitlines()[1].startswith("  ")
    assert wrapped(help_text, 0) == help_text  # not a terminal: as it is


class _FirstTime:
    """Delivery progress of a reply never posted before."""

    done, key, uncertain = 0, "reply-1", False
    parts = 0

    async def part_delivered(self, count: int) -> None:
        self.parts = count


async def test_a_streamed_answer_is_drawn_as_markdown_while_it_arrives() -> None:
    """A streaming backend's words appear at once, already formatted (no raw ** on the
    screen), and the finished answer gets its sources under it."""
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=60, color_system=None)
    outbound = ConsoleOutbound(io.StringIO(), prefix="Ada> ", interactive=True, console=terminal)
    live = outbound.live(Origin(chat="terminal"))
    assert live is not None
    await live.show("You can get a **full refund")
    assert "You can get a **full refund" in screen.getvalue()  # the unclosed ** is still text
    await live.show("You can get a **full refund** within 14 days")
    assert "You can get a full refund within 14 days" in screen.getvalue()
    progress = _FirstTime()
    await live.finish(Reply("You can get a **full refund** within 14 days.", urls=ANSWER.urls), progress)
    drawn = screen.getvalue()
    assert "Sources:" in drawn
    assert "Pricing — https://example.com/pricing" in drawn
    assert "**full refund** within" not in drawn
    assert progress.parts == 1
    assert outbound.delivered == 1


async def test_stop_at_the_prompt_while_the_agent_thinks(sim: RaiaSimulator, tmp_path: Path) -> None:
    """The prompt stays open while the agent thinks: /stop there stops the question (one
    line says so), and leaving does not wait for an answer that will never come."""
    sim.delay = lambda text: 3600.0 if text.startswith("slow") else 0.01
    outbound = ConsoleOutbound(io.StringIO(), prefix="Ada> ", interactive=True)
    with create_pipe_input() as keys, create_app_session(input=keys, output=DummyOutput()):
        async with started(sim, tmp_path / "b.db", outbound) as rt:  # type: ignore[arg-type]
            rt.service.register(outbound)
            keys.send_text("slow question\r")
            session = asyncio.create_task(run_console(rt.service, outbound, pending=0, interactive=True))
            await waiting.until(lambda: len(sim.questions) == 1, what="the question at the agent")
            keys.send_text("/stop\r")

            async def stopped() -> bool:
                return (await rt.store.question(1)).state is QuestionState.STOPPED

            await waiting.until(stopped, what="the question stopped")
            for question in sim.questions.values():
                question["ready_at"] = 0.0
            keys.send_text("\x04")  # Ctrl-D
            assert await asyncio.wait_for(session, 10) == 0
            await waiting.idle(rt)
    assert outbound.delivered == 0
