"""SQLite's WAL checkpoints on a thread of their own, not the store's.

By default SQLite copies the write-ahead log back into the database file (a checkpoint,
with an fsync) inside whichever commit pushes the log past 1,000 pages: on the store's only
thread, where every acknowledgement waits behind it (15-45 ms each while housekeeping
deletes a day's turns; ``bench/housekeeping.py``). Here a second connection checkpoints
every ``EVERY`` seconds in PASSIVE mode, which never waits for, nor blocks, the store's
reads and writes; the store's own connection checkpoints only if the log passes
``FALLBACK_PAGES`` (should this thread fall behind or fail).

Housekeeping, the one long writer, waits for a checkpoint now and then (``catch_up``). A
log is started over only by a write that finds all of it copied, and a pass that copies a
lot rarely ends before an acknowledgement's commit adds a page: with one or three passes
the log grew to ``FALLBACK_PAGES`` regardless, and the fallback copied 1,000-1,500 pages on
the store's thread, holding every acknowledgement for 75-160 ms. So a catch-up goes on
with short passes (the pages that came in during the last one, and a sync) until one ends
with nothing new, when the next write starts the log over; the checkpoint every second
does the same, so a burst's stream of commits does not grow the log to the fallback either.
Finishing the copy on the store's thread instead costs that sync there: 1-60 ms on a busy
disk.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

EVERY = 1.0  # seconds between checkpoints (one on an idle log costs next to nothing)
CATCH_UP_PASSES = 8  # a pass copies what was written during the last one (a few pages)
FALLBACK_PAGES = 16_000  # the store's connection checkpoints itself past this (about 64 MB of log)


class Checkpointer:
    """Started once the database is set up, stopped before the store's connection closes
    (whose close then checkpoints the rest and removes the log)."""

    def __init__(self, path: Path, busy_timeout: float) -> None:
        self._path = path
        self._busy_timeout = busy_timeout
        self._stop = threading.Event()
        self._lock = threading.Lock()  # the periodic checkpoint and ``catch_up`` share the connection
        self._conn: sqlite3.Connection | None = None
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)

    def start(self) -> None:
        try:
            self._conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            self._conn.execute(f"PRAGMA busy_timeout={round(self._busy_timeout * 1000)}")
        except sqlite3.Error as exc:
            log.warning("WAL checkpoints stay on the store's thread: %s", exc)
            return
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    async def catch_up(self) -> None:
        """Checkpoint now, on a worker thread. A log written to without pause (housekeeping's
        batches) is never wholly checkpointed, so it is never started over and grows until
        the store's fallback checkpoint stalls everything: housekeeping waits for this now
        and then, and the next write starts the log over."""
        await asyncio.to_thread(self._checkpoint, CATCH_UP_PASSES)

    def _run(self) -> None:
        while not self._stop.wait(EVERY):
            self._checkpoint(CATCH_UP_PASSES)  # an idle log: two passes that copy nothing

    def _checkpoint(self, passes: int) -> None:
        """PASSIVE passes until the log is wholly copied (a pass sees it no longer than the
        last one did: nothing came in meanwhile) or started over (shorter)."""
        seen = -1
        with self._lock:
            for _ in range(passes):
                if self._conn is None:
                    return
                try:
                    ((_, frames, _),) = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # a full disk, a lock held too long: next time
                    full = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF == sqlite3.SQLITE_FULL
                    # A full disk is the store's to tell, once (store.sqlite_full), not every second.
                    log.log(logging.DEBUG if full else logging.WARNING, "WAL checkpoint failed: %s", exc)
                    return
                if 0 <= frames <= seen:
                    return
                seen = frames
