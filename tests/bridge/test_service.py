"""The conversation service against the raia simulator (on loopback) and a recording outbound."""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import replace

import pytest

from adapters.raia.simulator import RaiaSimulator
from bridge import texts
from bridge.app.runtime import Runtime
from bridge.errors import ShuttingDown
from bridge.models import Intent, QuestionState, ReplyKind
from bridge.poller import PollSchedule
from bridge.ports.inbox import Receipt
from tests import waiting
from tests.conftest import API_KEY, message, started
from tests.fakes.outbound import RecordingOutbound


async def _settled(rt: Runtime, qid: int) -> QuestionState:
    """Wait until a question reached a final state (delivery is recorded after posting)."""
    async with asyncio.timeout(5):
        while (state := (await rt.store.question(qid)).state) not in (
            QuestionState.DELIVERED,
            QuestionState.UNDELIVERABLE,
        ):
            await asyncio.sleep(0.01)
    return state


@pytest.fixture
def db_path(database: str) -> str:
    """The service's suite runs on both engines: a SQLite file and a real PostgreSQL database."""
    return database


async def test_first_message_creates_user_and_conversation_second_reuses(
    runtime: Runtime, sim: RaiaSimulator, outbound: RecordingOutbound
) -> None:
    """The first question creates the raia user and conversation; the second reuses both."""
    assert await runtime.service.receive(message("hello")) is Receipt.ACCEPTED
    await outbound.wait_for(1)
    assert await runtime.service.receive(message("and again")) is Receipt.ACCEPTED
    await outbound.wait_for(2)
    assert sim.count("POST", "/external/users") == 1
    assert sim.count("POST", "/external/conversations") == 1
    (conversation,) = sim.conversations
    assert sim.user_messages(conversation) == ["hello", "and again"]
    (user,) = sim.users.values()
    assert (user["firstName"], user["lastName"], user["fkId"]) == ("Ann", "Lee", "test:u1")
    reply = outbound.replies[0]
    assert reply.kind is ReplyKind.ANSWER
    assert "【" not in reply.text
    assert "**hello**" in reply.text
    assert [u.url for u in reply.urls] == ["https://docs.example.com/handbook", "https://example.com/pricing"]
    assert [f.filename for f in reply.files] == ["handbook.pdf"]
    assert outbound.working_events == ["start:c1", "stop:c1", "start:c1", "stop:c1"]


async def test_two_users_never_share_a_conversation(
    runtime: Runtime, sim: RaiaSimulator, outbound: RecordingOutbound
) -> None:
    """Different platform users get different raia users and conversations."""
    await runtime.service.receive(message("from ann", user="u1"))
    await runtime.service.receive(message("from bob", user="u2", first="Bob", last=None))
    await outbound.wait_for(2)
    assert len(sim.users) == 2
    assert sorted(m for c in sim.conversations for m in sim.user_messages(c)) == ["from ann", "from bob"]
    assert all(len(sim.user_messages(c)) == 1 for c in sim.conversations)
    bob = next(u for u in sim.users.values() if u["fkId"] == "test:u2")
    assert bob["lastName"] == "(Test)"  # placeholder: raia requires a last name


async def test_reset_starts_a_new_conversation_and_remembers_the_old(
    runtime: Runtime, sim: RaiaSimulator, outbound: RecordingOutbound
) -> None:
    """After reset the next question goes to a fresh raia conversation of the same user."""
    await runtime.service.receive(message("one"))
    await outbound.wait_for(1)
    assert await runtime.service.receive(replace(message("reset", keys=()), intent=Intent.RESET)) is Receipt.HANDLED
    await outbound.wait_for(2)
    assert outbound.replies[1].text.startswith("Done — your next question starts a new conversation")
    await runtime.service.receive(message("two"))
    await outbound.wait_for(3)
    assert len(sim.users) == 1
    assert len(sim.conversations) == 2
    history = await runtime.store.conversation_history("test:u1")
    assert len(history) == 2
    assert history[0].ended_at is not None
    assert history[1].ended_at is None
    assert {history[0].agent_conversation_id, history[1].agent_conversation_id} == set(sim.conversations)


async def test_three_quick_questions_go_one_at_a_time_in_order(
    runtime: Runtime, sim: RaiaSimulator, outbound: RecordingOutbound
) -> None:
    """Questions of one conversation are sent in arrival order, each after the previous answer."""
    sim.delay = lambda _: 0.1
    for text in ("first", "second", "third"):
        await runtime.service.receive(message(text))
    await outbound.wait_for(3)
    (conversation,) = sim.conversations
    assert sim.user_messages(conversation) == ["first", "second", "third"]
    assert [r.text.split("**")[1] for r in outbound.replies] == ["first", "second", "third"]
    # Between two sends there is a completed answer: never two questions in flight.
    sends = [i for i, (m, p) in enumerate(sim.calls) if p.endswith("/messages/async")]
    for earlier, later in itertools.pairwise(sends):
        polls = [p for m, p in sim.calls[earlier:later] if p.endswith("/response-on")]
        assert polls, "the next question was sent before the previous one was answered"


async def test_duplicate_inbound_is_answered_once(
    runtime: Runtime, sim: RaiaSimulator, outbound: RecordingOutbound
) -> None:
    """The same platform event delivered twice (or by two keys) is recorded and answered once."""
    first = message("hello", keys=("evt:1", "post:c1:1"))
    again = message("hello", keys=("evt:2", "post:c1:1"))  # same post, another event id
    assert await runtime.service.receive(first) is Receipt.ACCEPTED
    assert await runtime.service.receive(first) is Receipt.DUPLICATE
    assert await runtime.service.receive(again) is Receipt.DUPLICATE
    await outbound.wait_for(1)
    await waiting.idle(runtime)
    assert len(outbound.replies) == 1
    assert sim.count("POST", "/messages/async") == 1


async def test_blank_text_is_not_a_question(runtime: Runtime, sim: RaiaSimulator) -> None:
    """Whitespace-only text is ignored without touching raia."""
    assert await runtime.service.receive(message("   \n ")) is Receipt.EMPTY
    assert sim.calls == []


async def test_failed_answer_gives_one_short_message(
    runtime: Runtime, sim: RaiaSimulator, outbound: RecordingOutbound, caplog: pytest.LogCaptureFixture
) -> None:
    """When raia reports ``failed`` the user gets one clear message and the log has the ids."""
    caplog.set_level(logging.INFO)
    await runtime.service.receive(message("please [fail]"))
    await outbound.wait_for(1)
    await _settled(runtime, 1)
    (reply,) = outbound.replies
    assert (reply.kind, reply.text) == (ReplyKind.NOTICE, texts.FAILED)
    # The turn's line follows the delivery's record (on PostgreSQL a moment later).
    await waiting.until(lambda: any(r.name == "bridge.turn" for r in caplog.records), what="the turn's log line")
    (turn,) = [r.getMessage() for r in caplog.records if r.name == "bridge.turn"]
    assert "outcome=failed" in turn
    assert "agent_message=" in turn
    assert "question=1" in turn


async def test_timeout_gives_one_short_message(sim: RaiaSimulator, db_path: str, outbound: RecordingOutbound) -> None:
    """An answer slower than RAIA_POLL_TIMEOUT ends in one timeout message, not silence."""
    sim.delay = lambda _: 60.0
    async with started(sim, db_path, outbound, poll_timeout=0.3) as rt:
        await rt.service.receive(message("slow one"))
        await outbound.wait_for(1)
        await rt.service.stop(1.0)
        assert (await rt.store.question(1)).state is QuestionState.DELIVERED
    (reply,) = outbound.replies
    assert (reply.kind, reply.text) == (ReplyKind.NOTICE, texts.TIMEOUT)


async def test_bad_key_tells_user_briefly_and_operator_clearly(
    db_path: str, outbound: RecordingOutbound, caplog: pytest.LogCaptureFixture
) -> None:
    """A refused key (403) gives the user a short message and the operator an error naming RAIA_API_KEY."""
    sim = RaiaSimulator(api_key="the-right-key", delay=lambda _: 0.01)
    async with started(sim, db_path, outbound) as rt:
        await rt.service.receive(message("hi"))
        await outbound.wait_for(1)
        await rt.service.stop(1.0)
        assert "403" in rt.service.agent_status
    assert outbound.replies[0].text == texts.UNAVAILABLE
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("RAIA_API_KEY" in e for e in errors)
    assert all(API_KEY not in r.getMessage() for r in caplog.records)


async def test_raia_5xx_then_recovery(runtime: Runtime, sim: RaiaSimulator, outbound: RecordingOutbound) -> None:
    """Server errors are retried (reads) or checked-then-resent (send) and the answer still arrives once."""
    sim.fail("POST", "/external/users$", 503, times=2)
    sim.fail("POST", "/messages/async", 500)  # refused before storing: must be sent again
    sim.fail("GET", "/response-on", 502, times=2)
    await runtime.service.receive(message("are you there?"))
    await outbound.wait_for(1)
    assert outbound.replies[0].kind is ReplyKind.ANSWER
    (conversation,) = sim.conversations
    assert sim.user_messages(conversation) == ["are you there?"]
    assert sim.count("POST", "/messages/async") == 2
    assert sim.count("GET", "/messages") >= 1  # looked before sending again


async def test_broken_progress_indicator_never_blocks_the_answer(runtime: Runtime, outbound: RecordingOutbound) -> None:
    """If "typing…" fails, the answer is still delivered."""
    outbound.working_error = RuntimeError("indicator down")
    await runtime.service.receive(message("hi"))
    await outbound.wait_for(1)
    assert outbound.replies[0].kind is ReplyKind.ANSWER


async def test_stopping_service_refuses_new_questions(runtime: Runtime) -> None:
    """After stop, receive raises ShuttingDown so webhooks can answer 503 and be redelivered."""
    await runtime.service.stop(0.5)
    with pytest.raises(ShuttingDown):
        await runtime.service.receive(message("too late"))


async def test_agent_name_comes_from_raia(runtime: Runtime) -> None:
    """The agent's public name is read from raia once and cached."""
    assert await runtime.service.agent_name() == "Ada (demo agent)"


async def test_unreachable_raia_gives_a_short_message_soon(
    sim: RaiaSimulator, db_path: str, outbound: RecordingOutbound, caplog: pytest.LogCaptureFixture
) -> None:
    """If raia stays down before the question is sent, the user hears so well before the poll timeout."""
    sim.fail("POST", "/external/users$", 503, times=10_000)
    async with started(sim, db_path, outbound, poll_timeout=60.0, unreachable_after=0.3) as rt:
        await rt.service.receive(message("anyone there?"))
        await outbound.wait_for(1, timeout=5)
    (reply,) = outbound.replies
    assert (reply.kind, reply.text) == (ReplyKind.NOTICE, texts.UNREACHABLE)
    assert any("given up" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
    assert sim.count("POST", "/messages/async") == 0


@pytest.mark.parametrize("engine", ["sqlite"])  # about the schedule, not the store: one engine is enough
async def test_the_poll_schedule_learns_how_long_the_agent_takes(
    sim: RaiaSimulator, db_path: str, outbound: RecordingOutbound
) -> None:
    """Once 20 answers are timed (by raia's createdAt), the bridge looks just past the
    agent's usual time instead of on its growing backbone: far fewer response-on calls.
    The times are saved at shutdown, so a restarted bridge (a deploy) knows them at once.

    No count here depends on how fast the machine runs: the time learned is the simulator's
    own (the question's and the answer's createdAt, 0.8 s apart however late anyone looks),
    and a look run late only leaves fewer looks before the answer, so a loaded machine can
    lower the counts asserted, never raise them. Unlearned, this schedule's backbone takes
    16 looks to reach 0.8 s (tests/bridge/test_poller.py covers it on its own)."""
    sim.delay = lambda _: 0.8
    schedule = PollSchedule(first=0.02, growth=0.3, cap=0.3)

    def polls(prefix: str) -> list[int]:
        return [int(q.get("polls", 0)) for q in sim.questions.values() if q["text"].startswith(prefix)]

    async def ask(round_: str, people: int) -> None:
        for i in range(people):
            await rt.service.receive(message(f"{round_} {i}", user=f"{round_}{i}", chat=f"{round_}{i}"))
        await outbound.wait_for(len(outbound.replies) + people, timeout=60)  # a bound, not a measure

    async with started(sim, db_path, outbound, poll=schedule) as rt:
        await ask("first", 20)  # timed while looking on the backbone (how often depends on the machine)
        await ask("later", 5)
    async with started(sim, db_path, outbound, poll=schedule) as rt:
        await ask("restarted", 5)
    assert max(polls("later")) <= 3  # 0.02 s, then stretched waits up to just past the learned 0.8 s
    assert max(polls("restarted")) <= 3
    assert all(r.kind is ReplyKind.ANSWER for r in outbound.replies)


async def test_a_conversation_raia_lost_is_opened_again_once(
    runtime: Runtime, sim: RaiaSimulator, outbound: RecordingOutbound
) -> None:
    """A send answered 404 (the conversation was deleted on raia's side): the question goes
    to one new conversation of the same raia user, sent once."""
    await runtime.service.receive(message("first"))
    await outbound.wait_for(1)
    (lost,) = sim.conversations
    del sim.conversations[lost]
    await runtime.service.receive(message("second"))
    await outbound.wait_for(2)
    (new,) = sim.conversations
    assert new != lost
    assert sim.user_messages(new) == ["second"]
    assert sim.count("POST", "/external/users") == 1
    assert sim.count("POST", "/external/conversations") == 2
    assert outbound.replies[1].kind is ReplyKind.ANSWER


async def test_a_conversation_that_could_not_be_opened_reuses_the_saved_user(
    runtime: Runtime, sim: RaiaSimulator, outbound: RecordingOutbound
) -> None:
    """raia created the person's user, then failed to open the conversation through every
    retry: the next attempt reads the saved user with the question, and only opens one."""
    sim.fail("POST", r"/external/conversations$", 500, times=5)
    await runtime.service.receive(message("hello"))
    await outbound.wait_for(1)
    assert sim.count("POST", "/external/users") == 1
    assert sim.count("POST", "/external/conversations") == 6  # 5 refused, then opened
    (conversation,) = sim.conversations
    assert sim.user_messages(conversation) == ["hello"]
    assert outbound.replies[0].kind is ReplyKind.ANSWER


async def test_a_person_the_agent_does_not_know_is_made_anew(
    sim: RaiaSimulator, db_path: str, outbound: RecordingOutbound
) -> None:
    """The database holds a raia user of another agent (the deployment switched agents, or
    a reset after raia lost the user): the person is created again at this agent and
    answered, not told "could not accept that message" forever."""
    async with started(sim, db_path, outbound) as rt:
        await rt.store.save_agent_user("test:u1", "user-of-another-agent")
        await rt.service.receive(message("hello again"))
        await outbound.wait_for(1)
        assert await rt.store.agent_user_id("test:u1") != "user-of-another-agent"
    (reply,) = outbound.replies
    assert reply.kind is ReplyKind.ANSWER


async def test_log_level_debug_shows_each_message_and_each_raia_call(
    runtime: Runtime, outbound: RecordingOutbound, caplog: pytest.LogCaptureFixture
) -> None:
    """LOG_LEVEL=DEBUG adds what an operator asks "why no answer?" with: every message
    received and what the core did with it, and every raia call with its status and time;
    never the words."""
    caplog.set_level(logging.DEBUG)
    assert await runtime.service.receive(message("secret plans")) is Receipt.ACCEPTED
    await outbound.wait_for(1)
    assert await runtime.service.receive(message("secret plans")) is Receipt.DUPLICATE
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert "test chat=c1 user=test:u1: ask (12 chars, 0 files) -> accepted" in lines
    assert "test chat=c1 user=test:u1: ask (12 chars, 0 files) -> duplicate" in lines
    calls = [line for line in lines if line.startswith("raia ")]
    assert any(line.startswith("raia POST /users -> 201 in ") and line.endswith(" ms") for line in calls)
    assert all("secret plans" not in line for line in lines)
