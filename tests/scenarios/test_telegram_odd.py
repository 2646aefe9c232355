"""Telegram: odd updates are taken politely, odd answers still arrive, a locked store is redelivered."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from adapters.raia.demo_agent import SimAnswer
from adapters.raia.simulator import RaiaSimulator
from bridge import texts
from tests import waiting
from tests.fakes import telegram as tg
from tests.scenarios.test_telegram import running


@pytest.fixture
def fake() -> tg.FakeTelegram:
    return tg.FakeTelegram()


async def test_unreadable_and_impossible_updates_are_taken_not_redelivered_forever(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An update PTB cannot read, or with ids that are not numbers, gets 200 and a log line; bad
    JSON, or JSON nested beyond reason, a 400 without a traceback."""
    odd_ids = tg.message("hi")
    odd_ids["message"]["chat"]["id"] = "abc"
    odd_ids["message"]["from"]["id"] = "zz"
    async with running(sim, fake, tmp_path) as bridge:
        assert (await bridge.post({"update_id": 1, "message": {"message_id": 1}})).status_code == 200
        assert (await bridge.post({"update_id": 2, "message": "hi"})).status_code == 200
        assert (await bridge.post(odd_ids)).status_code == 200
        headers = {"X-Telegram-Bot-Api-Secret-Token": "webhook-secret_123"}
        assert (await bridge.http.post("/telegram/webhook", content=b"{oops", headers=headers)).status_code == 400
        deep = b"[" * 5000 + b"]" * 5000  # RecursionError in json.loads: was a 500 with a traceback
        assert (await bridge.http.post("/telegram/webhook", content=deep, headers=headers)).status_code == 400
        nested = b'{"update_id": 3, "message": ' + b'{"a": ' * 100 + b"1" + b"}" * 101
        assert (await bridge.http.post("/telegram/webhook", content=nested, headers=headers)).status_code == 400
        await bridge.idle()
    assert fake.sent == []
    assert sim.count("POST", "/messages/async") == 0
    assert any("could not be read" in r.getMessage() for r in caplog.records)
    assert not any(r.exc_info for r in caplog.records)


async def test_service_messages_are_taken_silently_and_real_content_gets_a_note(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A pin, a wallpaper, Web App data, a topic created in a private chat: 200, logged at
    debug, nothing said; a location in the same chat gets the text-only note, once."""
    caplog.set_level(logging.DEBUG, logger="adapters.telegram.platform")
    chat = {"id": 42, "type": "private", "first_name": "Ann"}
    services: list[dict[str, Any]] = [
        {"pinned_message": {"message_id": 3, "date": 1767225600, "chat": chat, "from": tg.user(), "text": "pin"}},
        {"chat_background_set": {"type": {"type": "fill", "dark_theme_dimming": 0,
                                          "fill": {"type": "solid", "color": 255}}}},
        {"web_app_data": {"data": "{}", "button_text": "Open"}},
        {"forum_topic_created": {"name": "Invoices", "icon_color": 7322096}, "message_thread_id": 12,
         "is_topic_message": True},
        {"video_chat_started": {}},
    ]  # fmt: skip
    async with running(sim, fake, tmp_path) as bridge:
        for service in services:
            assert (await bridge.post(tg.message(None, extra=service))).status_code == 200
        location = {"location": {"latitude": 52.52, "longitude": 13.405}}
        assert (await bridge.post(tg.message(None, extra=location))).status_code == 200
        await fake.wait_sent(1)
        await bridge.idle()
    assert fake.texts() == [texts.ONLY_TEXT]
    ignored = [r for r in caplog.records if r.getMessage().endswith("ignored: a service message")]
    assert len(ignored) == len(services)
    assert all(r.levelno == logging.DEBUG for r in ignored)
    assert sim.count("POST", "/messages/async") == 0


async def test_lone_surrogates_in_a_question_and_an_answer(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path
) -> None:
    """A lone UTF-16 surrogate (valid JSON, not valid UTF-8) neither drops the question nor strands the answer."""
    sim.answer = lambda q: SimAnswer(text="broken \ud800 half", urls=[{"url": "https://e.com", "title": "T\udc00"}])
    async with running(sim, fake, tmp_path) as bridge:
        assert (await bridge.post(tg.message("what \ud83d is this"))).status_code == 200
        await fake.wait_sent(1)
    assert "broken \ufffd half" in fake.sent[0].text
    (conversation,) = sim.conversations
    assert sim.user_messages(conversation) == ["what \ufffd is this"]


async def test_links_telegram_refuses_keep_their_words(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path
) -> None:
    """[here](#anchor) and [doc](docs/x) keep their text but send no entity Telegram would refuse."""
    sim.answer = lambda q: SimAnswer(text="See [here](#top), [doc](docs/x) and [site](https://e.com/a).")
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.message("links?"))
        await fake.wait_sent(1)
    (sent,) = fake.sent
    assert "See here, doc and site." in sent.text
    assert [e.get("url") for e in sent.entities if e["type"] == "text_link"] == ["https://e.com/a"]


async def test_a_caption_that_mentions_the_bot_sends_its_file(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path
) -> None:
    """A document in a group whose caption mentions the bot is a question: the caption (without
    the mention) is its text, the document goes to raia with it; a type not allowed gets a note
    at the start of the answer."""
    caption = f"@{tg.BOT_USERNAME} what is in this?"
    fake.files["d"] = b"%PDF-1.7 quarterly report"
    document = {"document": {"file_id": "d", "file_unique_id": "u", "file_name": "q3.pdf",
                             "mime_type": "application/pdf"}, "caption": caption,
                "caption_entities": tg.mention(caption)}  # fmt: skip
    binary = {"document": {"file_id": "x", "file_unique_id": "ux"}, "caption": caption,
              "caption_entities": tg.mention(caption)}  # fmt: skip
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.message(None, chat_id=-100, chat_type="supergroup", extra=document))
        await fake.wait_sent(1)
        await bridge.post(tg.message(None, chat_id=-100, chat_type="supergroup", extra=binary))
        await fake.wait_sent(2)
    first, second = (m for c in sim.conversations.values() for m in c["messages"] if m["senderRole"] != "assistant")
    assert first["message"] == "what is in this?"
    assert [f["fileName"] for f in first["files"]] == ["q3.pdf"]
    (stored,) = sim.files.stored.values()
    assert stored["data"] == b"%PDF-1.7 quarterly report"
    assert second["files"] == []
    assert fake.texts()[1].startswith("I can't pass on files like document_")  # the answer starts with the note


async def test_a_locked_store_makes_telegram_redeliver(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With the database write-locked by another process the webhook answers 503; the redelivery is answered once."""
    caplog.set_level(logging.ERROR)
    update = tg.message("are you there?")
    async with running(sim, fake, tmp_path) as bridge:
        blocker = sqlite3.connect(tmp_path / "bridge.db", isolation_level=None, timeout=0)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            refused = await bridge.post(update, timeout=30)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert refused.status_code == 503
        assert (await bridge.post(update)).status_code == 200
        assert (await bridge.post(update)).status_code == 200  # a second redelivery is a duplicate
        await fake.wait_sent(1)
        await bridge.idle()
    assert len(fake.sent) == 1


async def test_long_polling_confirms_an_update_only_once_it_is_stored(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Polling: an update that cannot be stored (database locked) is fetched again, then answered once."""
    async with running(sim, fake, tmp_path, public_url=None, telegram_webhook_secret=None) as bridge:
        blocker = sqlite3.connect(tmp_path / "bridge.db", isolation_level=None, timeout=0)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            fake.push_update(tg.message("while locked"))
            # The store gives up after its busy timeout: the update is not confirmed.
            await waiting.until(
                lambda: any("could not be stored" in r.getMessage() for r in caplog.records),
                timeout=60,
                what="the locked store to refuse the polled update",
            )
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        await fake.wait_sent(1, timeout=30)
        await bridge.idle()
    assert len(fake.sent) == 1
    assert sim.count("POST", "/messages/async") == 1


async def test_long_polling_outlives_an_answer_nested_beyond_reason(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path
) -> None:
    """getUpdates answered with JSON 5,000 levels deep is a failed call like any other (PTB's
    own parser let a RecursionError end the polling loop): the next poll brings the update."""
    fake.raw["getUpdates"] = [b'{"ok": true, "result": ' + b"[" * 5000 + b"]" * 5000 + b"}"]
    async with running(sim, fake, tmp_path, public_url=None, telegram_webhook_secret=None):
        fake.push_update(tg.message("still polling?"))
        await fake.wait_sent(1, timeout=20)
    assert fake.raw["getUpdates"] == []
    assert sim.count("POST", "/messages/async") == 1
