"""The core's ``Outbound`` port for the terminal: answers are written to a stream (plain),
or printed with ``rich`` for a person at a terminal (then ``sys.stdout`` is looked up at
each print, so the prompt line that ``prompt_toolkit`` keeps at the bottom is redrawn
under an answer that arrives while the person types)."""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.live import Live

from adapters.console.render import render, render_rich
from adapters.console.words import PLATFORM
from bridge import texts
from bridge.errors import FileUnavailable
from bridge.models import AnswerFile, Origin, PlatformUser, Reply, ReplyKind
from bridge.ports.outbound import CONVERSATION_POST, DeliveryProgress, Download, LiveText

_UNSAFE_NAME = re.compile(r"[^\w .,()+-]")  # a file name the agent chose, as a name in one folder
# Bytes of a saved file's name: every file system takes 255, and " (12)" may be added.
_NAME_BYTES = 200


class ConsoleOutbound:
    """Writes answers to the terminal and counts them, so a session can wait for its own."""

    platform = PLATFORM

    def __init__(self, out: TextIO, *, prefix: str, interactive: bool, console: Console | None = None) -> None:
        self._out = out
        self.prefix = prefix
        self._interactive = interactive
        # ``console``: where a person's terminal is drawn (tests give one of their own).
        self._console = (console or Console(soft_wrap=False, highlight=False)) if interactive else None
        self.delivered = 0
        self.failed = 0  # questions answered with the bridge's notice instead of the agent's answer
        # A person's takeover (its notices, the staff's messages): questions then reach the
        # staff, and no agent answer follows them. ``asked``: questions the session counts.
        self.by_person = False
        self.asked = 0
        self._changed = asyncio.Event()
        # Files the agent made for the answer just printed, still to come: the answer counts
        # as delivered once they are saved (or their line printed instead).
        self._files_due: list[str] = []
        self._folder: Path | None = None  # where the session's files are saved
        self._saved: dict[str, Path] = {}  # each file's path, by the agent's id (a retry writes over its own)

    max_file_bytes = 1 << 40  # a terminal takes any size: FILES_MAX_MB bounds it

    async def post_file(
        self, origin: Origin, file: AnswerFile, download: Download, *, key: str, uncertain: bool
    ) -> None:
        """Save the file under a temporary folder, a chunk at a time, and print its path.
        A file the disk refuses (full, a name it cannot take) is left out with its line:
        retrying it would hold the chat for ever."""
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="raia-bridge-files-"))
        path = (file.id and self._saved.get(file.id)) or self._free_path(self._folder, file.name)
        self._saved[file.id or str(path)] = path
        try:
            with path.open("wb") as out:
                async for chunk in download.chunks:
                    out.write(chunk)
        except OSError as exc:
            path.unlink(missing_ok=True)
            raise FileUnavailable(f"not saved: {exc.strerror}") from None
        self._write(f"📎 {_shown(file.name)}: {path}")
        self._file_done(file.id)

    def _free_path(self, folder: Path, name: str) -> Path:
        """A path in ``folder`` for a file the agent called ``name``: its name made safe and
        short enough, numbered when another file of the answer has it already."""
        name = _UNSAFE_NAME.sub("_", name).strip(". ") or "file"
        suffix = Path(name).suffix if len(Path(name).suffix) <= 16 else ""
        stem = name[: len(name) - len(suffix)].encode()[:_NAME_BYTES].decode(errors="ignore")
        path, number = folder / f"{stem}{suffix}", 1
        while path.exists() or path in self._saved.values():
            number += 1
            path = folder / f"{stem} ({number}){suffix}"
        return path

    def _write(self, line: str) -> None:
        if self._console is not None:
            self._console.print(line)
            self._console.print()
        else:
            self._out.write(f"{line}\n\n")
            self._out.flush()

    def _file_done(self, file_id: str | None) -> None:
        if file_id in self._files_due:
            self._files_due.remove(file_id)
        elif file_id is not None or not self._files_due:
            # A file of an answer printed before a restart: its answer ends with it.
            self._count_answer()
            return
        else:
            self._files_due.pop(0)  # a file's line, printed in its place
        if not self._files_due:
            self._count_answer()

    def _count_answer(self) -> None:
        self.delivered += 1
        self._changed.set()

    async def deliver(self, origin: Origin, reply: Reply, progress: DeliveryProgress) -> None:
        if self._files_due and not progress.key:  # a file's line, in the place of the file
            self._write(_shown(reply.text))
            self._file_done(None)
            return
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
        if reply.answer_files:
            self._files_due = [f.id for f in reply.answer_files]
        elif not staff:
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
        if reply.answer_files:
            self._files_due = [f.id for f in reply.answer_files]
            return
        self._count_answer()

    async def wait_for(self, count: int) -> None:
        """Until ``count`` answers were written (the session waits for its questions; those
        a person took over count as answered)."""
        while self.delivered < count:
            self._changed.clear()
            await self._changed.wait()


def _shown(name: str) -> str:
    """A name the agent chose, as printed: no control or direction mark drives the terminal."""
    return "".join(ch if ch.isprintable() else "_" for ch in name)


class _Printed:
    """A streamed answer drawn as it arrives, already as Markdown (rich's ``Live`` redraws
    the partial answer in place), then once more whole with its sources under it."""

    def __init__(self, outbound: ConsoleOutbound, language: str) -> None:
        assert outbound._console is not None
        self._outbound = outbound
        self._language = language
        # "visible": an answer taller than the terminal scrolls on instead of being cropped.
        self._live = Live(console=outbound._console, auto_refresh=False, vertical_overflow="visible")
        self._shown = ""

    async def show(self, text: str) -> None:
        if not self._shown:
            self._live.start()
        self._shown = text
        self._live.update(render_rich(Reply(text), prefix=self._outbound.prefix), refresh=True)

    async def finish(self, reply: Reply, progress: DeliveryProgress) -> None:
        if progress.done == 0:
            if not self._shown:
                self._live.start()
            self._live.update(render_rich(reply, prefix=self._outbound.prefix), refresh=True)
            self._live.stop()
            sys.stdout.write("\n")
            sys.stdout.flush()
            await progress.part_delivered(1)
        self._outbound._count(reply)

    async def abandon(self) -> None:
        if self._shown:
            self._live.stop()
            sys.stdout.write(f"\n{texts.text('cut_off', self._language)}\n\n")
            sys.stdout.flush()
