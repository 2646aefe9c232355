"""A log line for a failure that is retried every second or so (a full disk, a database
outage): the first one, then at most one a minute, counting those not logged since.

While the SQLite volume was full, every lane's retry and every fetch of the same Telegram
update logged the same warning, burying the one line the store logs about the outage
itself (what is full and what to do, then that it has space again). The retries go on as
before; only their lines are thinned out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

EVERY = 60.0  # seconds: at most one line this often per ``Repeats``


class Repeats:
    """One call site's repeated warning (``log`` as ``Logger.log``); not thread-safe (one
    event loop)."""

    def __init__(
        self, logger: logging.Logger, *, every: float = EVERY, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._logger = logger
        self._every = every
        self._clock = clock
        self._last: float | None = None  # when a line was last logged
        self._more = 0  # occurrences since then, not logged

    def log(self, level: int, msg: str, *args: object) -> None:
        now = self._clock()
        last = self._last
        if last is not None and now - last < self._every:
            self._more += 1
            return
        if self._more and last is not None:
            msg += " (and %d more like it in the last %.0f s)"
            args = (*args, self._more, now - last)
        # stacklevel: the record names the caller's file and line, not this one.
        self._logger.log(level, msg, *args, stacklevel=2)
        self._last, self._more = now, 0
