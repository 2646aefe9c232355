"""The processes a load benchmark starts (bridges, the raia simulator, fake platforms) and
what it reads from them: readiness, CPU time, resident memory."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
import time
from pathlib import Path

import aiohttp
import psutil

from tests.pgserver import PgServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Child:
    """A process this benchmark started; its stderr goes to a log file."""

    def __init__(self, name: str, args: list[str], cwd: Path, base: str, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.base = base  # http://127.0.0.1:PORT
        self.log_path = cwd / f"{name}.log"
        with self.log_path.open("w") as log:
            self.popen = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=log)  # noqa: S603
        self.ps = psutil.Process(self.popen.pid)

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    async def ready(self, path: str, timeout: float = 40) -> None:
        async with asyncio.timeout(timeout), aiohttp.ClientSession() as http:
            while True:
                if self.popen.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{self.log_tail()}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(self.base + path) as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.05)


def stop_all(children: list[Child], timeout: float = 15) -> None:
    """SIGTERM to all at once, then wait; whoever is still there after ``timeout`` gets SIGKILL."""
    for child in children:
        if child.popen.poll() is None:
            child.popen.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.popen.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.popen.kill()
            child.popen.wait(5)


def cpu_of(processes: list[psutil.Process]) -> dict[int, float]:
    """User + system seconds of each process that is still there, by pid."""
    found = {}
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            times = process.cpu_times()
            found[process.pid] = times.user + times.system
    return found


class PostgresCpu:
    """CPU of the PostgreSQL server: the postmaster and its children (backends, checkpointer...)."""

    def __init__(self, server: PgServer) -> None:
        self.root = psutil.Process(int((server.directory / "postmaster.pid").read_text().split()[0]))

    def snapshot(self) -> dict[int, float]:
        return cpu_of([self.root, *self.root.children(recursive=True)])

    def since(self, before: dict[int, float]) -> float:
        # A backend that ended within the span is missed; the bridges keep pooled connections.
        return sum(seconds - before.get(pid, 0.0) for pid, seconds in self.snapshot().items())


class RssPeak:
    """Samples each bridge's resident memory every 0.1 s while a round runs."""

    def __init__(self, processes: list[psutil.Process]) -> None:
        self.processes = processes
        self.peak = [0] * len(processes)
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            for i, process in enumerate(self.processes):
                with contextlib.suppress(psutil.NoSuchProcess):
                    self.peak[i] = max(self.peak[i], process.memory_info().rss)
            await asyncio.sleep(0.1)

    def __enter__(self) -> RssPeak:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
