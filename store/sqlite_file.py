"""Opening the SQLite file: the connection's settings and the schema (``store.migrations``),
and ``check``'s look at a file without changing it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bridge.errors import DatabaseUnavailable
from store import sqlite_space
from store.files import create_private, unusable
from store.migrations import Transaction, migrate
from store.sqlite_full import limit_log


def connect(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """The store's connection, its schema up to date. Raises ``DatabaseUnavailable``."""
    create_private(path)
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.DatabaseError as exc:  # not a database, unreadable, or its disk is full
        if conn is not None:
            conn.close()
        raise unusable(path, exc, "not a usable SQLite database") from None
    try:
        conn.row_factory = sqlite3.Row
        sqlite_space.before_schema(conn)  # a new file gives space back (store.sqlite_space)
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable across a process crash in WAL mode (only an OS crash can lose
        # the last transactions), which is the failure a PaaS restart produces.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"PRAGMA busy_timeout={round(busy_timeout * 1000)}")
        conn.execute("PRAGMA foreign_keys=ON")
        # Checkpoints run on a thread of their own (``store.checkpoint``), not in our
        # commits, unless the log grows past what the volume has room for (``store.sqlite_full``).
        limit_log(conn, path)
        with Transaction(conn) as db:
            migrate(db)
        sqlite_space.after_schema(conn, path)
    except sqlite3.Error as exc:  # locked past the busy timeout, read-only, full...
        conn.close()
        raise unusable(path, exc, "could not set up the schema") from None
    return conn


def inspect(path: Path) -> str:
    """For ``check``: read the file's schema version without creating or changing it.
    Raises ``DatabaseUnavailable`` with one line."""
    if not path.exists():
        if not path.parent.is_dir():
            raise DatabaseUnavailable(f"{path.parent}/ does not exist (a mistyped volume path?)")
        return f"SQLite {path} does not exist yet (created at first start)"
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            made = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_version'").fetchone()
            version = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] if made else None
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise DatabaseUnavailable(f"{path} is not a usable SQLite database: {exc}") from None
    return f"SQLite {path}, schema {version}" if version else f"SQLite {path}, empty"
