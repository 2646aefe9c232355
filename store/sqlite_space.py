"""SQLite gives space back: ``auto_vacuum=INCREMENTAL``, and free pages returned in steps.

Housekeeping's deletions leave free pages in the file, which SQLite reuses but never gives
back to the disk. In INCREMENTAL mode the file keeps a map of them, and after each
housekeeping round the store truncates them away a step at a time, each sized to take a few
milliseconds (``store.housekeeping.Sizer``; other work goes between steps). The mode must
be chosen before the first table is made: a new file gets it; an existing one is rewritten
once at start (``VACUUM``) when it is small enough to be quick, and otherwise keeps reusing
its free pages (a line in the log says how to convert it while the bridge is stopped).
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)

INCREMENTAL = 2  # PRAGMA auto_vacuum's value for INCREMENTAL
FIRST_STEP = 64  # free pages given back in the first step, before their cost is known
LARGEST_STEP = 1024  # free pages given back in one step at most (4 MB of 4 KiB pages)
CONVERT_BELOW = 64 * 2**20  # an existing file smaller than this is rewritten at start (well under a second)


def before_schema(conn: sqlite3.Connection) -> None:
    """On a new (empty) file, before anything is created in it: INCREMENTAL from the start."""
    if conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0:
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")


def after_schema(conn: sqlite3.Connection, path: Path) -> None:
    """An older file without the mode: rewritten with it if small, else left (and said so)."""
    if conn.execute("PRAGMA auto_vacuum").fetchone()[0] == INCREMENTAL:
        return
    size = path.stat().st_size
    if size < CONVERT_BELOW:
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        conn.execute("VACUUM")  # takes effect only with a rewrite of the file
        return
    log.info(
        "%s (%d MB) reuses the space of deleted rows but does not give it back to the disk; to let it, "
        "stop the bridge once and run: sqlite3 %s 'PRAGMA auto_vacuum=INCREMENTAL; VACUUM;'",
        path,
        size // 2**20,
        path,
    )


def give_back(conn: sqlite3.Connection, pages: int) -> int:
    """One step: up to ``pages`` free pages cut from the file. Returns the free pages left."""
    if conn.execute("PRAGMA auto_vacuum").fetchone()[0] != INCREMENTAL:
        return 0
    # executescript steps the pragma to its end: execute() frees one page per statement.
    conn.executescript(f"PRAGMA incremental_vacuum({int(pages)})")
    return int(conn.execute("PRAGMA freelist_count").fetchone()[0])
