"""A full disk under SQLite's write-ahead log: the store stops writing, gives the log back
once it can, and goes on.

Every commit appends to the log (``b.db-wal``); a checkpoint copies the log into the
database file, which grows into free space, and only a log wholly copied is started over.
On a full volume the copy cannot grow the file, so the log is never started over, and
when space comes back the lanes' retried writes append to the log until it has taken that
space too, before a checkpoint (every second) can use it: a 4 MB volume that a burst had
filled stayed full for good after 2.5 MB of it were freed, the log grown into them.

So, after SQLite reports the disk full, the store refuses every call at once with
``DiskFull`` (callers wait and retry, as for any outage: nothing stored is lost) and, now
and then (``bridge.backoff.DISK_FULL``), on its own thread, tries
``wal_checkpoint(TRUNCATE)``: the log copied into the database and cut to nothing. When
that works the store takes calls again. One log line says the disk is full, one that it
has space again; ``/healthz`` says "full" meanwhile.

And so that a burst on a small volume never fills it with the log in the first place, the
store's own fallback checkpoint (``store.checkpoint``) comes at a quarter of the volume's
free space when that is less than ``FALLBACK_PAGES``: a log of that size plus the pages it
adds to the database fit in what is free (a 2 MB volume filled with its log in the
second before the first periodic checkpoint).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bridge.backoff import DISK_FULL
from bridge.errors import DiskFull
from store.checkpoint import FALLBACK_PAGES

log = logging.getLogger(__name__)

T = TypeVar("T")

FEWEST_PAGES = 64  # the log's fallback checkpoint never comes sooner (256 KB of 4 KiB pages)
REFUSED = "the disk under the SQLite database is full; writes wait for space (nothing stored is lost)"


def log_pages(conn: sqlite3.Connection, path: Path) -> int:
    """The log's size (in pages) at which the store's own connection checkpoints: a
    quarter of the free space, between ``FEWEST_PAGES`` and ``FALLBACK_PAGES``."""
    page = int(conn.execute("PRAGMA page_size").fetchone()[0])
    try:
        stats = os.statvfs(path.parent)
    except (OSError, AttributeError):  # no statvfs (Windows): SQLite's usual sizes
        return FALLBACK_PAGES
    return max(FEWEST_PAGES, min(FALLBACK_PAGES, stats.f_bavail * stats.f_frsize // 4 // page))


def limit_log(conn: sqlite3.Connection, path: Path) -> None:
    """Set the fallback checkpoint for the space free now, and cut a log that grew past it
    (a long transaction) back to that size each time it is started over."""
    pages = log_pages(conn, path)
    conn.execute(f"PRAGMA wal_autocheckpoint={pages}")
    page = int(conn.execute("PRAGMA page_size").fetchone()[0])
    conn.execute(f"PRAGMA journal_size_limit={pages * page}")


class SpaceGuard:
    """Runs each of the store's calls on its thread; see the module's docstring."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.conn: sqlite3.Connection | None = None  # the store's, once open
        self._path = path
        self._clock = clock
        self._full_since: float | None = None
        self._tries = 0
        self._next_try = 0.0

    @property
    def full(self) -> bool:
        return self._full_since is not None

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        conn = self.conn
        if conn is None:  # opening: the schema's own errors say what is wrong
            return fn(*args)
        if self._full_since is not None and not self._recovered(conn):
            raise DiskFull(REFUSED)
        try:
            return fn(*args)
        except sqlite3.Error as exc:
            if (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF == sqlite3.SQLITE_FULL:
                self._filled(conn)
            raise

    def _filled(self, conn: sqlite3.Connection) -> None:
        self._full_since = self._clock()
        self._tries = 0
        log.error(
            "the disk under %s is full (%s): SQLite cannot copy its write-ahead log (%s) into the database. "
            "The bridge stops writing and goes on by itself once there is space: free some on that volume "
            "or make it bigger. Questions wait meanwhile; none is lost.",
            self._path,
            _free(self._path),
            _size(self._path.with_name(self._path.name + "-wal")),
        )
        self._recovered(conn)  # the log may be copied at once (the write failed for want of a little)

    def _recovered(self, conn: sqlite3.Connection) -> bool:
        """Try to copy the whole log into the database and cut it to nothing, at most now
        and then: on a full disk each try writes until the space runs out."""
        now = self._clock()
        if now < self._next_try:
            return False
        self._tries += 1
        self._next_try = now + DISK_FULL.wait(self._tries)
        try:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error:
            return False
        if busy:  # a reader held the log (the checkpoint thread): next time
            return False
        since, self._full_since = self._full_since, None
        limit_log(conn, self._path)  # for the space there is now
        log.warning(
            "%s has space again (%s) after %.0f s: the write-ahead log is copied into it; the bridge goes on",
            self._path,
            _free(self._path),
            now - (since if since is not None else now),
        )
        return True


def _free(path: Path) -> str:
    try:
        stats = os.statvfs(path.parent)
    except (OSError, AttributeError):
        return "free space unknown"
    return f"{_mb(stats.f_bavail * stats.f_frsize)} free"


def _size(file: Path) -> str:
    try:
        return _mb(file.stat().st_size)
    except OSError:
        return "size unknown"


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f} MB"
