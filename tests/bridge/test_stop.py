"""/stop and Slack's stop button in the core: a stopped question is final, its answer is
never posted (not when it arrives later, not after a restart), on both engines."""

from __future__ import annotations

from dataclasses import replace

import pytest

from adapters.raia.simulator import RaiaSimulator
from bridge import texts
from bridge.app.runtime import Runtime
from bridge.models import InboundMessage, Intent, Origin, QuestionState, ReplyKind
from bridge.ports.inbox import Receipt
from tests import waiting
from tests.conftest import message, started
from tests.fakes.outbound import RecordingOutbound

SLOW = 3600.0  # an answer that comes only when the test releases it


@pytest.fixture
def db_path(database: str) -> str:
    """Both engines: a SQLite file and a real PostgreSQL database."""
    return database


def _slow(sim: RaiaSimulator) -> None:
    sim.delay = lambda text: SLOW if text.startswith("slow") else 0.01


def _release(sim: RaiaSimulator) -> None:
    """Every answer the simulator holds back is ready now."""
    for question in sim.questions.values():
        question["ready_at"] = 0.0


def _stop(user: str = "u1", *, chat: str = "c1", thread: str | None = None) -> InboundMessage:
    stop = message("/stop", user=user, chat=chat, keys=(f"stop:{user}:{chat}:{thread}",))
    return replace(stop, intent=Intent.STOP, origin=Origin(chat=chat, thread=thread))


async def _sent(sim: RaiaSimulator, count: int = 1) -> None:
    await waiting.until(lambda: len(sim.questions) >= count, what=f"{count} question(s) at the agent")


def _texts(outbound: RecordingOutbound) -> list[str]:
    return [p.reply.text for p in outbound.posted]


async def test_a_stopped_question_is_never_answered(
    sim: RaiaSimulator, db_path: str, outbound: RecordingOutbound
) -> None:
    """/stop while the agent thinks: one line confirms, the answer that arrives later is
    never posted, and the next question is answered as usual."""
    _slow(sim)
    async with started(sim, db_path, outbound) as rt:
        assert await rt.service.receive(message("slow question")) is Receipt.ACCEPTED
        await _sent(sim)
        assert await rt.service.receive(_stop()) is Receipt.STOPPED
        await outbound.wait_for(1)
        assert _texts(outbound) == [texts.text("stopped")]
        assert outbound.posted[0].reply.kind is ReplyKind.NOTICE
        _release(sim)
        assert await rt.service.receive(message("next question")) is Receipt.ACCEPTED
        await outbound.wait_for(2)
        await waiting.idle(rt)
        assert len(outbound.posted) == 2
        assert "next question" in outbound.posted[1].reply.text
        assert await rt.store.count_open() == 0
    assert outbound.working_events[:2] == ["start:c1", "stop:c1"]  # the indicator ended at once


async def test_stop_with_nothing_waiting_says_so(runtime: Runtime, outbound: RecordingOutbound) -> None:
    """/stop with no question waiting: "nothing to stop", and nothing else changes."""
    assert await runtime.service.receive(_stop()) is Receipt.HANDLED
    await outbound.wait_for(1)
    assert _texts(outbound) == [texts.text("nothing_to_stop")]
    assert await runtime.service.receive(_stop()) is Receipt.DUPLICATE


async def test_stop_is_answered_in_the_persons_language(
    sim: RaiaSimulator, db_path: str, outbound: RecordingOutbound
) -> None:
    """The confirmation is in the person's language (here German)."""
    _slow(sim)
    async with started(sim, db_path, outbound) as rt:
        german = message("slow frage")
        german = replace(german, user=replace(german.user, custom_data={"languageCode": "de"}))
        await rt.service.receive(german)
        await _sent(sim)
        stop = _stop()
        stop = replace(stop, user=replace(stop.user, custom_data={"languageCode": "de"}))
        assert await rt.service.receive(stop) is Receipt.STOPPED
        await outbound.wait_for(1)
        assert _texts(outbound) == [texts.text("stopped", "de")]


async def test_stop_keeps_to_the_person_and_the_thread(
    sim: RaiaSimulator, db_path: str, outbound: RecordingOutbound
) -> None:
    """Only the person's own questions, and only in the thread the stop names, are stopped."""
    _slow(sim)
    async with started(sim, db_path, outbound) as rt:
        mine = message("slow mine")
        mine = replace(mine, origin=Origin(chat="c1", thread="t1"))
        theirs = message("slow theirs", user="u2")
        await rt.service.receive(mine)
        await rt.service.receive(theirs)
        await _sent(sim, 2)
        assert await rt.service.receive(_stop(thread="t2")) is Receipt.HANDLED
        assert await rt.service.receive(_stop(thread="t1")) is Receipt.STOPPED
        _release(sim)
        await outbound.wait_for(3)
        await waiting.idle(rt)
        assert _texts(outbound)[:2] == [texts.text("nothing_to_stop"), texts.text("stopped")]
        assert "slow theirs" in outbound.posted[2].reply.text
        assert len(outbound.posted) == 3


async def test_a_question_stopped_elsewhere_is_never_posted(
    sim: RaiaSimulator, db_path: str, outbound: RecordingOutbound
) -> None:
    """Stopped in the store by another process (no lane here is told): the lane polls on,
    but the answer it gets is never recorded nor posted."""
    _slow(sim)
    async with started(sim, db_path, outbound) as rt:
        await rt.service.receive(message("slow question"))
        await _sent(sim)
        (stopped,) = await rt.store.stop_questions("test", "test:u1", "c1", None)
        assert (await rt.store.question(stopped.id)).state is QuestionState.STOPPED
        _release(sim)
        await waiting.until(
            lambda: (
                sim.count("GET", "/response-on") > 0
                and all(q.get("status") == "completed" for q in sim.questions.values())
            ),
            what="the agent answered",
        )
        await rt.service.receive(message("next question"))
        await outbound.wait_for(1)
        await waiting.idle(rt)
        assert len(outbound.posted) == 1
        assert "next question" in outbound.posted[0].reply.text
        record = await rt.store.question(stopped.id)
        assert (record.state, record.text, record.reply) == (QuestionState.STOPPED, "", None)


async def test_a_stopped_question_stays_stopped_across_a_restart(
    sim: RaiaSimulator, db_path: str, outbound: RecordingOutbound
) -> None:
    """Stopped, then the bridge restarts: the question is not resumed, its answer never posted."""
    _slow(sim)
    async with started(sim, db_path, outbound) as rt:
        await rt.service.receive(message("slow question"))
        await _sent(sim)
        assert await rt.service.receive(_stop()) is Receipt.STOPPED
        await outbound.wait_for(1)
        await waiting.idle(rt)
    _release(sim)
    again = RecordingOutbound()
    async with started(sim, db_path, again) as rt:
        assert await rt.store.count_open() == 0
        await rt.service.receive(message("after the restart"))
        await again.wait_for(1)
        await waiting.idle(rt)
        assert len(again.posted) == 1
        assert "after the restart" in again.posted[0].reply.text
