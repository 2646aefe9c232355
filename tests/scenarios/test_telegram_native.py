"""Telegram's agent-era surface (Bot API 9.3 to 10.0) end to end, over real HTTP: update kinds
the bridge does not use, guest mode and topics in private chats."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest

from adapters.raia.simulator import RaiaSimulator
from tests.fakes import telegram as tg
from tests.scenarios.test_telegram import running


@pytest.fixture
def fake() -> tg.FakeTelegram:
    return tg.FakeTelegram()


def _ignored_updates() -> list[dict[str, Any]]:
    """One of each update kind and service message the bridge has no use for, as the Bot API
    (up to 10.0) sends them; and a kind from a later Bot API than the bridge knows."""
    now = int(time.time())
    ann = tg.user()
    private = {"id": 42, "type": "private", "first_name": "Ann"}
    group = {"id": -100, "type": "supergroup", "title": "Team chat"}
    channel = {"id": -200, "type": "channel", "title": "News"}
    bot = {"id": tg.BOT_ID, "is_bot": True, "first_name": "Raia", "username": tg.BOT_USERNAME}
    business = {"message_id": 5, "date": now, "chat": private, "from": ann, "text": "hi",
                "business_connection_id": "bc1"}  # fmt: skip
    member = {"status": "member", "user": bot}
    kinds: list[dict[str, Any]] = [
        {"business_connection": {"id": "bc1", "user": ann, "user_chat_id": 42, "date": now, "is_enabled": True}},
        {"business_message": business},
        {"edited_business_message": {**business, "edit_date": now}},
        {"deleted_business_messages": {"business_connection_id": "bc1", "chat": private, "message_ids": [5]}},
        {"message_reaction": {"chat": private, "message_id": 7, "user": ann, "date": now, "old_reaction": [],
                              "new_reaction": [{"type": "emoji", "emoji": "👍"}]}},
        {"message_reaction_count": {"chat": group, "message_id": 7, "date": now,
                                    "reactions": [{"type": {"type": "emoji", "emoji": "👍"}, "total_count": 2}]}},
        {"managed_bot": {"user": ann, "bot": {"id": 77, "is_bot": True, "first_name": "Mini"}}},
        {"purchased_paid_media": {"from": ann, "paid_media_payload": "p1"}},
        {"edited_message": {"message_id": 8, "date": now, "edit_date": now, "chat": private, "from": ann,
                            "text": "edited"}},
        {"channel_post": {"message_id": 9, "date": now, "chat": channel, "text": "news"}},
        {"my_chat_member": {"chat": group, "from": ann, "date": now, "old_chat_member": {"status": "left",
                            "user": bot}, "new_chat_member": member}},
        {"chat_join_request": {"chat": group, "from": ann, "user_chat_id": 42, "date": now}},
        {"poll_answer": {"poll_id": "p", "user": ann, "option_ids": [0]}},
        {"inline_query": {"id": "iq1", "from": ann, "query": "what", "offset": ""}},
        {"chosen_inline_result": {"result_id": "r", "from": ann, "query": "what"}},
        {"some_update_from_bot_api_11": {"anything": True}},
    ]  # fmt: skip
    services: list[dict[str, Any]] = [
        {"pinned_message": {"message_id": 3, "date": now, "chat": private, "from": ann, "text": "pin"}},
        {"chat_background_set": {"type": {"type": "fill", "dark_theme_dimming": 0,
                                          "fill": {"type": "solid", "color": 255}}}},
        {"message_auto_delete_timer_changed": {"message_auto_delete_time": 86400}},
        {"web_app_data": {"data": "{}", "button_text": "Open"}},
        {"checklist_tasks_done": {"marked_as_done_task_ids": [1]}},
        {"checklist_tasks_added": {"tasks": [{"id": 2, "text": "more"}]}},
        {"managed_bot_created": {"bot": {"id": 77, "is_bot": True, "first_name": "Mini"}}},
        {"forum_topic_created": {"name": "Invoices", "icon_color": 7322096}, "message_thread_id": 12,
         "is_topic_message": True},
        {"forum_topic_edited": {"name": "Bills"}, "message_thread_id": 12, "is_topic_message": True},
        {"write_access_allowed": {"from_request": True}},
        {"users_shared": {"request_id": 1, "users": [{"user_id": 5}]}},
        {"gift": {"gift": {"id": "g", "sticker": {"file_id": "s", "file_unique_id": "s", "type": "regular",
                                                   "width": 1, "height": 1, "is_animated": False,
                                                   "is_video": False}, "star_count": 5}}},
        {"successful_payment": {"currency": "XTR", "total_amount": 5, "invoice_payload": "x",
                                "telegram_payment_charge_id": "c", "provider_payment_charge_id": "p"}},
        {"video_chat_started": {}},
    ]  # fmt: skip
    updates = [{"update_id": 9_000 + index, **kind} for index, kind in enumerate(kinds)]
    updates += [tg.message(None, extra=service) for service in services]
    updates += [tg.message(None, chat_id=-100, chat_type="supergroup", extra=service) for service in services]
    return updates


async def test_update_kinds_and_service_messages_the_bridge_does_not_use_are_taken_in_silence(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Business messages, reactions, managed bots, paid media, member changes, inline queries, a
    kind from a later Bot API, and service messages of every sort (a pin, a wallpaper, an
    auto-delete timer, Web App data, checklist changes, a gift...) in a private chat and in a
    group: each gets a 2xx; nobody is written to, nothing reaches the agent, nothing is logged
    above debug."""
    caplog.set_level(logging.DEBUG)
    updates = _ignored_updates()
    async with running(sim, fake, tmp_path) as bridge:
        for update in updates:
            response = await bridge.post(update)
            assert 200 <= response.status_code < 300, (update, response.status_code, response.text)
        await bridge.idle()
    assert fake.sent == []
    assert fake.actions == []
    assert sim.count("POST", "/messages/async") == 0
    assert sim.users == {}
    loud = [r.getMessage() for r in caplog.records if r.levelno > logging.INFO and r.name.startswith("adapters")]
    assert loud == []
