"""Housekeeping in SQLite: expired rows deleted and the file's space given back, a little
per trip to the store's only thread, where every acknowledgement waits behind whatever
runs. A mixin of ``SqliteStore``, which provides its thread (``_run``), connection, clock
and checkpointer.

Each trip is sized to take ``housekeeping.BUDGET`` (``housekeeping.Sizer``), trips queued
meanwhile go between two of them, and the write-ahead log is checkpointed (on the
checkpointer's thread) before it grows long enough for SQLite to checkpoint it in one of
our commits (``store.checkpoint``). ``bench/housekeeping.py`` measures what an
acknowledgement waits meanwhile.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

from store import housekeeping, sqlite_space
from store.checkpoint import Checkpointer
from store.housekeeping import Sizer

T = TypeVar("T")

# Housekeeping waits for a checkpoint after this much of its work on the store's thread
# (seconds): a few thousand pages of log at most, copied off the thread in tens of ms.
CATCH_UP_AFTER = 0.02


class Housekeeping:
    _clock: Callable[[], float]
    _checkpoints: Checkpointer | None

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        raise NotImplementedError

    @property
    def _db(self) -> sqlite3.Connection:
        raise NotImplementedError

    async def purge(self, keep_finished_for: float, keep_people_for: float | None = None) -> None:
        """Forget expired event keys, kept answers, long-finished questions and (PEOPLE_DAYS)
        people gone, then give the space back (``store.sqlite_space``)."""
        for step, cutoff in housekeeping.steps(self._clock(), keep_finished_for, keep_people_for):
            sql = step.sql("?", "?")

            def delete(rows: int, sql: str = sql, cutoff: float = cutoff) -> tuple[int, bool]:
                deleted = int(self._db.execute(sql, (cutoff, rows)).rowcount)
                return deleted, deleted >= rows  # a full batch: there may be more

            await self._stepwise(Sizer(), delete)
        space = Sizer(sqlite_space.FIRST_STEP, sqlite_space.LARGEST_STEP)

        def give_back(pages: int) -> tuple[int, bool]:
            before = int(self._db.execute("PRAGMA freelist_count").fetchone()[0])
            left = sqlite_space.give_back(self._db, pages)
            return before - left, left > 0

        await self._stepwise(space, give_back)

    async def _stepwise(self, size: Sizer, step: Callable[[int], tuple[int, bool]]) -> None:
        """Trips of ``step`` (given the units to do, it returns those it did and whether
        any may be left) until none is left, each sized by the time the last one took."""
        unchecked = 0.0  # work since the last checkpoint: about the log it wrote
        while True:
            more, took = await self._run(self._timed, size, step)
            if not more:
                return
            await asyncio.sleep(housekeeping.PAUSE)
            unchecked += took
            if unchecked >= CATCH_UP_AFTER and self._checkpoints is not None:
                await self._checkpoints.catch_up()
                unchecked = 0.0

    @staticmethod
    def _timed(size: Sizer, step: Callable[[int], tuple[int, bool]]) -> tuple[bool, float]:
        """On the store's thread: one step, timed there (the time acknowledgements wait)."""
        began = time.perf_counter()
        done, more = step(size.size)
        took = time.perf_counter() - began
        size.took(took, done)
        return more, took
