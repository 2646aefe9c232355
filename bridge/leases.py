"""Lanes and their leases on a shared database (several replicas on PostgreSQL).

A lane works on its conversation only while it can prove it holds the conversation's
lease. Every claim and renewal the database confirms proves it for ``lane_proof``
seconds, counted from when the statement was *sent* (the database started the lease no
earlier); a lane not proven again by then stops (its task is cancelled), a margin before
the lease runs out and another replica may take the conversation over. Renewals run on
their own loop, each bounded, so a slow database (a table lock, a full pool) stops lanes
in time rather than letting two replicas work one conversation; taking over unattended
conversations is a loop of its own. The store fences every step that matters by the
lease besides (``LeaseLost``), for a lane that would write after its stop.

On a one-process store (SQLite) every claim is granted and nothing here runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from bridge.config import ServiceConfig
from bridge.errors import ShuttingDown, StoreError
from bridge.ports.store import StorePort

log = logging.getLogger(__name__)


@dataclass
class Lane:
    task: asyncio.Task[None] | None = None
    wake: bool = True
    held: bool = False  # holds the conversation's lease (always granted on a one-process store)
    claims: int = 0  # how often it took the lease: a renewal only judges the claim it saw
    guard: asyncio.TimerHandle | None = None  # stops the lane when its lease is no longer proven


class Leases:
    """The leases of one service's lanes (``lanes``, which the service keeps)."""

    def __init__(
        self,
        store: StorePort,
        config: ServiceConfig,
        lanes: dict[int, Lane],
        *,
        sleep: Callable[[float], Awaitable[None]],
        wake: Callable[[int], None],
        platforms: Iterable[str],
    ) -> None:
        self._store, self._config, self._lanes = store, config, lanes
        self._sleep = sleep  # raises ShuttingDown when the service stops
        self._wake, self._platforms = wake, platforms

    async def claim(self, conversation_id: int, lane: Lane) -> bool:
        """Take the conversation's lease for this lane; False if another replica holds it."""
        sent = asyncio.get_running_loop().time()
        if not await self._store.claim_lane(conversation_id, self._config.lane_lease):
            return False
        lane.held = True
        lane.claims += 1
        self._proven(conversation_id, lane, sent)
        return True

    def _proven(self, conversation_id: int, lane: Lane, sent: float) -> None:
        if not self._store.shared:
            return
        if lane.guard is not None:
            lane.guard.cancel()
        lane.guard = asyncio.get_running_loop().call_at(
            sent + self._config.lane_proof, self._unproven, conversation_id, lane, lane.claims
        )

    def _unproven(self, conversation_id: int, lane: Lane, claims: int) -> None:
        if lane.held and lane.claims == claims and self._lanes.get(conversation_id) is lane:
            log.warning(
                "conversation=%d lease not confirmed in time (the database is slow or unreachable): "
                "lane stopped before another replica may take it over",
                conversation_id,
            )
            self._stop(lane)

    @staticmethod
    def _stop(lane: Lane) -> None:
        lane.held = False
        if lane.guard is not None:
            lane.guard.cancel()
        if lane.task is not None:
            lane.task.cancel()  # it posts and writes nothing after this

    async def keep(self) -> None:
        """Renew our lanes' leases every ``lane_renew`` seconds, each renewal bounded by as
        long (waiting for a pooled connection included). A renewed lease is proven further;
        a lane taken over stops at once; one whose renewals fail or lag stops when its
        proof runs out."""
        lease, every = self._config.lane_lease, self._config.lane_renew
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self._sleep(every)
            except ShuttingDown:
                return
            held = {cid: (lane, lane.claims) for cid, lane in self._lanes.items() if lane.held}
            if not held:
                continue
            sent = loop.time()
            try:
                async with asyncio.timeout(every):
                    kept = await self._store.renew_lanes(held, lease)
            except (StoreError, TimeoutError) as exc:
                reason = str(exc) if isinstance(exc, StoreError) else f"no answer within {every:g}s"
                log.warning("lane leases not renewed (%s); lanes stop unless a renewal succeeds in time", reason)
                continue
            for cid, (lane, claims) in held.items():
                # A lane that let go during the renewal (its work done), or let go and took
                # the lease again (a fresh claim), is not judged by this renewal.
                if not lane.held or lane.claims != claims or self._lanes.get(cid) is not lane:
                    continue
                if cid in kept:
                    self._proven(cid, lane, sent)
                else:
                    log.warning("conversation=%d lease lost; another replica takes it over", cid)
                    self._stop(lane)

    async def take_over(self) -> None:
        """Every ``lane_scan`` seconds, wake a lane for each conversation no live lane holds
        (a replica died or stopped). Apart from the renewals: a slow scan never delays them."""
        while True:
            try:
                await self._sleep(self._config.lane_scan)
            except ShuttingDown:
                return
            try:
                for cid in await self._store.unclaimed_conversations(self._platforms):
                    if cid not in self._lanes:
                        self._wake(cid)
            except StoreError as exc:
                log.warning("could not look for unattended conversations: %s", exc)
