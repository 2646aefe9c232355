"""Exactly once under upstream trouble: odd answers, slow sends, downtime, rate limits."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.raia.simulator import RaiaSimulator
from bridge.app.runtime import Runtime, open_runtime
from bridge.backoff import Backoff
from bridge.models import Origin, QuestionState, ReplyKind
from bridge.ports.inbox import Receipt
from store.sqlite import SqliteStore
from tests import waiting
from tests.conftest import FAST, make_settings, message, started
from tests.fakes.outbound import RecordingOutbound
from tests.fakes.tamper import Tamper, body, cut

ODD_RESPONSES = {
    "not JSON": body(b"<html>gateway</html>"),
    "empty body": body(b""),
    "completed without a message": body(b'{"status": "completed", "message": null}'),
    "nested beyond reason": body(b"[" * 100_000 + b"]" * 100_000),
    "a redirect": body(b"", 302, {"location": "https://elsewhere.example"}),
}


@pytest.mark.parametrize("odd", ODD_RESPONSES, ids=list(ODD_RESPONSES))
async def test_one_odd_response_on_does_not_fail_an_accepted_question(
    odd: str, sim: RaiaSimulator, db_path: Path, outbound: RecordingOutbound
) -> None:
    """A bad 200 (or a redirect) from response-on is a passing fault: the real answer still comes."""
    tamper = Tamper(sim, rules=[("GET", "/response-on$", ODD_RESPONSES[odd])])
    async with started(tamper, db_path, outbound) as rt:
        await rt.service.receive(message("question"))
        await outbound.wait_for(1)
    (reply,) = outbound.replies
    assert reply.kind is ReplyKind.ANSWER


async def test_a_send_raia_stores_after_the_client_gave_up_is_not_repeated(
    sim: RaiaSimulator, db_path: Path, outbound: RecordingOutbound
) -> None:
    """After an ambiguous send the bridge keeps looking (send_settle) instead of sending again."""
    tamper = Tamper(sim, slow_send=0.3)
    async with started(tamper, db_path, outbound, send_settle=2.0, poll_timeout=10.0) as rt:
        await rt.service.receive(message("question"))
        await outbound.wait_for(1)
        await tamper.stored_late()  # the first send is in raia now: a second one would show
    (conversation,) = sim.conversations
    assert sim.user_messages(conversation) == ["question"]
    assert outbound.replies[0].kind is ReplyKind.ANSWER


async def test_a_cut_send_is_sent_again_in_time_when_the_timeout_is_short(
    sim: RaiaSimulator, db_path: Path, outbound: RecordingOutbound
) -> None:
    """RAIA_SEND_SETTLE (90 s) longer than RAIA_POLL_TIMEOUT (2 s): a send cut before raia
    processed it is looked for a quarter of the timeout, then sent again, and answered."""
    tamper = Tamper(sim, rules=[("POST", "/messages/async$", cut())])
    async with started(tamper, db_path, outbound, send_settle=90.0, poll_timeout=2.0) as rt:
        await rt.service.receive(message("question"))
        await outbound.wait_for(1)
    assert outbound.replies[0].kind is ReplyKind.ANSWER
    (conversation,) = sim.conversations
    assert sim.user_messages(conversation) == ["question"]


async def test_a_downtime_longer_than_the_timeout_does_not_time_out_a_question_raia_never_got(
    sim: RaiaSimulator, db_path: Path, outbound: RecordingOutbound
) -> None:
    """A question started an hour ago (the bridge went down before sending it) is sent now
    and gets the whole RAIA_POLL_TIMEOUT from then: answered, not "took too long"."""
    an_hour_ago = time.time() - 3600
    async with SqliteStore(db_path, clock=lambda: an_hour_ago) as store:
        q = await store.record_question(message("still there?"), ttl=60)
        assert q is not None
        await store.mark_started(q.id)
    sim.delay = lambda _: 0.3
    async with started(sim, db_path, outbound, poll_timeout=2.0):
        await outbound.wait_for(1)
    assert outbound.replies[0].kind is ReplyKind.ANSWER
    assert "still there" in outbound.replies[0].text


async def test_retry_after_on_a_refused_send_is_honoured(
    sim: RaiaSimulator, db_path: Path, outbound: RecordingOutbound
) -> None:
    """A 429 with Retry-After on the send waits that long before the next send."""
    sim.fail("POST", "/messages/async$", 429, retry_after=0.4)
    async with started(sim, db_path, outbound, reach_backoff=Backoff(0.01, 5.0)) as rt:
        started_at = asyncio.get_running_loop().time()
        await rt.service.receive(message("question"))
        await outbound.wait_for(1)
        assert asyncio.get_running_loop().time() - started_at >= 0.4
    assert sim.count("POST", "/messages/async") == 2
    assert outbound.replies[0].kind is ReplyKind.ANSWER


async def test_downtime_past_the_poll_timeout_still_polls_once(
    sim: RaiaSimulator, raia_url: str, db_path: Path, outbound: RecordingOutbound
) -> None:
    """After a restart past the deadline, a ready answer is delivered, not replaced by "took too long"."""
    sim.delay = lambda _: 0.2
    config = replace(FAST, poll_timeout=0.5)
    async with open_runtime(make_settings(raia_base_url=raia_url), database=db_path, config=config) as rt:
        rt.service.register(outbound)
        await rt.service.start()
        await rt.service.receive(message("question"))
        async with asyncio.timeout(5):
            while (await rt.store.question(1)).state is not QuestionState.SENT:
                await asyncio.sleep(0.01)
        sent_at = (await rt.store.question(1)).sent_at
        await rt.service.stop(1.0)
    assert sent_at is not None
    # Down for longer than the poll timeout; the answer is ready meanwhile.
    await waiting.until(
        lambda: time.time() > sent_at + 0.5 and all(q["ready_at"] <= sim.clock() for q in sim.questions.values()),
        what="past the question's deadline, its answer ready",
    )
    async with started(sim, db_path, outbound, poll_timeout=0.5):
        await outbound.wait_for(1)
    (reply,) = outbound.replies
    assert reply.kind is ReplyKind.ANSWER


async def test_a_write_lock_held_by_another_process_during_a_turn_delays_but_loses_nothing(
    sim: RaiaSimulator, db_path: Path, outbound: RecordingOutbound, caplog: pytest.LogCaptureFixture
) -> None:
    """The lane meets "database is locked", keeps at it with backoff, and answers once when the lock is gone."""
    async with started(sim, db_path, outbound, poll_timeout=30.0) as rt:
        assert await rt.service.receive(message("through the lock")) is not None
        blocker = sqlite3.connect(db_path, isolation_level=None, timeout=0)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            # Held past the store's busy timeout: the lane's writes fail meanwhile.
            await waiting.until(
                lambda: any("locked" in r.getMessage() for r in caplog.records),
                timeout=60,
                what="the lane to meet the locked database",
            )
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        await outbound.wait_for(1, timeout=20)
    (reply,) = outbound.replies
    assert reply.kind is ReplyKind.ANSWER
    assert sim.count("POST", "/messages/async") == 1


async def test_a_thread_follow_up_right_behind_its_mention_is_answered(
    runtime: Runtime, outbound: RecordingOutbound
) -> None:
    """A follow-up whose check races the mention's commit waits for that commit instead of being dropped."""
    thread = Origin(chat="C1", thread="200.1", message="200.1")
    mention = replace(message("first", keys=("m1",)), origin=thread)
    follow_up = replace(message("second", keys=("m2",)), origin=replace(thread, message="200.2"), addressed=False)
    receipts = await asyncio.gather(runtime.service.receive(mention), runtime.service.receive(follow_up))
    assert list(receipts) == [Receipt.ACCEPTED, Receipt.ACCEPTED]
    await outbound.wait_for(2)
