"""The real program (``python -m bridge``) as a process of its own, for the scenarios that
signal, kill or restart it."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.conftest import API_KEY
from tests.fakes import telegram as tg


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def can_mount() -> bool:
    """A private mount namespace with a tmpfs of its own (root with CAP_SYS_ADMIN)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    probe = [unshare, "--mount", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"]
    return subprocess.run(probe, capture_output=True, timeout=30, check=False).returncode == 0  # noqa: S603


def on_volume(path: Path, size: str) -> list[str]:
    """A wrapper for ``start_bridge``: the program sees a tmpfs of ``size`` (``2m``) at
    ``path``, in a mount namespace of its own (read from outside at ``/proc/PID/root``)."""
    return ["unshare", "--mount", "sh", "-c", f'mount -t tmpfs -o size={size} tmpfs {path} && exec "$0" "$@"']


async def start_bridge(
    env: dict[str, str], cwd: Path, *, wrapper: list[str] | None = None, stderr: int | None = None
) -> asyncio.subprocess.Process:
    """``python -m bridge`` (run by ``wrapper``); ``stderr``: a file's descriptor, else a pipe."""
    return await asyncio.create_subprocess_exec(
        *(wrapper or ()), sys.executable, "-m", "bridge", cwd=cwd, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE if stderr is None else stderr,
    )  # fmt: skip


@asynccontextmanager
async def bridge_process(
    env: dict[str, str], cwd: Path, stop: signal.Signals = signal.SIGTERM
) -> AsyncIterator[asyncio.subprocess.Process]:
    """The program running for the block, then sent ``stop`` and waited for (its
    ``returncode`` is there to check after the block)."""
    process = await start_bridge(env, cwd)
    try:
        yield process
    finally:
        process.send_signal(stop)
        await asyncio.wait_for(process.communicate(), timeout=20)


def telegram_env(raia: str, telegram_api: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a bridge serving Telegram (long polling) against ``raia`` on a
    SQLite file in ``tmp_path``; the caller's own bridge settings are left out."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAIA_", "SLACK_", "TELEGRAM_", "HANDOFF"))}
    return env | {
        "RAIA_API_KEY": API_KEY,
        "RAIA_BASE_URL": raia,
        "RAIA_POLL_INTERVAL": "0.1",
        "TELEGRAM_BOT_TOKEN": tg.TOKEN,
        "TELEGRAM_API_URL": f"{telegram_api}/bot",
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}",
        "SHUTDOWN_TIMEOUT": "2",
        **extra,
    }
