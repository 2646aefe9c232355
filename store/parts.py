"""What a part of a store (a mixin of ``SqliteStore`` or ``PostgresStore``) uses of it,
declared once: the store itself provides each."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from store.pg_pool import Pool

T = TypeVar("T")


class SqlitePart:
    _clock: Callable[[], float]

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        """One trip to the store's thread."""
        raise NotImplementedError

    @property
    def _db(self) -> sqlite3.Connection:
        raise NotImplementedError


class PgPart:
    _clock: Callable[[], float]

    @property
    def pool(self) -> Pool:
        raise NotImplementedError
