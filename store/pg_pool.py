"""The PostgreSQL store's pool, as its methods use it: every call, and every transaction
block, turns the driver's errors into the core's ``StoreError`` (``store.errors``) on
the way out. The store's code reaches the database only through this (or through
``guarded`` around a connection of its own), so no asyncpg error gets past it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import asyncpg

from store.errors import PG_ERRORS, from_postgres

ACQUIRE_TIMEOUT = 15.0  # waiting for a free pooled connection under load


@contextmanager
def guarded(redact: str | None = None) -> Iterator[None]:
    """Around statements on a connection: a driver error leaves as a ``StoreError``."""
    try:
        yield
    except PG_ERRORS as exc:
        raise from_postgres(exc, redact=redact) from exc


class Pool:
    """An asyncpg pool whose calls raise ``StoreError`` instead of the driver's errors."""

    def __init__(self, pool: asyncpg.Pool, *, redact: str | None = None) -> None:
        self._pool = pool
        self._redact = redact

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        with guarded(self._redact):
            return await self._pool.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        with guarded(self._redact):
            return await self._pool.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        with guarded(self._redact):
            return await self._pool.fetchval(sql, *args)

    async def execute(self, sql: str, *args: Any) -> str:
        with guarded(self._redact):
            return await self._pool.execute(sql, *args)

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.pool.PoolConnectionProxy[asyncpg.Record]]:
        """A pooled connection for the block, outside any transaction (a setting made on it
        must be reset before the block ends: the pool hands it on as it is)."""
        with guarded(self._redact):
            async with self._pool.acquire(timeout=ACQUIRE_TIMEOUT) as conn:
                yield conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.pool.PoolConnectionProxy[asyncpg.Record]]:
        """A pooled connection in a transaction for the block: committed at its end,
        rolled back if it raises (the block's own exceptions pass through unchanged)."""
        with guarded(self._redact):
            async with self._pool.acquire(timeout=ACQUIRE_TIMEOUT) as conn, conn.transaction():
                yield conn
