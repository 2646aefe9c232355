"""The "Talk to a person" button under answers (HANDOFF_BUTTON=on), on Telegram and Slack:
a press asks for a person like /human; a storm of presses (and a platform delivering one
again) sets the mode once and confirms once; a vote leaves the button in place; without
HANDOFF_BUTTON, or with HANDOFF=off, there is no button."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

from adapters.raia.simulator import RaiaSimulator
from tests.fakes import slack
from tests.fakes import telegram as tg
from tests.scenarios.test_feedback import _buttons
from tests.scenarios.test_slack import running as slack_bridge
from tests.scenarios.test_takeover import FAST, only_conversation, until
from tests.scenarios.test_takeover_commands import ASKED
from tests.scenarios.test_telegram import running as telegram_bridge

MODE = "/mode"


async def test_telegram_a_storm_of_presses_asks_for_a_person_once(sim: RaiaSimulator, tmp_path: Path) -> None:
    fake = tg.FakeTelegram()
    async with telegram_bridge(sim, fake, tmp_path, handoff_button=True, **FAST) as bridge:
        await bridge.post(tg.message("What does it cost?"))
        await fake.wait_sent(1)
        chat, answer_id = fake.sent[0].chat_id, fake.message_id(fake.sent[0])
        markup = fake.markups[(chat, answer_id)]
        assert _buttons(markup) == ["👍", "👎", "Talk to a person"]
        person = markup["inline_keyboard"][1][0]["callback_data"]
        press = tg.pressed(chat, answer_id, person, markup=markup)
        presses = [press, press, press]  # Telegram delivering one update again
        for _ in range(12):  # and twelve separate presses
            presses.append(tg.pressed(chat, answer_id, person, markup=markup))
        responses = await asyncio.gather(*(bridge.post(copy.deepcopy(p)) for p in presses))
        assert {r.status_code for r in responses} == {200}
        await fake.wait_sent(2)
        await until(lambda: len({cq for cq, _ in fake.answered}) == 13)  # every spinner stopped
        await bridge.idle()
        # A vote afterwards redraws 👍/👎 and leaves "Talk to a person" below them.
        up = markup["inline_keyboard"][0][0]["callback_data"]
        await bridge.post(tg.pressed(chat, answer_id, up, markup=markup))
        await until(lambda: _buttons(fake.markups[(chat, answer_id)])[0] == "👍 ✓")
    cid = only_conversation(sim)
    assert sim.count("PUT", MODE) == 1
    assert sim.conversations[cid]["mode"] == "manual"
    assert fake.texts()[1:] == [ASKED]
    assert _buttons(fake.markups[(chat, answer_id)]) == ["👍 ✓", "👎", "Talk to a person"]


async def test_telegram_no_button_without_handoff_button_or_with_handoff_off(
    sim: RaiaSimulator, tmp_path: Path
) -> None:
    (tmp_path / "default").mkdir()
    (tmp_path / "off").mkdir()

    async def answered(work: Path, **overrides: Any) -> tg.FakeTelegram:
        fake = tg.FakeTelegram()
        async with telegram_bridge(sim, fake, work, **overrides) as bridge:
            await bridge.post(tg.message("What does it cost?"))
            await fake.wait_sent(1)
            if overrides:  # a button left from before HANDOFF=off: pressed, nothing happens
                await bridge.post(tg.pressed(fake.sent[0].chat_id, fake.message_id(fake.sent[0]), "h"))
                await until(lambda: fake.answered)
                await bridge.idle()
        return fake

    for fake in (await answered(tmp_path / "default"), await answered(tmp_path / "off", handoff_button=True,
                                                                         handoff=False)):  # fmt: skip
        assert _buttons(fake.markups[(fake.sent[0].chat_id, fake.message_id(fake.sent[0]))]) == ["👍", "👎"]
        assert len(fake.sent) == 1
    assert sim.count("PUT", MODE) == 0


def _person_press(post: slack.Post, user: str = "U1") -> dict[str, Any]:
    """A ``block_actions`` payload: ``user`` pressed "Talk to a person" under ``post``."""
    (button,) = [b for b in post.buttons if b["action_id"] == "raia_person"]
    payload = slack.press(post, "up", user=user)
    payload["actions"] = [{**payload["actions"][0], "action_id": button["action_id"], "block_id": "raia_person",
                           "value": button["value"], "action_ts": slack.next_ts()}]  # fmt: skip
    return payload


async def test_slack_a_storm_of_presses_asks_for_a_person_once(sim: RaiaSimulator, tmp_path: Path) -> None:
    """Under an answer in a channel thread: eight presses at once set the mode once, and one
    confirmation goes to that thread."""
    fake = slack.FakeSlack()
    async with slack_bridge(sim, fake, tmp_path, handoff_button=True, **FAST) as bridge:
        await bridge.event(slack.channel_message(f"<@{slack.BOT_USER}> What does it cost?", ts="1700000000.000100"))
        await fake.wait_posts(1)
        answer = fake.posts[0]
        assert [b["text"]["text"] for b in answer.buttons] == ["👍", "👎", "Talk to a person"]

        async def press() -> int:
            body, headers = slack.interaction(_person_press(answer))
            return (await bridge.http.post("/slack/events", content=body, headers=headers)).status_code

        assert set(await asyncio.gather(*(press() for _ in range(8)))) == {200}
        await fake.wait_posts(2)
        await bridge.idle()
    cid = only_conversation(sim)
    assert sim.count("PUT", MODE) == 1
    assert sim.conversations[cid]["mode"] == "manual"
    (confirmation,) = fake.posts[1:]
    assert confirmation.text == ASKED
    assert (confirmation.channel, confirmation.thread_ts) == ("C0001", "1700000000.000100")
