"""Tracked background tasks: nothing is fire-and-forget, everything is drained."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, Protocol

from bridge.errors import StoreError

log = logging.getLogger(__name__)


class Spawn(Protocol):
    """``TaskSet.spawn``, for parts that start tracked tasks without owning the set."""

    def __call__(self, coro: Coroutine[Any, Any, Any], *, name: str) -> object: ...


class TaskSet:
    """Keeps a strong reference to every task, logs failures, drains on shutdown."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, StoreError):
            # The database, not a bug (at a connection limit there are hundreds a minute):
            # one line each. What the task was doing is in the database: a lane's questions
            # are taken up again (the next message, the scan for unattended conversations,
            # or the next start).
            log.warning(
                "background task %s stopped: the database failed (%s: %s); nothing is lost, its work "
                "stays stored and is taken up again",
                task.get_name(),
                type(exc).__name__,
                exc,
            )
        elif exc is not None:
            log.error("background task %s failed", task.get_name(), exc_info=exc)

    def __len__(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float) -> int:
        """Wait up to ``timeout`` for running tasks, and for tasks they start meanwhile (a
        watch that posts, a notice a command spawns), then cancel the rest.
        Returns how many had to be cancelled."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._tasks and (left := deadline - loop.time()) > 0:
            await asyncio.wait(set(self._tasks), timeout=left)
        pending = set(self._tasks)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=2.0)
        return len(pending)
