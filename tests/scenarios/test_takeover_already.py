"""Asking for a person in a conversation a person already has (``/human``, ``/raia human``,
the "Talk to a person" button): one line saying so, in the person's language, and no
second ``PUT …/mode``, whether the bridge saw the takeover already or raia reports it now."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapters.raia.simulator import RaiaSimulator
from tests.fakes import slack
from tests.fakes import telegram as tg
from tests.scenarios.test_slack import running as slack_bridge
from tests.scenarios.test_takeover import only_conversation
from tests.scenarios.test_takeover_commands import ASKED
from tests.scenarios.test_telegram import running as telegram_bridge

ALREADY = "A person from the support team already has this conversation; they'll answer you here."
# No listing of recently updated conversations during the test: only /human itself looks.
QUIET: dict[str, Any] = {"handoff_scan": 600.0, "raia_poll_timeout": 4.0}


async def test_telegram_human_again_and_the_button_say_a_person_has_it(sim: RaiaSimulator, tmp_path: Path) -> None:
    fake = tg.FakeTelegram()
    german = tg.user() | {"language_code": "de"}
    async with telegram_bridge(sim, fake, tmp_path, handoff_button=True, **QUIET) as bridge:
        await bridge.post(tg.message("What does it cost?"))
        await fake.wait_sent(1)
        chat, answer_id = fake.sent[0].chat_id, fake.message_id(fake.sent[0])
        markup = fake.markups[(chat, answer_id)]
        await bridge.post(tg.message("/human"))
        await fake.wait_sent(2)
        await bridge.post(tg.message("/human", sender=german))  # a person has it, as last seen
        await fake.wait_sent(3)
        person = markup["inline_keyboard"][1][0]["callback_data"]
        await bridge.post(tg.pressed(chat, answer_id, person, markup=markup))
        await fake.wait_sent(4)
        await bridge.idle()
    assert fake.texts()[1:] == [
        ASKED,
        "Ein Mensch aus dem Support-Team betreut dieses Gespräch schon; er antwortet dir hier.",
        ALREADY,
    ]
    assert sim.count("PUT", "/mode") == 1
    assert sim.conversations[only_conversation(sim)]["mode"] == "manual"


async def test_slack_raia_human_when_raia_says_a_person_has_it(sim: RaiaSimulator, tmp_path: Path) -> None:
    """The bridge has not seen the takeover yet: raia's mode says so, and the line the
    person gets stands for the takeover's notice (no second one follows)."""
    fake = slack.FakeSlack()
    async with slack_bridge(sim, fake, tmp_path, **QUIET) as bridge:
        await bridge.event(slack.dm("What does it cost?"))
        await fake.wait_posts(1)
        cid = only_conversation(sim)
        sim.takeover.take(cid, staff="Dana")
        response = await bridge.command("human")
        assert response.json() == {"response_type": "ephemeral", "text": ALREADY}
        sim.takeover.write(cid, "Hello, Dana here.")
        await fake.wait_posts(2)
        await bridge.idle()
    assert sim.count("PUT", "/mode") == 0
    assert [p.text for p in fake.posts[1:]] == ["Hello, Dana here."]
