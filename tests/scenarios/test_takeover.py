"""A person takes over (raia's manual mode), end to end over real HTTP: the raia simulator's
operator side switches a conversation to ``manual`` and writes as the staff member; the
bridge tells the person once, delivers each staff message once and in order where they
last asked, on Telegram and on Slack, and says when the agent is back."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.raia.simulator import RaiaSimulator
from tests.fakes import slack
from tests.fakes import telegram as tg
from tests.scenarios.test_slack import running as slack_bridge
from tests.scenarios.test_telegram import running as telegram_bridge

FAST: dict[str, Any] = {"handoff_scan": 0.3, "raia_poll_timeout": 4.0}


async def until(check: Callable[[], object], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


def only_conversation(sim: RaiaSimulator) -> str:
    (cid,) = sim.conversations
    return cid


def states(tmp_path: Path) -> list[str]:
    with sqlite3.connect(tmp_path / "bridge.db") as db:
        return [row[0] for row in db.execute("SELECT state FROM questions ORDER BY id")]


@pytest.fixture
def slow_sim() -> RaiaSimulator:
    """The agent takes a minute to answer about bookings: a question waits while staff take over."""
    return RaiaSimulator(api_key="sk-test-0123456789abcdef", delay=lambda text: 60.0 if "booking" in text else 0.05)


@pytest.mark.parametrize("during_manual", ["pending", "failed", "empty"])
async def test_telegram_takeover_while_waiting(slow_sim: RaiaSimulator, tmp_path: Path, during_manual: str) -> None:
    sim, fake = slow_sim, tg.FakeTelegram()
    sim.takeover.during_manual = during_manual
    async with telegram_bridge(sim, fake, tmp_path, **FAST) as bridge:
        await bridge.post(tg.message("I need to change my booking"))
        await until(lambda: sim.conversations and sim.user_messages(only_conversation(sim)))
        cid = only_conversation(sim)
        sim.takeover.take(cid, staff="Dana")
        await fake.wait_sent(1)
        sim.takeover.write(cid, "Hi, I'm **Dana**. Which booking?")
        sim.takeover.write(cid, "I can see two of them.")
        await fake.wait_sent(3)
        # The question ended handed over: nothing is left to time out.
        await until(lambda: states(tmp_path) == ["delivered"])
        # A follow-up reaches raia (the staff member sees it) without waiting for the agent.
        await bridge.post(tg.message("The one in May"))
        await until(lambda: sim.user_messages(cid) == ["I need to change my booking", "The one in May"])
        await until(lambda: states(tmp_path) == ["delivered", "delivered"])
        sim.takeover.write(cid, "Done, it's moved.")
        await fake.wait_sent(4)
        sim.takeover.hand_back(cid)
        await fake.wait_sent(5)
        await bridge.post(tg.message("Thanks! What does it cost?"))
        await fake.wait_sent(6)  # the agent answers again
    texts = [s.text for s in fake.sent]
    assert texts[0] == "Dana from the support team will answer you here."
    assert texts[1] == "Hi, I'm Dana. Which booking?"  # rendered like an answer (bold as an entity)
    assert any(e["type"] == "bold" for e in fake.sent[1].entities)
    assert texts[2:4] == ["I can see two of them.", "Done, it's moved."]
    assert texts[4] == "You're back with Ada (demo agent)."
    assert "What does it cost" in texts[5]
    assert not any("took too long" in t for t in texts)
    assert all(s.chat_id == 42 for s in fake.sent)
    assert all(not s.params.get("reply_markup") for s in fake.sent[:5])  # no 👍/👎 under staff words


async def test_slack_staff_writes_first_in_the_thread_last_asked(sim: RaiaSimulator, tmp_path: Path) -> None:
    """An idle conversation (answered long ago) is found by the listing of recently updated
    conversations when staff take it over and write first; their words go to the thread
    where the person last asked, in order, once."""
    fake = slack.FakeSlack()
    async with slack_bridge(sim, fake, tmp_path, **FAST) as bridge:
        await bridge.event(slack.channel_message(f"<@{slack.BOT_USER}> What does it cost?", ts="1700000000.000100"))
        await fake.wait_posts(1)
        cid = only_conversation(sim)
        sim.takeover.take(cid, staff=None)  # raia names no one
        for n in range(3):
            sim.takeover.write(cid, f"Staff message {n + 1}")
        await fake.wait_posts(5)
        sim.takeover.hand_back(cid)
        await fake.wait_posts(6)
    answer, notice, *staff, back = fake.posts
    assert "What does it cost" in answer.body
    assert notice.text == "Someone from the support team will answer you here."
    assert [p.text for p in staff] == ["Staff message 1", "Staff message 2", "Staff message 3"]
    assert back.text == "You're back with Ada (demo agent)."
    assert {(p.channel, p.thread_ts) for p in fake.posts} == {("C0001", "1700000000.000100")}
    assert all(not p.buttons for p in [notice, *staff, back])


async def test_a_takeover_behind_busier_conversations_is_found_pages_later(sim: RaiaSimulator, tmp_path: Path) -> None:
    """The listing pages on while pages come full (newest first): a takeover of an idle
    conversation is found even when 250 of the agent's other conversations (another
    channel) were updated after it; a quiet minute costs one request per listing."""
    fake = tg.FakeTelegram()
    async with telegram_bridge(sim, fake, tmp_path, **FAST) as bridge:
        await bridge.post(tg.message("What does it cost?"))
        await fake.wait_sent(1)
        cid = only_conversation(sim)
        await bridge.idle()
        listings = sim.count("GET", "/external/conversations")
        await until(lambda: sim.count("GET", "/external/conversations") >= listings + 3)  # quiet: one page each
        sim.takeover.take(cid, staff="Dana")
        later = sim.conversations[cid]["updated"] + 1.0
        for n in range(250):  # updated after the takeover: two and a half pages in front of it
            sim.conversations[f"other-{n}"] = {"userId": "elsewhere", "messages": [], "created": later + n / 1000}
        await fake.wait_sent(2)
    assert fake.texts()[1] == "Dana from the support team will answer you here."
    assert {1, 2, 3} <= set(sim.takeover.pages)
    assert max(sim.takeover.pages) <= 10


async def test_an_agent_answer_that_comes_anyway_is_delivered_once(tmp_path: Path) -> None:
    """raia answers a question after a person took its conversation over: that answer is
    posted once (after the takeover's notice), however many looks find it."""
    sim = RaiaSimulator(api_key="sk-test-0123456789abcdef", delay=lambda text: 1.5 if "booking" in text else 0.05)
    sim.takeover.during_manual = "answers"
    fake = tg.FakeTelegram()
    async with telegram_bridge(sim, fake, tmp_path, **FAST) as bridge:
        await bridge.post(tg.message("I need to change my booking"))
        await until(lambda: sim.conversations and sim.user_messages(only_conversation(sim)))
        cid = only_conversation(sim)
        sim.takeover.take(cid, staff="Dana")
        await fake.wait_sent(1)  # the notice; the question ends handed over
        await until(lambda: states(tmp_path) == ["delivered"])
        await fake.wait_sent(2)  # the agent's answer, later
        await until(lambda: settled(tmp_path) == [True])
        sim.takeover.write(cid, "Dana here: anything else?")
        await fake.wait_sent(3)
        await bridge.idle()
    texts = fake.texts()
    assert texts[0] == "Dana from the support team will answer you here."
    assert "I need to change my booking" in texts[1]  # the simulated agent's answer quotes the question
    assert texts[2:] == ["Dana here: anything else?"]
    assert sum("I need to change my booking" in t for t in texts) == 1


def settled(tmp_path: Path) -> list[bool]:
    with sqlite3.connect(tmp_path / "bridge.db") as db:
        return [row[0] is not None for row in db.execute("SELECT settled_at FROM handed_questions ORDER BY 1")]
