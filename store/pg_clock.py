"""The database server's clock, read without a round trip: this process's clock plus the
offset between the two, measured when the store opens and again every minute.

Replicas compare times that other replicas wrote (when a question was started, sent,
attempted; when a lease ends), and their own clocks may disagree by minutes (a host
without NTP, a paused VM). Reading every such time from the one clock they share, the
server's, makes them agree up to half a round trip.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bridge.errors import StoreError
from store.pg_pool import Pool
from store.pg_replicas import NOW

log = logging.getLogger(__name__)

EVERY = 60.0  # seconds between measurements
SHARP = 1.0  # a measurement whose round trip took longer (a slow database) is not taken, but the first
NOTABLE = 5.0  # an offset this large is worth a line in the log: the host's clock is off


class ServerClock:
    """Callable like ``time.time``: the server's time, as ``local`` corrected by the offset."""

    def __init__(self, local: Callable[[], float]) -> None:
        self._local = local
        self.offset = 0.0
        self._measured = False

    def __call__(self) -> float:
        return self._local() + self.offset

    async def measure(self, server_time: Callable[[], Awaitable[Any]]) -> bool:
        """One measurement with ``server_time`` (the server's clock, read by a statement);
        False if it was not taken (too slow to be sharp)."""
        before = self._local()
        server = float(await server_time())  # a numeric (Decimal) from the driver
        after = self._local()
        if self._measured and after - before > SHARP:
            return False
        offset = server - (before + after) / 2
        if abs(offset) >= NOTABLE and abs(offset - self.offset) >= NOTABLE:
            log.warning("this host's clock is %+.1fs off the database's; the bridge keeps the database's time", -offset)
        self.offset, self._measured = offset, True
        return True

    async def keep(self, pool: Pool) -> None:
        """Measure every ``EVERY`` seconds while the store is open (a task the store owns)."""
        while True:
            await asyncio.sleep(EVERY)
            try:
                await self.measure(lambda: pool.fetchval(f"SELECT {NOW}"))
            except StoreError as exc:  # the last offset holds meanwhile
                log.debug("database clock not measured: %s", exc)
