"""Housekeeping in PostgreSQL: expired rows deleted in batches, then the tables they came
from vacuumed so their space is used again. A mixin of ``PostgresStore``, which provides
its pool and clock.

A deleted row's space can be reused only once VACUUM has marked it free; until then new
rows go to new pages and a table that loses as many rows as it gains (event ids,
questions) keeps growing. Autovacuum gets there only after a fifth of a table's rows are
dead (its default scale factor): at a million stored turns, days of deletions. So after
each round the replica that did it vacuums the tables it deleted from: plain VACUUM, whose
lock blocks no read or write (never VACUUM FULL, which rewrites the table under an
exclusive lock), throttled like autovacuum (``COST_DELAY``) so it leaves the server's disk
to the turns, skipping a table someone else (another replica, autovacuum) is vacuuming.
Empty pages at a table's end go back to the disk; for that VACUUM holds the table a
moment and yields at once to any statement that waits for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import asyncpg

from store import housekeeping
from store.housekeeping import Sizer
from store.pg_migrations import HOUSEKEEPING_LOCK, LOCK_NAMESPACE
from store.pg_pool import Pool, guarded

COST_DELAY = 2  # ms VACUUM sleeps each time it has done its share of I/O (autovacuum's default)
VACUUM_TIMEOUT = 600.0  # seconds: a throttled VACUUM of a large table outlasts a statement's timeout


class PgHousekeeping:
    _clock: Callable[[], float]

    @property
    def pool(self) -> Pool:
        raise NotImplementedError

    async def purge(self, keep_finished_for: float, keep_people_for: float | None = None) -> None:
        """Forget expired event keys, kept answers, long-finished questions and (PEOPLE_DAYS)
        people gone in small batches (``store.housekeeping``: short transactions, no long
        row locks), then vacuum; one replica at a time (the others skip this round rather
        than queue behind it)."""
        emptied: list[str] = []
        for step, cutoff in housekeeping.steps(self._clock(), keep_finished_for, keep_people_for):
            deleted = await self._delete(step, cutoff)
            if deleted is None:
                return
            if deleted and step.table not in emptied:
                emptied.append(step.table)
        await self._vacuum(emptied)

    async def _delete(self, step: housekeeping.Step, cutoff: float) -> int | None:
        """Batches of ``step`` until none is full: the rows deleted (None: another replica
        holds the housekeeping lock)."""
        sql, size, total = step.sql("$1", "$2"), Sizer(), 0
        while True:
            began = time.perf_counter()
            async with self.pool.transaction() as conn:
                if not await conn.fetchval(
                    "SELECT pg_try_advisory_xact_lock($1, $2)", LOCK_NAMESPACE, HOUSEKEEPING_LOCK
                ):
                    return None
                deleted = int((await conn.execute(sql, cutoff, asked := size.size)).split()[-1])
            size.took(time.perf_counter() - began, deleted)
            total += deleted
            if deleted < asked:
                return total
            await asyncio.sleep(housekeeping.PAUSE)

    async def own_connection(self) -> asyncpg.Connection:
        raise NotImplementedError

    async def _vacuum(self, tables: list[str]) -> None:
        """Make the space of these tables' dead rows reusable (and their empty end pages the disk's).

        On a connection of its own, closed after: a throttled VACUUM of a large table runs for
        minutes, and on a pooled connection it would leave a small pool (DATABASE_POOL_SIZE=1
        is allowed) without one for turns and lease renewals all that time."""
        if not tables:
            return
        conn = await self.own_connection()
        try:
            with guarded():  # VACUUM runs only outside a transaction
                await conn.execute(f"SET vacuum_cost_delay = {COST_DELAY}")
                await conn.execute(f"VACUUM (SKIP_LOCKED) {', '.join(tables)}", timeout=VACUUM_TIMEOUT)
        finally:
            await conn.close()  # the session's setting goes with it
