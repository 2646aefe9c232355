"""Two services on one PostgreSQL database, as two replicas are: one lane per conversation."""

from __future__ import annotations

import asyncio
import time

from adapters.raia.simulator import RaiaSimulator
from bridge.models import QuestionState, ReplyKind
from bridge.ports.inbox import Receipt
from tests import waiting
from tests.conftest import API_KEY, message, started
from tests.fakes.outbound import RecordingOutbound
from tests.pgserver import PgServer


async def test_a_question_for_a_conversation_another_replica_works_on_goes_to_that_lane(
    pg_server: PgServer,
) -> None:
    """Replica B takes a follow-up while replica A is answering the first question of the
    same conversation: A's lane answers both, in order; raia gets each once."""
    url = await pg_server.new_database()
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 0.4)
    out_a, out_b = RecordingOutbound(), RecordingOutbound()
    # A lease long enough that a loaded machine's late renewals (every fifth of it, each
    # given as long) never let it run out: nothing here is about a lease lost.
    async with (
        started(sim, url, out_a, lane_lease=5.0, lane_scan=0.2) as a,
        started(sim, url, out_b, lane_lease=5.0, lane_scan=0.2) as b,
    ):
        assert await a.service.receive(message("first")) is Receipt.ACCEPTED
        async with asyncio.timeout(5):
            while not sim.count("POST", "/messages/async"):
                await asyncio.sleep(0.01)
        assert await b.service.receive(message("second")) is Receipt.ACCEPTED
        await out_a.wait_for(2)
        await waiting.idle(a)
        await waiting.idle(b)
    assert ["**first**" in r.text for r in out_a.replies] == [True, False]
    assert "**second**" in out_a.replies[1].text
    assert out_b.posted == []
    assert sim.count("POST", "/messages/async") == 2


async def test_a_stopped_replica_hands_its_conversation_over(pg_server: PgServer) -> None:
    """A replica stopping mid-answer lets its lease go: the other replica finishes the turn
    (looking for the message in raia first, never asking twice) and answers once."""
    url = await pg_server.new_database()
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 1.0)
    out_a, out_b = RecordingOutbound(), RecordingOutbound()
    async with started(sim, url, out_b, lane_lease=1.0, lane_scan=0.2) as b:
        async with started(sim, url, out_a, lane_lease=1.0, lane_scan=0.2) as a:
            assert await a.service.receive(message("long one")) is Receipt.ACCEPTED
            async with asyncio.timeout(5):
                while not sim.count("POST", "/messages/async"):
                    await asyncio.sleep(0.01)
        # a stopped here (its lane cut off while waiting for the answer)
        await out_b.wait_for(1)
        async with asyncio.timeout(5):
            while await b.store.count_open():
                await asyncio.sleep(0.01)
        assert (await b.store.question(1)).state is QuestionState.DELIVERED
    assert out_a.posted == []
    assert sim.count("POST", "/messages/async") == 1


async def test_a_replica_whose_clock_is_minutes_off_answers_a_question_it_takes_over(pg_server: PgServer) -> None:
    """Replica A's host clock is ten minutes slow, replica B's ten minutes fast. A starts a
    question and stops mid-answer; B takes it over and answers it, not "took too long":
    both keep time by the database's clock, so B judges A's start time rightly."""
    url = await pg_server.new_database()
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 1.5)
    out_a, out_b = RecordingOutbound(), RecordingOutbound()
    fast, slow = (lambda: time.time() + 600), (lambda: time.time() - 600)
    async with started(sim, url, out_b, lane_lease=1.0, lane_scan=0.2, local_clock=fast) as b:
        async with started(sim, url, out_a, lane_lease=1.0, lane_scan=0.2, local_clock=slow) as a:
            assert await a.service.receive(message("long one")) is Receipt.ACCEPTED
            async with asyncio.timeout(5):
                while not sim.count("POST", "/messages/async"):
                    await asyncio.sleep(0.01)
        await out_b.wait_for(1)

        async def delivered() -> bool:  # recorded just after the post
            return (await b.store.question(1)).state is QuestionState.DELIVERED

        await waiting.until(delivered, what="question 1 delivered")
    assert out_a.posted == []
    assert [p.reply.kind for p in out_b.posted] == [ReplyKind.ANSWER]
    assert "**long one**" in out_b.posted[0].reply.text
    assert sim.count("POST", "/messages/async") == 1
