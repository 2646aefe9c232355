"""Telegram's agent-era surface (Bot API 9.3 to 10.0) end to end, over real HTTP: update kinds
the bridge does not use, guest mode and topics in private chats."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest

from adapters.raia.demo_agent import SimAnswer
from adapters.raia.simulator import RaiaSimulator
from tests import waiting
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


# -- guest mode (Bot API 10.0) -------------------------------------------------------------


async def test_a_guest_question_is_answered_in_place_as_a_turn_of_the_persons_conversation(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path
) -> None:
    """Summoned by @username in a chat it is not in, the bot answers there once (answerGuestQuery,
    without the mention in the question); the question continues the person's own conversation,
    the one their private chat uses; nothing is posted with sendMessage."""
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.message("first, privately"))
        await fake.wait_sent(1)
        asked = f"@{tg.BOT_USERNAME} what does it cost?"
        assert (await bridge.post(tg.guest(asked, query="gq-fast"))).status_code == 200
        await waiting.until(lambda: "gq-fast" in fake.guest_answers, what="the guest answer")
        await bridge.idle()
    answer = fake.guest_answers["gq-fast"]
    assert "what does it cost" in answer.text
    assert "Sources" in answer.text
    assert any(e["type"] == "text_link" for e in answer.entities)
    assert len(fake.sent) == 1  # only the private question's answer
    (conversation,) = sim.conversations
    assert sim.user_messages(conversation) == ["first, privately", "what does it cost?"]
    assert "typing" not in [action for chat, action in fake.actions if chat != 42]


async def test_a_long_guest_answer_is_shortened_in_place_and_whole_in_the_private_chat(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path
) -> None:
    """An answer longer than one message: in place, its beginning with a link-free ending that
    points to the private chat, within Telegram's 4,096 units; in the private chat, all of it."""
    long = "\n\n".join(f"Paragraph {i}: " + "word " * 60 for i in range(40))
    sim.answer = lambda q: SimAnswer(text=long, urls=[{"url": "https://docs.example.com/a", "title": "Guide"}])
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.guest(f"@{tg.BOT_USERNAME} tell me everything", query="gq-long"))
        await waiting.until(lambda: "gq-long" in fake.guest_answers, what="the guest answer")
        await fake.wait_sent(4)
        await bridge.idle()
    in_place = fake.guest_answers["gq-long"]
    assert in_place.text.startswith("Paragraph 0:")
    assert in_place.text.endswith("… the full answer is in our private chat.")
    assert len(in_place.text.encode("utf-16-le")) // 2 <= 4096
    ending = in_place.text.rindex("…")
    assert all(e["offset"] + e["length"] <= ending for e in in_place.entities)  # no link in the ending
    private = "".join(fake.texts(42))
    assert {s.chat_id for s in fake.sent} == {42}
    assert "Paragraph 39:" in private
    assert private.replace("\n", "").replace(" ", "") == (long.replace("\n", "").replace(" ", "") + "Sources•Guide")


async def test_a_slow_guest_answer_leaves_a_note_in_place_and_arrives_in_the_private_chat(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path
) -> None:
    """The agent is slower than TELEGRAM_GUEST_WINDOW: when the window closes the guest query is
    answered with a short note (in the person's language), and the answer, when it comes, goes
    to the private chat; the query is answered once."""
    sim.delay = lambda _: 1.0
    german = tg.user(43, "Lena", "Roth", "lena") | {"language_code": "de"}
    async with running(sim, fake, tmp_path, telegram_guest_window=0.2) as bridge:
        await bridge.post(tg.guest(f"@{tg.BOT_USERNAME} was kostet das?", sender=german, query="gq-slow"))
        await waiting.until(lambda: "gq-slow" in fake.guest_answers, what="the note in place")
        assert fake.sent == []  # the answer is not there yet
        await fake.wait_sent(1)
        await bridge.idle()
    assert "privaten Chat" in fake.guest_answers["gq-slow"].text
    (sent,) = fake.sent
    assert sent.chat_id == 43
    assert "was kostet das" in sent.text
    assert fake.calls.count("answerGuestQuery") == 1


async def test_a_guest_question_telegram_no_longer_takes_is_answered_in_the_private_chat(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path
) -> None:
    """Telegram refuses the answer in place (the query expired on its side): the answer goes to
    the private chat instead, once."""
    fake.guest_expired.add("gq-old")
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.guest(f"@{tg.BOT_USERNAME} still there?", query="gq-old"))
        await fake.wait_sent(1)
        await bridge.idle()
    assert fake.guest_answers == {}
    assert [s.chat_id for s in fake.sent] == [42]
    assert "still there" in fake.sent[0].text


async def test_long_polling_asks_for_guest_questions_and_answers_them_in_place(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path
) -> None:
    """Without a webhook, getUpdates asks for guest messages too (allowed_updates) and they are
    answered in place like a webhook's."""
    async with running(sim, fake, tmp_path, public_url=None, telegram_webhook_secret=None):
        fake.push_update(tg.guest(f"@{tg.BOT_USERNAME} polled?", query="gq-poll"))
        await waiting.until(lambda: "gq-poll" in fake.guest_answers, what="the guest answer", timeout=20)
    assert "polled" in fake.guest_answers["gq-poll"].text
    assert fake.sent == []


async def test_guest_questions_follow_the_allowlists(sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path) -> None:
    """Someone the allowlist does not name gets the refusal in place and the agent never hears of
    it; a listed person in a group the chat list does not name, likewise; a listed person in a
    listed group is answered."""
    bob = tg.user(7, "Bob", None, "bob")
    listed = {"id": -600, "type": "supergroup", "title": "Staff"}
    async with running(sim, fake, tmp_path, telegram_allowed_users="42", telegram_allowed_chats="-600") as bridge:
        await bridge.post(tg.guest(f"@{tg.BOT_USERNAME} hello", sender=bob, query="gq-bob", chat=listed))
        await bridge.post(tg.guest(f"@{tg.BOT_USERNAME} hello", query="gq-elsewhere"))
        await bridge.post(tg.guest(f"@{tg.BOT_USERNAME} pricing?", query="gq-ok", chat=listed))
        await waiting.until(lambda: len(fake.guest_answers) == 3, what="three guest answers")
        await bridge.idle()
    refusal = "Sorry, this assistant is not available to you"
    assert fake.guest_answers["gq-bob"].text.startswith(refusal)
    assert fake.guest_answers["gq-elsewhere"].text.startswith(refusal)
    assert "pricing" in fake.guest_answers["gq-ok"].text
    assert sim.count("POST", "/messages/async") == 1


# -- topics in private chats (Bot API 9.3/9.4) --------------------------------------------


def _in_topic(text: str, thread: int, **extra: Any) -> dict[str, Any]:
    """A private message written in topic ``thread`` of the chat with the bot."""
    return tg.message(text, extra={"message_thread_id": thread, "is_topic_message": True, **extra})


async def test_each_private_topic_is_its_own_conversation_and_answers_go_to_their_topic(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path
) -> None:
    """With topics on, the chat outside topics and each topic are separate agent conversations
    (CONVERSATION_SCOPE=user aside); a follow-up continues its topic's; each answer is posted
    in the topic its question came from."""
    fake.topics_enabled = True
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.message("outside any topic"))
        await bridge.post(_in_topic("about invoices", 100))
        await bridge.post(_in_topic("about travel", 200))
        await fake.wait_sent(3)
        await bridge.post(_in_topic("and the second invoice?", 100))
        await fake.wait_sent(4)
        await bridge.idle()
    assert len(sim.conversations) == 3
    asked = sorted(sim.user_messages(c) for c in sim.conversations)
    assert asked == [["about invoices", "and the second invoice?"], ["about travel"], ["outside any topic"]]
    for sent in fake.sent:
        thread = sent.params.get("message_thread_id")
        if "invoice" in sent.text:
            assert thread == 100
        elif "travel" in sent.text:
            assert thread == 200
        else:
            assert thread is None


async def test_new_opens_a_topic_named_by_its_first_question_and_the_conversation_outside_goes_on(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path
) -> None:
    """/new with topics on opens a topic (createForumTopic) and says so inside it; the first
    question asked there names the topic, a later one does not rename it; the conversation
    where /new was typed is not ended."""
    fake.topics_enabled = True
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.message("before the new topic"))
        await fake.wait_sent(1)
        await bridge.post(tg.message("/new"))
        await fake.wait_sent(2)
        ((chat, thread), name) = next(iter(fake.topics.items()))
        assert (chat, name) == (42, "New conversation")
        assert fake.sent[1].params.get("message_thread_id") == thread
        assert fake.sent[1].text.startswith("A new conversation: ask your question here.")
        await bridge.post(_in_topic("How do refunds work for annual plans?", thread))
        await fake.wait_sent(3)
        await bridge.post(_in_topic("And for monthly ones?", thread))
        await bridge.post(tg.message("back outside"))
        await fake.wait_sent(5)
        await bridge.idle()
    assert fake.renames == [(42, thread, "How do refunds work for annual plans?")]
    assert fake.topics[(42, thread)] == "How do refunds work for annual plans?"
    asked = sorted(sim.user_messages(c) for c in sim.conversations)
    assert asked == [
        ["How do refunds work for annual plans?", "And for monthly ones?"],
        ["before the new topic", "back outside"],
    ]
    assert fake.sent[2].params.get("message_thread_id") == thread


async def test_a_topic_new_opened_before_a_restart_is_named_by_its_first_question_after_it(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path
) -> None:
    """The topics /new opened are kept in the database: the bridge restarts between /new and
    the first question, which still names the topic (once)."""
    fake.topics_enabled = True
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.message("/new"))
        await fake.wait_sent(1)
        await bridge.idle()
    ((chat, thread), name) = next(iter(fake.topics.items()))
    assert name == "New conversation"
    async with running(sim, fake, tmp_path) as bridge:  # the same database, a new process's memory
        await bridge.post(_in_topic("Where is my invoice?", thread))
        await fake.wait_sent(2)
        await bridge.post(_in_topic("And the one before?", thread))
        await fake.wait_sent(3)
        await bridge.idle()
    assert fake.renames == [(chat, thread, "Where is my invoice?")]


async def test_a_topic_the_person_opened_without_a_name_takes_its_first_question(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path
) -> None:
    """A topic opened by the person with no name of its own (is_name_implicit) is named from
    the message right after its creation; one they named, or a later message, renames nothing."""
    fake.topics_enabled = True
    created = {"message_id": 300, "date": int(time.time()), "chat": {"id": 42, "type": "private"},
               "from": tg.user(), "forum_topic_created": {"name": "Topic", "icon_color": 7322096,
                                                         "is_name_implicit": True}}  # fmt: skip
    named = created | {"message_id": 400, "forum_topic_created": {"name": "Mine", "icon_color": 7322096}}
    long = "What is the cancellation policy for the premium support add-on when I switch plans mid-year?"
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.post(_in_topic(long, 300, message_id=301, reply_to_message=created))
        await bridge.post(_in_topic("another question", 300, message_id=305, reply_to_message=created))
        await bridge.post(_in_topic("in my own topic", 400, message_id=401, reply_to_message=named))
        await fake.wait_sent(3)
        await bridge.idle()
    assert fake.renames == [(42, 300, "What is the cancellation policy for the premium support add-on…")]
    assert len(fake.renames[0][2]) <= 64
    assert len(sim.conversations) == 2


async def test_without_topics_new_starts_over_in_place(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path
) -> None:
    """A bot without topics keeps /new as /reset: no topic, the next question starts a new conversation."""
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.message("first"))
        await fake.wait_sent(1)
        await bridge.post(tg.message("/new"))
        await fake.wait_sent(2)
        await bridge.post(tg.message("second"))
        await fake.wait_sent(3)
    assert "createForumTopic" not in fake.calls
    assert sorted(sim.user_messages(c) for c in sim.conversations) == [["first"], ["second"]]


# -- updates read from their JSON ------------------------------------------------------------


async def test_an_update_without_fields_the_bridge_does_not_read_is_still_answered(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path
) -> None:
    """The bridge reads updates from their JSON, only the fields it uses: a message without a
    date (which python-telegram-bot requires, and would drop the update for) and a sender
    without a first name are still answered; one without a chat is taken and logged."""
    bare = {"update_id": 8_001, "message": {"message_id": 1, "chat": {"id": 42, "type": "private"},
                                             "from": {"id": 42, "is_bot": False}, "text": "no date here"}}  # fmt: skip
    chatless = {"update_id": 8_002, "message": {"message_id": 2, "from": {"id": 42}, "text": "where?"}}
    async with running(sim, fake, tmp_path) as bridge:
        assert (await bridge.post(bare)).status_code == 200
        assert (await bridge.post(chatless)).status_code == 200
        await fake.wait_sent(1)
        await bridge.idle()
    assert "no date here" in fake.sent[0].text
    assert len(fake.sent) == 1
    (raia_user,) = sim.users.values()
    assert raia_user["firstName"] == "Telegram user"
