"""Background tasks: a database failure is one line saying so, a bug keeps its traceback."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bridge.errors import StoreUnavailable
from bridge.tasks import TaskSet


async def test_a_task_stopped_by_the_database_is_one_line_saying_nothing_is_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """At a connection limit hundreds of lanes fail a minute: each is one line, without a
    traceback, naming the database and saying the work is kept."""

    async def lane() -> None:
        raise StoreUnavailable("the PostgreSQL database cannot take the call now: TooManyConnectionsError")

    async def bug() -> None:
        raise RuntimeError("a bug")

    tasks = TaskSet()
    with caplog.at_level(logging.WARNING, logger="bridge.tasks"):
        await asyncio.gather(tasks.spawn(lane(), name="lane-7"), return_exceptions=True)
        await asyncio.gather(tasks.spawn(bug(), name="other"), return_exceptions=True)
    stopped, failed = caplog.records
    assert stopped.levelno == logging.WARNING
    assert stopped.exc_info is None
    assert stopped.getMessage() == (
        "background task lane-7 stopped: the database failed (StoreUnavailable: the PostgreSQL database cannot "
        "take the call now: TooManyConnectionsError); nothing is lost, its work stays stored and is taken up again"
    )
    assert (failed.levelno, failed.getMessage()) == (logging.ERROR, "background task other failed")
    assert failed.exc_info is not None  # a bug keeps its traceback


async def test_drain_waits_for_tasks_started_while_shutting_down() -> None:
    """A task that starts another on its way out (a watch posting, a command's notice):
    the shutdown waits for that one too instead of leaving it unawaited."""
    tasks = TaskSet()
    finished: list[str] = []
    release = asyncio.Event()

    async def follow_up() -> None:
        await asyncio.sleep(0)
        finished.append("follow-up")

    async def first() -> None:
        await release.wait()
        tasks.spawn(follow_up(), name="follow-up")
        finished.append("first")

    tasks.spawn(first(), name="first")
    asyncio.get_running_loop().call_soon(release.set)
    assert await tasks.drain(5.0) == 0
    assert finished == ["first", "follow-up"]
    assert len(tasks) == 0


async def test_drain_cancels_what_outlives_the_timeout() -> None:
    tasks = TaskSet()
    forever = tasks.spawn(asyncio.Event().wait(), name="forever")
    assert await tasks.drain(0.05) == 1
    assert forever.cancelled()
