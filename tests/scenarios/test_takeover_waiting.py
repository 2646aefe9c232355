"""A question waiting for its answer learns of a takeover from the desk's listings of
recently updated conversations, not by asking raia for its conversation's mode at every
look; when the listings may have missed something (here: they fail), it asks itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapters.raia.simulator import RaiaSimulator
from tests.fakes import telegram as tg
from tests.scenarios.test_takeover import only_conversation, states, until
from tests.scenarios.test_telegram import running as telegram_bridge

# Listings every 0.3 s; a question's own looks at the mode would come as often.
FAST: dict[str, Any] = {"handoff_scan": 0.3, "raia_poll_timeout": 60.0}
QUESTION = "I need to change my booking"


def slow_sim() -> RaiaSimulator:
    return RaiaSimulator(api_key="sk-test-0123456789abcdef", delay=lambda text: 600.0 if "booking" in text else 0.05)


def polls(sim: RaiaSimulator) -> int:
    return sum(int(q.get("polls", 0)) for q in sim.questions.values())


async def test_a_waiting_question_learns_of_a_takeover_from_the_listing(tmp_path: Path) -> None:
    sim, fake = slow_sim(), tg.FakeTelegram()
    async with telegram_bridge(sim, fake, tmp_path, **FAST) as bridge:
        await bridge.post(tg.message(QUESTION))
        await until(lambda: sim.conversations and sim.user_messages(only_conversation(sim)))
        cid = only_conversation(sim)
        listings = sim.count("GET", "/external/conversations")
        # Several looks for the answer, each after a listing covered the conversation.
        await until(lambda: polls(sim) >= 5 and sim.count("GET", "/external/conversations") >= listings + 5)
        assert sim.count("GET", f"/external/conversations/{cid}") == 0  # no mode request of its own
        sim.takeover.take(cid, staff="Dana")
        await fake.wait_sent(1)
        await until(lambda: states(tmp_path) == ["delivered"])  # ended handed over, not timed out
    assert fake.texts() == ["Dana from the support team will answer you here."]


async def test_without_listings_a_waiting_question_asks_for_the_mode_itself(tmp_path: Path) -> None:
    sim, fake = slow_sim(), tg.FakeTelegram()
    sim.fail("GET", r"/external/conversations$", 500, times=10_000)  # every listing fails
    async with telegram_bridge(sim, fake, tmp_path, **FAST) as bridge:
        await bridge.post(tg.message(QUESTION))
        await until(lambda: sim.conversations and sim.user_messages(only_conversation(sim)))
        cid = only_conversation(sim)
        await until(lambda: sim.count("GET", f"/external/conversations/{cid}") >= 2)
        sim.takeover.take(cid, staff="Dana")
        await fake.wait_sent(1)
        await until(lambda: states(tmp_path) == ["delivered"])
    assert fake.texts() == ["Dana from the support team will answer you here."]
