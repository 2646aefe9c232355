"""The service across restarts, crashes and failed deliveries, against the raia simulator
and a recording outbound: nothing sent or posted twice, nothing lost."""

from __future__ import annotations

import asyncio
import logging

import pytest

from adapters.raia.client import RaiaClient
from adapters.raia.simulator import RaiaSimulator
from bridge.app.runtime import Runtime, open_runtime
from bridge.backoff import Backoff
from bridge.errors import DeliveryPermanent, DeliveryRetryable
from bridge.models import QuestionState, ReplyKind
from bridge.ports.agent import NewUser
from tests import waiting
from tests.conftest import FAST, make_settings, message, started
from tests.fakes.outbound import RecordingOutbound


@pytest.fixture
def db_path(database: str) -> str:
    """On both engines: a SQLite file and a real PostgreSQL database."""
    return database


async def test_ambiguous_send_is_not_repeated(
    runtime: Runtime, sim: RaiaSimulator, outbound: RecordingOutbound
) -> None:
    """A send that raia stored but answered 500 is found in the message list, not sent twice."""
    sim.fail("POST", "/messages/async", 500, apply=True)
    await runtime.service.receive(message("only once please"))
    await outbound.wait_for(1)
    (conversation,) = sim.conversations
    assert sim.user_messages(conversation) == ["only once please"]
    assert sim.count("POST", "/messages/async") == 1
    assert outbound.replies[0].kind is ReplyKind.ANSWER


async def test_stopped_mid_wait_then_restarted_delivers_exactly_once(
    sim: RaiaSimulator, raia_url: str, db_path: str, outbound: RecordingOutbound, caplog: pytest.LogCaptureFixture
) -> None:
    """A question sent before shutdown is polled after restart and answered exactly once;
    the shutdown logs no error and no traceback (it is not one)."""
    caplog.set_level(logging.WARNING)
    sim.delay = lambda _: 0.5
    settings = make_settings(raia_base_url=raia_url)
    async with open_runtime(settings, database=db_path, config=FAST) as rt:
        rt.service.register(outbound)
        await rt.service.start()
        await rt.service.receive(message("survive a restart"))
        async with asyncio.timeout(5):
            while (await rt.store.question(1)).state is not QuestionState.SENT:
                await asyncio.sleep(0.01)
        await rt.service.stop(1.0)
        assert (await rt.store.question(1)).state is QuestionState.SENT
    assert outbound.replies == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []
    async with open_runtime(settings, database=db_path, config=FAST) as rt:
        rt.service.register(outbound)
        assert await rt.service.start() == 1
        await outbound.wait_for(1)
        await waiting.idle(rt)
        await rt.service.stop(1.0)
    assert len(outbound.replies) == 1
    assert sim.count("POST", "/messages/async") == 1


async def test_crash_between_send_and_record_does_not_send_twice(
    sim: RaiaSimulator, raia_url: str, db_path: str, outbound: RecordingOutbound
) -> None:
    """After a crash that left a question 'received' but already at raia, resume finds it instead of resending."""
    settings = make_settings(raia_base_url=raia_url)
    # What a kill -9 right after the POST leaves behind: the attempt noted, no message id stored.
    async with open_runtime(settings, database=db_path, config=FAST) as rt:
        record = await rt.store.record_question(message("crash test"), ttl=60)
        assert record is not None
        assert isinstance(rt.agent, RaiaClient)
        user_id = await rt.agent.find_or_create_user(NewUser("test:u1", "Ann", "Lee", {}))
        await rt.store.save_agent_user("test:u1", user_id)
        conversation = await rt.agent.create_conversation(user_id, "t", {})
        await rt.store.set_agent_conversation(record.conversation_id, conversation)
        assert await rt.store.claim_lane(record.conversation_id, 30)  # as the crashed lane held it
        await rt.store.note_send_attempt(record.id)
        await rt.agent.send_message(conversation, "crash test")
        await rt.store.release_lane(record.conversation_id)
    async with started(sim, db_path, outbound):
        await outbound.wait_for(1)
    assert sim.user_messages(conversation) == ["crash test"]
    assert outbound.replies[0].kind is ReplyKind.ANSWER


async def test_unsent_question_is_sent_after_restart(
    sim: RaiaSimulator, raia_url: str, db_path: str, outbound: RecordingOutbound
) -> None:
    """A question recorded but never sent (crash before the send) is sent at the next start."""
    async with open_runtime(make_settings(raia_base_url=raia_url), database=db_path, config=FAST) as rt:
        await rt.store.record_question(message("never sent"), ttl=60)
    async with started(sim, db_path, outbound):
        await outbound.wait_for(1)
    assert sim.count("POST", "/messages/async") == 1
    assert sim.count("GET", "/messages") == 0  # never attempted: no need to look first


async def test_delivery_failure_is_retried_without_reposting(runtime: Runtime, outbound: RecordingOutbound) -> None:
    """A retryable delivery failure keeps the answer and retries; parts already posted are not repeated."""
    outbound.parts = 3
    outbound.failures = [(1, DeliveryRetryable("rate limited", retry_after=0.01)), (2, RuntimeError("flaky"))]
    await runtime.service.receive(message("long answer"))
    async with asyncio.timeout(5):
        while len(outbound.posted) < 3:
            await asyncio.sleep(0.01)
    await waiting.idle(runtime)
    assert [p.part for p in outbound.posted] == [0, 1, 2]
    record = await runtime.store.question(1)
    assert record.state is QuestionState.DELIVERED
    assert record.text == ""
    assert record.reply is None


async def test_a_delivery_cut_by_a_restart_resumes_after_the_parts_posted(
    sim: RaiaSimulator, db_path: str, outbound: RecordingOutbound
) -> None:
    """Each posted part is recorded: a bridge stopped between two parts (a deploy) posts
    only the rest at its next start."""
    first = RecordingOutbound(parts=3, failures=[(1, DeliveryRetryable("rate limited", maybe_posted=False))])
    async with started(sim, db_path, first, delivery_backoff=Backoff(30.0, 30.0), drain=0.1) as rt:
        await rt.service.receive(message("long answer"))
        async with asyncio.timeout(5):
            while (await rt.store.question(1)).delivery_attempts == 0:
                await asyncio.sleep(0.01)
    assert [p.part for p in first.posted] == [0]
    outbound.parts = 3
    async with started(sim, db_path, outbound):
        async with asyncio.timeout(5):
            while len(outbound.posted) < 2:
                await asyncio.sleep(0.01)
    assert [p.part for p in outbound.posted] == [1, 2]


async def test_permanent_delivery_failure_is_not_retried(runtime: Runtime, outbound: RecordingOutbound) -> None:
    """A destination that can never be reached (bot blocked) is given up at once, with a log line."""
    outbound.failures = [(0, DeliveryPermanent("bot was blocked by the user"))]
    await runtime.service.receive(message("hello"))
    async with asyncio.timeout(5):
        while (await runtime.store.question(1)).state is not QuestionState.UNDELIVERABLE:
            await asyncio.sleep(0.01)
    assert outbound.posted == []
