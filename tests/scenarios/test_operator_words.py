"""An operator's ``MESSAGES_FILE`` reaches people through the real platforms, the
platforms' own texts (kept in their adapters) as much as the core's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.raia.simulator import RaiaSimulator
from bridge import texts
from tests.conftest import make_settings
from tests.fakes import slack
from tests.fakes import telegram as tg
from tests.scenarios import test_slack, test_telegram

WORDS = """
[de]
telegram_help = "{how} Fragen? Einfach schreiben. Team Nord hilft."
command_reset = "Alles auf Anfang"
timeout = "Dauert heute länger."

[en]
slack_help = "Ask away. Team North answers: `/raia reset` starts over."
"""


@pytest.fixture
def messages_file(tmp_path: Path) -> Iterator[Path]:
    """The operator's file, applied as ``raia-bridge`` applies it at start (and undone after)."""
    path = tmp_path / "messages.toml"
    path.write_text(WORDS)
    texts.use_overrides(make_settings(messages_file=path).messages())
    try:
        yield path
    finally:
        texts.use_overrides({})


async def test_a_german_telegram_help_and_menu_say_the_operators_words(
    sim: RaiaSimulator, tmp_path: Path, messages_file: Path
) -> None:
    """/help from a German speaker and the German command menu carry the file's Telegram
    texts; an English speaker still gets the shipped help."""
    fake = tg.FakeTelegram()
    german = tg.user() | {"language_code": "de"}
    async with test_telegram.running(sim, fake, tmp_path, messages_file=messages_file) as bridge:
        await bridge.post(tg.message("/help", sender=german))
        await fake.wait_sent(1)
        await bridge.post(tg.message("/help"))
        await fake.wait_sent(2)
    # The file's words, then the line for asking a person (a command the operator's older
    # file cannot know about).
    german_help = fake.sent[0].text.splitlines()
    assert german_help[0] == "Schick mir einfach eine Nachricht. Fragen? Einfach schreiben. Team Nord hilft."
    assert german_help[1].startswith("/human")
    assert fake.sent[1].text.startswith("Just send me a message. I answer with sources")
    assert fake.menus["de"][2] == {"command": "reset", "description": "Alles auf Anfang"}
    assert fake.menus["fr"][2] == {"command": "reset", "description": "Démarrer une nouvelle conversation"}


async def test_a_slack_only_bridge_takes_a_file_with_telegram_texts(
    sim: RaiaSimulator, tmp_path: Path, messages_file: Path
) -> None:
    """With only Slack configured the file's Telegram keys are still known (the file is not
    refused), and ``/raia help`` answers in the file's words."""
    fake = slack.FakeSlack()
    async with test_slack.running(sim, fake, tmp_path, messages_file=messages_file) as bridge:
        response = await bridge.command("help")
    assert response.json()["text"].startswith("Ask away. Team North answers: `/raia reset` starts over. ")
    assert "`/raia human`" in response.json()["text"]
