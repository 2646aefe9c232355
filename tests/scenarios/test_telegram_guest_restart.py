"""A Telegram guest question outlives a restart: asked, the bridge stopped before the
answer, started again: answered once, in place or in the private chat as
TELEGRAM_GUEST_WINDOW says (docs/telegram.md, guest mode), over real HTTP."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from adapters.raia.simulator import RaiaSimulator
from tests import waiting
from tests.fakes import telegram as tg
from tests.scenarios.test_telegram import running


@pytest.fixture
def fake() -> tg.FakeTelegram:
    return tg.FakeTelegram()


async def _asked_then_stopped(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path, window: float, *, noted: bool = False
) -> None:
    """The guest question reaches the agent; the bridge stops before its answer is ready
    (``noted``: once the window closed and the note is in place)."""
    async with running(sim, fake, tmp_path, telegram_guest_window=window) as bridge:
        assert (await bridge.post(tg.guest(f"@{tg.BOT_USERNAME} across a restart?", query="gq-r"))).status_code == 200
        async with asyncio.timeout(5):
            while not sim.count("POST", "/messages/async"):
                await asyncio.sleep(0.01)
        if noted:
            await waiting.until(lambda: "gq-r" in fake.guest_answers, what="the note in place")
    assert fake.sent == []
    assert all("across a restart" not in sent.text for sent in fake.guest_answers.values())
    assert ("gq-r" in fake.guest_answers) is noted


async def test_a_guest_question_restarted_within_its_window_is_answered_in_place_once(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path
) -> None:
    """Back before the window closed: the answer is posted in place, once, and nothing goes
    to the private chat; the agent was asked once."""
    sim.delay = lambda _: 1.5
    await _asked_then_stopped(sim, fake, tmp_path, window=60.0)
    async with running(sim, fake, tmp_path, telegram_guest_window=60.0) as bridge:
        await waiting.until(lambda: "gq-r" in fake.guest_answers, what="the guest answer in place")
        await bridge.idle()
    assert "across a restart" in fake.guest_answers["gq-r"].text
    assert fake.sent == []
    assert fake.calls.count("answerGuestQuery") == 1
    assert sim.count("POST", "/messages/async") == 1


@pytest.mark.parametrize("noted", [True, False], ids=["noted-before-the-stop", "closed-while-down"])
async def test_a_guest_question_whose_window_closed_is_answered_privately_once(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path, noted: bool
) -> None:
    """The window closed just before the bridge stopped (the note is in place), or while it
    was down (the restarted bridge puts the note there): the query keeps that one message,
    and the answer arrives once, in the private chat."""
    window = 0.3 if noted else 2.0
    sim.delay = lambda _: window + 2.0
    asked = time.time()
    await _asked_then_stopped(sim, fake, tmp_path, window, noted=noted)
    await waiting.until(lambda: time.time() > asked + window, what="the window to close while the bridge is down")
    async with running(sim, fake, tmp_path, telegram_guest_window=window) as bridge:
        await fake.wait_sent(1, timeout=10)
        await bridge.idle()
    assert "private chat" in fake.guest_answers["gq-r"].text  # the note, not the answer
    (sent,) = fake.sent
    assert sent.chat_id == 42
    assert "across a restart" in sent.text
    assert sim.count("POST", "/messages/async") == 1
