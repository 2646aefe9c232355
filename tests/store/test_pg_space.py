"""PostgreSQL uses the space of what housekeeping deleted again (``store.pg_housekeeping``)."""

from __future__ import annotations

import asyncio

from store.postgres import PostgresStore
from tests.pgserver import PgServer
from tests.store.stores import Clock


async def _size(store: PostgresStore, table: str) -> int:
    return int(await store.pool.fetchval("SELECT pg_relation_size($1::regclass)", table))


async def test_a_table_that_loses_what_it_gains_does_not_grow(pg_server: PgServer) -> None:
    """Event ids come and go every round: once housekeeping has vacuumed, the next round's
    rows fill the space of the last one's, so the table stays the size one round needs.
    (Rows that stay, at the table's end, keep VACUUM from simply cutting the table short.)"""
    clock = Clock()
    async with PostgresStore(await pg_server.new_database(), clock=clock) as store:
        sizes = []
        for round_ in range(4):
            assert await store.first_sighting([f"{round_}:{i}:{'x' * 200}" for i in range(2000)], ttl=60)
            if round_ == 0:
                assert await store.first_sighting([f"stays:{i}:{'x' * 200}" for i in range(100)], ttl=10**6)
            sizes.append(await _size(store, "seen_events"))
            clock.now += 61
            await store.purge(keep_finished_for=3600)
        assert sizes[-1] <= sizes[0], sizes


async def test_the_vacuum_never_waits_for_a_pooled_connection(pg_server: PgServer) -> None:
    """A throttled VACUUM of a large table runs for minutes: on a connection of its own, so
    it never keeps a pool of one (DATABASE_POOL_SIZE=1) from the turns, nor waits for it."""
    async with PostgresStore(await pg_server.new_database(), pool_size=1) as store:
        assert await store.first_sighting([f"{i}:{'x' * 200}" for i in range(500)], ttl=60)
        before = await _size(store, "seen_events")
        async with store.pool.acquire() as busy:  # the pool's only connection, held by "a turn"
            await busy.execute("DELETE FROM seen_events")
            # Bounded only so that a regression fails instead of hanging (the pool's own
            # acquire timeout is 15 s).
            await asyncio.wait_for(store._vacuum(["seen_events"]), timeout=10)
        # It ran: the emptied table's pages went back to the disk.
        assert await _size(store, "seen_events") < before
