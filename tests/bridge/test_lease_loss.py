"""A replica cut off from the database stops its own lanes before another may take over."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Collection, Iterable
from typing import Any

from adapters.raia.simulator import RaiaSimulator
from bridge.app.database import parse_database_url
from bridge.app.runtime import agent_of
from bridge.errors import StoreUnavailable
from bridge.ports.inbox import Receipt
from bridge.service import ConversationService
from store.postgres import PostgresStore
from tests.conftest import API_KEY, FAST, message, started
from tests.fakes.outbound import RecordingOutbound
from tests.pgserver import PgServer


class CutOff:
    """A store whose lane leases fail once ``cut`` is set (the replica lost the database for
    them: it can neither renew, nor claim again, nor scan); the rest passes through."""

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        self.cut = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def _check(self) -> None:
        if self.cut:
            raise StoreUnavailable("database unreachable")

    async def renew_lanes(self, conversation_ids: Collection[int], ttl: float) -> set[int]:
        self._check()
        return await self._store.renew_lanes(conversation_ids, ttl)

    async def claim_lane(self, conversation_id: int, ttl: float) -> bool:
        self._check()
        return await self._store.claim_lane(conversation_id, ttl)

    async def unclaimed_conversations(self, platforms: Iterable[str]) -> list[int]:
        self._check()
        return await self._store.unclaimed_conversations(platforms)


async def test_a_replica_that_cannot_renew_stops_and_another_finishes_once(pg_server: PgServer) -> None:
    """Replica A works on a question, then cannot renew its lease: it cancels its own lane
    (before the lease runs out), replica B takes the conversation over and answers it once,
    raia asked once."""
    url = await pg_server.new_database()
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 4.0)
    config = dataclasses.replace(FAST, lane_lease=1.5, lane_scan=0.3)
    out_a, out_b = RecordingOutbound(), RecordingOutbound()
    async with parse_database_url(url).store() as real, started(sim, url, RecordingOutbound()) as rt:
        assert isinstance(real, PostgresStore)
        store = CutOff(real)
        a = ConversationService(store, agent_of(rt.agent), config)
        a.register(out_a)
        await a.start()
        try:
            assert await a.receive(message("slow one")) is Receipt.ACCEPTED
            async with asyncio.timeout(5):
                while not sim.count("POST", "/messages/async"):
                    await asyncio.sleep(0.02)
            assert await real.pool.fetchval("SELECT lane_owner FROM conversations") == real.owner
            async with started(sim, url, out_b, lane_lease=1.5, lane_scan=0.3):
                store.cut = True  # A keeps polling raia but can no longer prove it holds the lease
                await out_b.wait_for(1)
        finally:
            await a.stop(1.0)
    assert out_a.posted == []  # A stopped its lane itself
    assert sim.count("POST", "/messages/async") == 1  # B found the message, never asked again
