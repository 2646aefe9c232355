"""Driver errors -> the core's ``StoreError`` branch (``bridge.errors``), decided here only.

Each engine translates at its one boundary with ``raise ... from exc``: SQLite in its
thread trip (``SqliteStore._run``), PostgreSQL around every pool call (``store.pg_pool``).
Messages are one line and never hold ``DATABASE_URL``: only the driver's own message,
which names neither the URL nor the password (``redact`` masks it all the same).
"""

from __future__ import annotations

import sqlite3

import asyncpg
from asyncpg.exceptions import InternalClientError, OutdatedSchemaCacheError

from bridge.errors import DiskFull, StoreError, StoreFault, StoreUnavailable

# The database cannot take the call now; a later one may work. Everything else the
# driver reports (a damaged file, no such table, a constraint, a misuse) is a fault.
_SQLITE_UNAVAILABLE = frozenset(
    {
        sqlite3.SQLITE_BUSY,  # another process holds the write lock past the busy timeout
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_READONLY,  # the file or its volume went read-only
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,  # the disk is full
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
        sqlite3.SQLITE_PERM,
    }
)
# SQLSTATE classes (two characters) and codes: connection exception, invalid authorization,
# invalid catalog name (the database was dropped), transaction rollback (serialization,
# deadlock), insufficient resources (disk full, too many connections), operator
# intervention (shutdown, pg_terminate_backend, statement timeout), system error (I/O),
# lock not available, read-only transaction (a replica promoted/demoted under us).
_PG_UNAVAILABLE = ("08", "28", "3D", "40", "53", "57", "58", "55P03", "25006")

# What the PostgreSQL side catches at its boundary (TimeoutError and ConnectionError are OSErrors).
PG_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, InternalClientError, OSError)


def from_sqlite(exc: sqlite3.Error) -> StoreError:
    code = getattr(exc, "sqlite_errorcode", None)
    name = getattr(exc, "sqlite_errorname", None)
    text = _line(exc) + (f" ({name})" if name else "")
    if code is not None and code & 0xFF == sqlite3.SQLITE_FULL:
        return DiskFull(f"the SQLite database's disk is full: {text}")
    if code is not None and code & 0xFF in _SQLITE_UNAVAILABLE:
        return StoreUnavailable(f"the SQLite database cannot take the call now: {text}")
    return StoreFault(f"the SQLite database refused the call: {text}")


def from_postgres(exc: BaseException, *, redact: str | None = None) -> StoreError:
    text = describe(exc, redact=redact)
    if isinstance(exc, asyncpg.PostgresError):
        unavailable = (exc.sqlstate or "").startswith(_PG_UNAVAILABLE)
    elif isinstance(exc, asyncpg.InterfaceError):  # "connection is closed", "pool is closing"
        unavailable = "closed" in str(exc) or "closing" in str(exc)
    else:  # OSError (refused, reset, unreachable, timeouts), or the statement cache gone stale
        unavailable = isinstance(exc, OSError | OutdatedSchemaCacheError)
    if unavailable:
        return StoreUnavailable(f"the PostgreSQL database cannot take the call now: {text}")
    return StoreFault(f"the PostgreSQL database refused the call: {text}")


def describe(exc: BaseException, *, redact: str | None = None) -> str:
    """A driver error in one line, without the DSN (asyncpg never puts the password in
    its messages, but the caller must not add the URL either)."""
    text = _line(exc)
    if redact:
        text = text.replace(redact, "***")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""
