"""``/raia`` replies (in the slash command's acknowledgement) in the person's language, as
far as the bridge already knows it, over real HTTP against the fake Slack Web API."""

from __future__ import annotations

from pathlib import Path

from adapters.raia.simulator import RaiaSimulator
from bridge import texts
from tests import waiting
from tests.fakes import slack
from tests.scenarios.test_slack import running


async def test_raia_stop_replies_in_the_persons_language(sim: RaiaSimulator, tmp_path: Path) -> None:
    """A German speaker (users.info's locale, learned from their question) stops their
    waiting question with /raia stop: the reply is German; /raia help too. Someone the
    bridge never looked up gets the default language, without a users.info call in the
    acknowledgement."""
    sim.delay = lambda text: 3600.0 if text.startswith("slow") else 0.01
    fake = slack.FakeSlack()
    fake.locales |= {"U1": "de-DE", "U2": "de-DE"}
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.event(slack.dm("slow question"))
        await waiting.until(lambda: len(sim.questions) == 1, what="the question at raia")
        stop = await bridge.command("stop", "U1", "D0001")
        assert stop.json() == {"response_type": "ephemeral", "text": texts.text("stopped", "de")}
        assert texts.text("stopped", "de") != texts.text("stopped", "en")
        help_reply = (await bridge.command("help", "U1", "D0001")).json()["text"]
        assert "Frag mich alles" in help_reply
        looked_up = fake.calls.count("users.info")
        stranger = await bridge.command("stop", "U2", "D0002")
        assert stranger.json()["text"] == texts.text("nothing_to_stop", "en")
        assert fake.calls.count("users.info") == looked_up


async def test_the_first_command_after_a_restart_is_in_the_persons_language(sim: RaiaSimulator, tmp_path: Path) -> None:
    """A German speaker asked once (users.info told "de-DE"); the bridge restarts, and their
    first /raia after it (before they write again) is German, still without a users.info
    call in the acknowledgement: the locale was kept in the database. Someone never looked
    up still gets the default language."""
    sim.delay = lambda _: 0.01
    fake = slack.FakeSlack()
    fake.locales |= {"U1": "de-DE", "U2": "de-DE"}
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.event(slack.dm("hallo"))
        await fake.wait_posts(1)
        await bridge.idle()
    async with running(sim, fake, tmp_path) as bridge:
        looked_up = fake.calls.count("users.info")
        help_reply = (await bridge.command("help", "U1", "D0001")).json()["text"]
        assert "Frag mich alles" in help_reply
        stop = await bridge.command("stop", "U1", "D0001")
        assert stop.json()["text"] == texts.text("nothing_to_stop", "de")
        stranger = await bridge.command("stop", "U2", "D0002")
        assert stranger.json()["text"] == texts.text("nothing_to_stop", "en")
        assert fake.calls.count("users.info") == looked_up
