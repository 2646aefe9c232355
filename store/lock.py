"""One serving process per database file.

Two servers working on the same SQLite file would both resume the same unfinished
questions and could answer them twice. The server holds an exclusive lock on
``<database>.lock`` while it runs; a second one waits (a deploy's old instance is still
shutting down) and then gives up with a clear message. Terminal chats do not take it:
they only touch their own questions.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from types import TracebackType

from bridge.errors import InstanceLockTaken
from store.files import create_private

log = logging.getLogger(__name__)

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock; run one instance there
    fcntl = None  # type: ignore[assignment]


class InstanceLock:
    """``async with InstanceLock(path, wait=30):`` holds the lock for the block."""

    def __init__(self, database: Path, *, wait: float) -> None:
        self._database = database
        # The real file's: a second bridge given a symlink to it (or a path through one)
        # must meet the same lock.
        real = database.resolve()
        self.path = real.with_name(real.name + ".lock")
        self._wait = wait
        self._fd: int | None = None

    async def __aenter__(self) -> InstanceLock:
        await self.acquire(self._wait)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    async def acquire(self, wait: float) -> None:
        if fcntl is None:
            return
        create_private(self.path, database=self._database)
        fd = os.open(self.path, os.O_RDWR)
        announced = False
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not announced and wait > 0:
                    announced = True  # a deploy's old instance is usually stopping: say so once
                    log.warning("another raia-bridge is serving %s; waiting up to %gs for it to stop", self.path, wait)
                if asyncio.get_running_loop().time() >= deadline:
                    os.close(fd)
                    raise InstanceLockTaken(
                        f"another raia-bridge is serving {self.path.with_suffix('')} (lock {self.path}); "
                        "stop it first, or give this one its own DATABASE_URL"
                    ) from None
                await asyncio.sleep(0.25)
                continue
            self._fd = fd
            return

    def release(self) -> None:
        if self._fd is not None and fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
