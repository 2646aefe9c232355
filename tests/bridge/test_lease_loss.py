"""A replica that cannot prove its lease (the database is cut off, slow or locked) stops its
own lanes before another may take over; a step written without the lease is refused and
stops the lane at once."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator, Collection, Iterable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest

from adapters.raia.simulator import RaiaSimulator
from bridge.app.database import parse_database_url
from bridge.app.runtime import agent_of
from bridge.errors import StoreUnavailable
from bridge.models import QuestionState
from bridge.ports.inbox import Receipt
from bridge.service import ConversationService
from store.postgres import PostgresStore
from tests.conftest import API_KEY, FAST, message, started
from tests.fakes.outbound import RecordingOutbound
from tests.pgserver import PgServer


class CutOff:
    """A store whose lane leases fail once ``cut`` is set (the replica lost the database for
    them: it can neither renew, nor claim again, nor scan), or never answer once ``stall``
    is set (its pool is exhausted, or the database is that slow), or only its scans never
    answer once ``stall_scan`` is set; the rest passes through."""

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        self.cut = False
        self.stall = False
        self.stall_scan = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def _check(self) -> None:
        if self.cut:
            raise StoreUnavailable("database unreachable")
        if self.stall:
            await asyncio.Event().wait()  # no answer, ever (cancellable)

    async def renew_lanes(self, conversation_ids: Collection[int], ttl: float) -> set[int]:
        await self._check()
        return await self._store.renew_lanes(conversation_ids, ttl)

    async def claim_lane(self, conversation_id: int, ttl: float) -> bool:
        await self._check()
        return await self._store.claim_lane(conversation_id, ttl)

    async def unclaimed_conversations(self, platforms: Iterable[str]) -> list[int]:
        await self._check()
        if self.stall_scan:
            await asyncio.Event().wait()
        return await self._store.unclaimed_conversations(platforms)


@asynccontextmanager
async def replica_a(
    url: str, sim: RaiaSimulator, out: RecordingOutbound
) -> AsyncIterator[tuple[ConversationService, CutOff, PostgresStore]]:
    """Replica A (leases of 1.5 s, a scan every 0.3 s) on the database at ``url`` behind a
    ``CutOff`` store, asking ``sim``; stopped on exit."""
    config = dataclasses.replace(FAST, lane_lease=1.5, lane_scan=0.3)
    async with parse_database_url(url).store() as real, started(sim, url, RecordingOutbound()) as rt:
        assert isinstance(real, PostgresStore)
        store = CutOff(real)
        a = ConversationService(store, agent_of(rt.agent), config, clock=real.clock)
        a.register(out)
        await a.start()
        try:
            yield a, store, real
        finally:
            await a.stop(1.0)


async def test_a_replica_that_cannot_renew_stops_and_another_finishes_once(pg_server: PgServer) -> None:
    """Replica A works on a question, then cannot renew its lease: it cancels its own lane
    (before the lease runs out), replica B takes the conversation over and answers it once,
    raia asked once."""
    url = await pg_server.new_database()
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 4.0)
    out_a, out_b = RecordingOutbound(), RecordingOutbound()
    async with replica_a(url, sim, out_a) as (a, store, real):
        assert await a.receive(message("slow one")) is Receipt.ACCEPTED
        async with asyncio.timeout(5):
            while not sim.count("POST", "/messages/async"):
                await asyncio.sleep(0.02)
        assert await real.pool.fetchval("SELECT lane_owner FROM conversations") == real.owner
        async with started(sim, url, out_b, lane_lease=1.5, lane_scan=0.3):
            store.cut = True  # A keeps polling raia but can no longer prove it holds the lease
            await out_b.wait_for(1)
    assert out_a.posted == []  # A stopped its lane itself
    assert sim.count("POST", "/messages/async") == 1  # B found the message, never asked again


async def test_a_replica_whose_renewals_get_no_answer_stops_before_another_takes_over(
    pg_server: PgServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Replica A's renewals wait and wait (its pool is exhausted; nothing fails outright):
    A cannot prove its lease, so it stops its lane before the lease runs out, not when a
    write is refused later; replica B takes the conversation over and answers it once,
    raia asked once, A never posts."""
    url = await pg_server.new_database()
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 3.0)
    out_a, out_b = RecordingOutbound(), RecordingOutbound()
    async with replica_a(url, sim, out_a) as (a, store, _):
        assert await a.receive(message("slow one")) is Receipt.ACCEPTED
        async with asyncio.timeout(5):
            while not sim.count("POST", "/messages/async"):
                await asyncio.sleep(0.02)
        store.stall = True
        async with started(sim, url, out_b, lane_lease=1.5, lane_scan=0.3):
            await out_b.wait_for(1)
            await _lanes_done()
    assert out_a.posted == []
    assert len(out_b.posted) == 1
    assert sim.count("POST", "/messages/async") == 1
    assert "conversation=1 lease not confirmed in time" in caplog.text
    assert "another replica holds" not in caplog.text  # stopped before it could write too late


async def test_a_scan_that_gets_no_answer_never_holds_up_renewals(
    pg_server: PgServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Looking for unattended conversations hangs on replica A (a slow query): its renewals
    go on regardless, so A keeps its lane and answers; B never takes the conversation."""
    url = await pg_server.new_database()
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 2.5)
    out_a, out_b = RecordingOutbound(), RecordingOutbound()
    async with replica_a(url, sim, out_a) as (a, store, _):
        store.stall_scan = True  # from the first scan after the start on
        async with started(sim, url, out_b, lane_lease=1.5, lane_scan=0.3):
            assert await a.receive(message("slow one")) is Receipt.ACCEPTED
            await out_a.wait_for(1)
            await _lanes_done()
    assert len(out_a.posted) == 1
    assert out_b.posted == []
    assert "lease not confirmed" not in caplog.text
    assert "lease lost" not in caplog.text


async def test_a_step_without_the_lease_stops_the_lane_without_retry_or_notice(
    pg_server: PgServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Another replica holds the conversation's lease when A's lane records the answer (A was
    paused past its lease, say): the store refuses the step (LeaseLost) and the lane stops
    there: it posts nothing, no notice, and leaves the question to the lease's holder."""
    url = await pg_server.new_database()
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 1.0)
    out = RecordingOutbound()
    async with started(sim, url, out, lane_lease=60.0) as rt:  # no renewal comes in between
        assert await rt.service.receive(message("question")) is Receipt.ACCEPTED
        # Wait until the send is recorded (not only seen by raia): taking the lease before
        # that would make the send's own step the one refused.
        async with asyncio.timeout(5):
            while (await rt.store.question(1)).state is not QuestionState.SENT:
                await asyncio.sleep(0.02)
        assert isinstance(rt.store, PostgresStore)
        await rt.store.pool.execute(
            "UPDATE conversations SET lane_owner = 'another-replica', lane_until = lane_until + 60"
        )
        await _lanes_done()
        q = await rt.store.question(1)
    assert out.posted == []
    assert q.state is QuestionState.SENT  # nothing written over the holder's work
    assert "conversation=1 lane stopped: question 1: another replica holds its conversation's lane" in caplog.text
    assert "lane error" not in caplog.text  # not taken for a failure to retry


async def test_a_table_lock_longer_than_the_lease_stops_the_lane_in_time(
    pg_server: PgServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The lanes' table is locked (a migration, a stuck transaction) past a lease: the
    replica working on a question cannot renew, stops its lane before the lease ends, and
    posts nothing while it cannot prove it holds it; after the lock, one replica answers
    once and raia was asked once."""
    url = await pg_server.new_database()
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 2.0)
    out_a, out_b = RecordingOutbound(), RecordingOutbound()
    async with (
        started(sim, url, out_a, lane_lease=1.5, lane_scan=0.3) as a,
        started(sim, url, out_b, lane_lease=1.5, lane_scan=0.3),
    ):
        assert await a.service.receive(message("question")) is Receipt.ACCEPTED
        async with asyncio.timeout(5):
            while not sim.count("POST", "/messages/async"):
                await asyncio.sleep(0.02)
        blocker = await asyncpg.connect(url)
        try:
            await blocker.execute("BEGIN; LOCK TABLE conversations IN ACCESS EXCLUSIVE MODE")
            async with asyncio.timeout(10):
                while "lease not confirmed in time" not in caplog.text:
                    await asyncio.sleep(0.02)
                while not await blocker.fetchval(  # past the lease, on the database's clock
                    "SELECT bool_and(lane_until < extract(epoch from clock_timestamp())) FROM conversations"
                ):
                    await asyncio.sleep(0.02)
            posted_while_locked = len(out_a.posted) + len(out_b.posted)
            await blocker.execute("COMMIT")
        finally:
            await blocker.close()
        async with asyncio.timeout(10):
            while len(out_a.posted) + len(out_b.posted) < 1:
                await asyncio.sleep(0.02)
        await _lanes_done()
    assert posted_while_locked == 0
    assert len(out_a.posted) + len(out_b.posted) == 1
    assert sim.count("POST", "/messages/async") == 1


async def _lanes_done() -> None:
    """Until no lane of any service in this process is running."""
    async with asyncio.timeout(15):
        while any(re.fullmatch(r"lane-\d+", t.get_name()) and not t.done() for t in asyncio.all_tasks()):
            await asyncio.sleep(0.02)
