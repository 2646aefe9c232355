"""Files an agent returns with hostile names, saved by the terminal (``raia-bridge chat``,
a real process) under its temporary folder: every file is saved whole, each to a path of
its own inside that folder, and the line that names it holds no control character. A
name the file system refuses, or a disk that refuses the bytes, leaves that one file out
with its line (the chat never hangs retrying it) and the next file still comes."""

from __future__ import annotations

import asyncio
import os
import resource
import sys
from pathlib import Path

from adapters.raia.demo_agent import MadeFile, SimAnswer
from adapters.raia.simulator import RaiaSimulator
from tests.conftest import API_KEY
from tests.fakes.server import serving

LONG = "é" * 300 + ".csv"  # 600 bytes: over every file system's 255-byte name limit
HOSTILE = [
    (LONG, b"long"),
    ("report.csv", b"first report"),
    ("report.csv", b"second report"),  # the same name: must not overwrite the first
    ("../../escape.csv", b"escape"),
    ("..", b"dots"),
    ("\x1b[2J\u202eclear\x00.csv", b"control"),  # clears the screen, flips the text, a zero byte
]


async def _chat(tmp_path: Path, files: list[tuple[str, bytes]], file_limit: int | None = None) -> tuple[int, str]:
    """One question to ``raia-bridge chat`` whose answer carries ``files``; its exit code
    and output. ``file_limit``: the process may write no file bigger (RLIMIT_FSIZE: the
    disk refuses the rest, as a full one would)."""
    made = [MadeFile(name, "text/csv", data) for name, data in files]
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 0.05, answer=lambda _: SimAnswer("Here.", made=made))

    def limited() -> None:
        if file_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    async with serving(sim) as base:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RAIA_", "SLACK_", "TELEGRAM_"))}
        env.update(RAIA_API_KEY=API_KEY, RAIA_BASE_URL=base, DATABASE_URL=f"sqlite:///{tmp_path / 'b.db'}",
                   RAIA_POLL_INTERVAL="0.1", TMPDIR=str(tmp_path / "tmp"))  # fmt: skip
        (tmp_path / "tmp").mkdir()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bridge", "chat", cwd=tmp_path, env=env, preexec_fn=limited,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            out, err = await asyncio.wait_for(proc.communicate(b"files please\n"), timeout=60)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert proc.returncode is not None
    assert "Traceback" not in err.decode(), err.decode()[-2000:]
    return proc.returncode, out.decode()


def _saved(out: str) -> list[Path]:
    return [Path(line.rsplit(": ", 1)[1]) for line in out.splitlines() if line.startswith("📎") and ": /" in line]


async def test_every_hostile_name_is_saved_whole_in_a_path_of_its_own_inside_the_folder(tmp_path: Path) -> None:
    code, out = await _chat(tmp_path, HOSTILE)
    assert code == 0, out
    paths = _saved(out)
    (folder,) = (tmp_path / "tmp").iterdir()
    assert [p.read_bytes() for p in paths] == [data for _, data in HOSTILE], out
    assert len(set(paths)) == len(HOSTILE)  # none saved over another
    assert all(p.parent == folder and len(p.name.encode()) <= 255 for p in paths)
    assert sorted(folder.iterdir()) == sorted(paths)  # nothing written anywhere else
    assert not {"\x1b", "\u202e", "\x00"} & set(out)  # the lines cannot drive the terminal


async def test_a_disk_that_refuses_a_file_leaves_it_out_with_its_line_and_the_next_one_comes(tmp_path: Path) -> None:
    """The first file is over what the disk takes (EFBIG, as ENOSPC would be): its line
    says it could not be sent, its partial copy is removed, the next file is saved, and
    the chat ends instead of retrying the first for ever."""
    big = b"x" * (4 << 20)
    code, out = await _chat(tmp_path, [("big.csv", big), ("small.csv", b"small")], file_limit=2 << 20)
    assert "couldn't send you big.csv" in out, out
    (small,) = _saved(out)
    assert small.read_bytes() == b"small"
    (folder,) = (tmp_path / "tmp").iterdir()
    assert list(folder.iterdir()) == [small]
    assert code == 0


async def test_an_answer_cannot_drive_the_terminal(tmp_path: Path) -> None:
    """Escape sequences in the answer or its sources (clear the screen, write the clipboard
    with OSC 52, retitle the window) are not printed; the words around them are."""
    evil = "before \x1b[2J\x1b]52;c;ZXZpbA==\x07\x1b]0;pwned\x07\x9b31m after"
    sim = RaiaSimulator(
        api_key=API_KEY,
        delay=lambda _: 0.05,
        answer=lambda _: SimAnswer(evil, urls=[{"url": "https://e.com/\x1b[31m", "title": "T\x1b]0;x\x07itle"}]),
    )
    async with serving(sim) as base:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RAIA_", "SLACK_", "TELEGRAM_"))}
        env.update(RAIA_API_KEY=API_KEY, RAIA_BASE_URL=base, DATABASE_URL=f"sqlite:///{tmp_path / 'b.db'}",
                   RAIA_POLL_INTERVAL="0.1")  # fmt: skip
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bridge", "chat", cwd=tmp_path, env=env,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(b"hello\n"), timeout=60)
    text = out.decode()
    assert proc.returncode == 0, err.decode()
    assert "before  after" in text, text
    assert "[1] Title — https://e.com/" in text, text
    assert not {"\x1b", "\x07", "\x9b"} & set(text), repr(text)
