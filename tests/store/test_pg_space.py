"""PostgreSQL uses the space of what housekeeping deleted again (``store.pg_housekeeping``)."""

from __future__ import annotations

from store.postgres import PostgresStore
from tests.pgserver import PgServer
from tests.store.test_store import Clock


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
