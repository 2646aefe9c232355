"""A PostgreSQL store call is its own statements and nothing more (``store.postgres.keep_session``)."""

from __future__ import annotations

from typing import Any

from store.postgres import PostgresStore
from tests.pgserver import PgServer


async def test_a_pooled_connection_goes_back_without_a_reset_round_trip(pg_server: PgServer) -> None:
    """asyncpg resets a connection at each release with a statement of its own (a round trip
    per store call); the store's pool hands connections back as they are."""
    async with PostgresStore(await pg_server.new_database(), pool_size=1) as store:  # one connection: the same
        sent: list[str] = []

        def logged(query: Any) -> None:
            sent.append(query.query)

        async with store.pool.acquire() as conn:
            conn.add_query_logger(logged)
        await store.count_open()
        await store.first_sighting(["k"], ttl=60)
        assert any("questions" in q for q in sent), sent  # the logger sees the store's statements
        assert not [q for q in sent if "RESET ALL" in q or "UNLISTEN" in q], sent
