"""What PostgreSQL adds for replicas: steps fenced by the lane lease, one clock for all
replicas (the server's), and hints between replicas that survive a lost connection."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from bridge.app import push
from bridge.errors import LeaseLost
from bridge.models import QuestionState, Reply
from bridge.push import PushHints
from store.pg_clock import ServerClock
from store.postgres import PostgresStore
from tests.conftest import message
from tests.pgserver import PgServer


async def test_a_lifes_steps_take_effect_only_under_the_lease(pg_server: PgServer) -> None:
    """Every step that decides what is posted or sent is written only by the replica that
    holds the conversation's live lease; any other gets LeaseLost and writes nothing."""
    url = await pg_server.new_database()
    async with PostgresStore(url, owner="a") as a, PostgresStore(url, owner="b") as b:
        q = await a.record_question(message("x"), ttl=60)
        assert q is not None
        cid = q.conversation_id
        answer = Reply("the answer", message_id="m-answer")
        steps: dict[str, Callable[[PostgresStore], Awaitable[object]]] = {
            "note_send_attempt": lambda s: s.note_send_attempt(q.id),
            "mark_sent": lambda s: s.mark_sent(q.id, "m1"),
            "mark_finished": lambda s: s.mark_finished(q.id, QuestionState.ANSWERED, Reply("late")),
            "mark_finished kept": lambda s: s.mark_finished(q.id, QuestionState.ANSWERED, answer, keep_until=2e9),
            "mark_parts_delivered": lambda s: s.mark_parts_delivered(q.id, 1),
            "mark_delivered": lambda s: s.mark_delivered(q.id),
        }
        for name, step in steps.items():  # no lease at all
            with pytest.raises(LeaseLost, match=f"question {q.id}:"):
                await step(a)
            assert await a.question(q.id) == q, name  # nothing written
        assert await a.kept_answer(q.id) is None
        assert await a.claim_lane(cid, ttl=60)
        for name, step in steps.items():  # b never held it
            with pytest.raises(LeaseLost):
                await step(b)
            assert await a.question(q.id) == q, name
        await a.pool.execute("UPDATE conversations SET lane_until = lane_until - 120")  # a's lease ran out
        with pytest.raises(LeaseLost):
            await a.mark_sent(q.id, "m1")
        assert await b.claim_lane(cid, ttl=60)  # ... and b took the conversation over
        for step in steps.values():
            with pytest.raises(LeaseLost):
                await step(a)
        assert await a.question(q.id) == q
        await b.mark_sent(q.id, "m2")
        await b.mark_finished(q.id, QuestionState.ANSWERED, answer, keep_until=2e9)
        await b.mark_parts_delivered(q.id, 1)
        await b.mark_delivered(q.id)
        done = await a.question(q.id)
        assert (done.state, done.agent_message_id, done.parts_delivered) == (QuestionState.DELIVERED, "m2", 1)
        assert await a.kept_answer(q.id) is not None
        await b.mark_delivered(q.id + 1000)  # a question that is not there: nothing, as on SQLite


async def test_a_step_held_up_past_its_lease_is_not_written(pg_server: PgServer) -> None:
    """The lease is judged when the step is written, not when it was sent: a step held up
    by a table lock while the lease ran out and another replica took over writes nothing."""
    url = await pg_server.new_database()
    async with PostgresStore(url, owner="a") as a, PostgresStore(url, owner="b") as b:
        q = await a.record_question(message("x"), ttl=60)
        assert q is not None
        assert await a.claim_lane(q.conversation_id, ttl=60)
        blocker = await asyncpg.connect(url)
        try:
            await blocker.execute("BEGIN; LOCK TABLE questions IN ACCESS EXCLUSIVE MODE")
            step = asyncio.create_task(a.mark_sent(q.id, "m1"))  # waits for the lock, lease checked
            async with asyncio.timeout(10):
                while not await blocker.fetchval(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'questions'::regclass"
                ):
                    await asyncio.sleep(0.01)
            await a.pool.execute("UPDATE conversations SET lane_until = lane_until - 120")  # expires meanwhile
            claim = asyncio.create_task(b.claim_lane(q.conversation_id, ttl=60))
            await blocker.execute("COMMIT")
            with pytest.raises(LeaseLost):
                await step  # the lease had run out when the step could be written
            assert await claim
        finally:
            await blocker.close()
        assert (await a.question(q.id)).state is QuestionState.RECEIVED


async def test_replicas_with_skewed_clocks_store_the_databases_time(pg_server: PgServer) -> None:
    """Two replicas whose own clocks are ten minutes apart store times from one clock, the
    database server's (measured against it when the store opens)."""
    url = await pg_server.new_database()
    ahead = PostgresStore(url, local_clock=lambda: time.time() + 600)
    behind = PostgresStore(url, local_clock=lambda: time.time() - 600)
    async with ahead, behind:
        server = float(await ahead.pool.fetchval("SELECT extract(epoch from clock_timestamp())"))
        assert abs(ahead.clock() - server) < 2
        assert abs(behind.clock() - server) < 2
        q = await ahead.record_question(message("x"), ttl=60)
        assert q is not None
        assert abs(q.created_at - server) < 2
        started = await behind.mark_started(q.id)
        assert abs(started - server) < 2
    fixed = PostgresStore(url, clock=lambda: 1000.0)  # a test's own clock is kept as given
    async with fixed:
        assert fixed.clock() == 1000.0


async def test_the_offset_is_measured_again_and_a_slow_measurement_is_not_taken() -> None:
    """The host's clock may be stepped while the bridge runs: the next measurement follows
    it. One whose round trip was long (a slow database) is too blurred to take."""
    local = [100.0]
    server = [5000.0]

    async def read(rtt: float) -> float:
        local[0] += rtt / 2
        value = server[0]
        local[0] += rtt / 2
        return value

    clock = ServerClock(lambda: local[0])
    assert await clock.measure(lambda: read(5.0))  # the first is taken however slow
    assert clock() == 5000.0 + 2.5
    local[0] += 30  # the host's clock stepped half a minute ahead
    assert clock() == 5000.0 + 32.5
    assert not await clock.measure(lambda: read(3.0))
    assert await clock.measure(lambda: read(0.1))
    assert clock() == pytest.approx(5000.0 + 0.05)


async def test_hints_are_heard_again_after_the_listening_connection_is_lost(pg_server: PgServer) -> None:
    """The connection that hears other replicas' hints is ended by the server (a restart, a
    failover, pg_terminate_backend): it is opened again, and a hint published afterwards
    still wakes the poller waiting for it."""
    url = await pg_server.new_database()
    hints = PushHints()
    async with PostgresStore(url) as store, push.listening(store, {"": hints}):
        relay = push.shared(store)
        listener = await _listener(store)
        assert listener is not None
        await store.pool.execute("SELECT pg_terminate_backend($1)", listener)
        async with asyncio.timeout(10):  # opened again, after a short (jittered) wait
            while (again := await _listener(store)) in (None, listener):
                await asyncio.sleep(0.02)
        waiting = asyncio.create_task(hints.wait(["conv-1", "msg-1"], 30.0, asyncio.sleep))
        await relay(["msg-1"])
        assert await asyncio.wait_for(waiting, 5) is True
    assert again != listener


async def test_a_relayed_hint_wakes_only_its_own_agents_pollers(pg_server: PgServer) -> None:
    """ROUTES_FILE: a push for agent hr, relayed between replicas, reaches hr's hints and
    not the other agents' (the ids are hints; which agent they are for is the path's)."""
    url = await pg_server.new_database()
    hints = {"": PushHints(), "helpdesk": PushHints(), "hr": PushHints()}
    async with PostgresStore(url) as store, push.listening(store, hints):
        waiting = asyncio.create_task(hints["hr"].wait(["conv-1"], 30.0, asyncio.sleep))
        await push.shared(store, "hr")(["conv-1"])
        assert await asyncio.wait_for(waiting, 5) is True
    assert [each.received for each in hints.values()] == [0, 0, 1]


async def _listener(store: PostgresStore) -> int | None:
    """The server process of the connection listening for hints, if there is one."""
    value = await store.pool.fetchval(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'"
    )
    return int(value) if value is not None else None
