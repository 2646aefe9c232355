"""Telegram translation functions on recorded update payloads."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.base import Allowlist
from adapters.telegram.events import BotIdentity, Ignored, classify
from adapters.telegram.render import render, split
from adapters.telegram.wire import Update
from bridge.models import FileCitation, InboundMessage, Intent, ReplyKind, UrlCitation
from bridge.models import Reply as BridgeReply
from bridge.texts import ONLY_TEXT, say
from tests.fakes import telegram as tg

BOT = BotIdentity(id=tg.BOT_ID, username=tg.BOT_USERNAME)


def parse(data: dict[str, Any]) -> Update:
    return Update(data)


def test_text_mention_and_emoji_offsets_are_stripped() -> None:
    """A text_mention of the bot after an emoji (UTF-16 offsets) is removed from the question."""
    text = "😀 Raia, how are you?"
    entity = {
        "type": "text_mention",
        "offset": 3,
        "length": 4,
        "user": {"id": tg.BOT_ID, "is_bot": True, "first_name": "Raia"},
    }
    action = classify(parse(tg.message(text, chat_id=-5, chat_type="group", entities=[entity])), BOT, Allowlist())
    assert isinstance(action, InboundMessage)
    assert action.intent is Intent.ASK
    assert action.text == "😀 how are you?"
    assert action.origin.message is not None  # groups: reply to the question


def test_files_are_questions_only_when_addressed() -> None:
    """A photo replying to the bot is a question with the photo (the largest size, its caption
    the text, its album named); in a group otherwise it is ignored; a sticker gets the
    text-only note."""
    photo = {
        "photo": [
            {"file_id": "small", "file_unique_id": "u1", "width": 90, "height": 90, "file_size": 900},
            {"file_id": "big", "file_unique_id": "u2", "width": 1280, "height": 960, "file_size": 90_000},
        ],
        "caption": "What is in this picture?",
        "media_group_id": "album-7",
    }
    addressed = classify(
        parse(tg.message(None, chat_id=-5, chat_type="group", reply_to_bot=True, extra=photo)), BOT, Allowlist()
    )
    assert isinstance(addressed, InboundMessage)
    assert addressed.intent is Intent.ASK
    assert addressed.text == "What is in this picture?"
    (picture,) = addressed.attachments
    assert (picture.ref, picture.content_type, picture.size) == ("big", "image/jpeg", 90_000)
    assert addressed.album == "telegram:-5:album-7"
    voice = {"voice": {"file_id": "v", "file_unique_id": "uv", "duration": 3, "mime_type": "audio/ogg", "file_size": 5}}
    spoken = classify(parse(tg.message(None, extra=voice)), BOT, Allowlist())
    assert isinstance(spoken, InboundMessage)
    assert (spoken.text, spoken.attachments[0].content_type, spoken.album) == ("", "audio/ogg", None)
    assert (spoken.attachments[0].spoken, spoken.attachments[0].duration) == (True, 3.0)  # heard with TRANSCRIBE_URL
    assert not picture.spoken
    # Unaddressed in a group: an album's photo may only join its addressed photo's question;
    # a photo of its own is the group's business.
    joining = classify(parse(tg.message(None, chat_id=-5, chat_type="group", extra=photo)), BOT, Allowlist())
    assert isinstance(joining, InboundMessage)
    assert (joining.addressed, joining.album) == (False, "telegram:-5:album-7")
    single = {k: v for k, v in photo.items() if k != "media_group_id"}
    ignored = classify(parse(tg.message(None, chat_id=-5, chat_type="group", extra=single)), BOT, Allowlist())
    assert isinstance(ignored, Ignored)
    sticker = {"sticker": {"file_id": "s", "file_unique_id": "us", "width": 1, "height": 1, "is_animated": False,
                           "is_video": False, "type": "regular"}}  # fmt: skip
    noted = classify(parse(tg.message(None, extra=sticker)), BOT, Allowlist())
    assert isinstance(noted, InboundMessage)
    assert say(noted) == ONLY_TEXT


def test_bots_channels_and_other_bots_commands_are_ignored() -> None:
    """Messages from bots, channel posts and commands for another bot are not for us."""
    from_bot = tg.message("hi", sender={"id": 9, "is_bot": True, "first_name": "Other"})
    assert isinstance(classify(parse(from_bot), BOT, Allowlist()), Ignored)
    post = tg.message("news", chat_id=-100, chat_type="channel", kind="channel_post")
    assert isinstance(classify(parse(post), BOT, Allowlist()), Ignored)
    other = tg.message("/start@other_bot", chat_id=-5, chat_type="group")
    assert isinstance(classify(parse(other), BOT, Allowlist()), Ignored)
    ours = classify(parse(tg.message(f"/new@{tg.BOT_USERNAME}", chat_id=-5, chat_type="group")), BOT, Allowlist())
    assert isinstance(ours, InboundMessage)
    assert ours.intent is Intent.RESET


def test_identity_and_dedupe_key() -> None:
    """fkId is telegram:<user id>; custom data carries username and language; the update id dedupes."""
    update = tg.message("hello", sender=tg.user(77, "Zoë", None, "zoe"), update_id=4242)
    action = classify(parse(update), BOT, Allowlist())
    assert isinstance(action, InboundMessage)
    user = action.user
    assert (user.fk_id, user.first_name, user.last_name) == ("telegram:77", "Zoë", None)
    assert user.custom_data == {"telegramUserId": "77", "username": "zoe", "languageCode": "en"}
    assert action.dedupe_keys == (f"telegram:{tg.BOT_ID}:update:4242",)


def test_sources_are_entities_with_utf16_offsets() -> None:
    """Source titles become text_link entities whose offsets count UTF-16 units (emoji are two)."""
    reply = BridgeReply("😀 **Answer**", urls=(UrlCitation("https://a.example", "Guide [v2] *new*"),),
                        files=(FileCitation("f", "notes_2024.pdf"),))  # fmt: skip
    (part,) = render(reply)
    link = next(e for e in part.entities if e.type == "text_link")
    units = part.text.encode("utf-16-le")
    assert units[link.offset * 2 : (link.offset + link.length) * 2].decode("utf-16-le") == "Guide [v2] *new*"
    assert "notes_2024.pdf" in part.text


def test_notices_are_plain_text() -> None:
    """A bridge notice is sent as written, with no formatting and no sources."""
    (part,) = render(BridgeReply("Sorry — *not* now", kind=ReplyKind.NOTICE))
    assert (part.text, part.entities) == ("Sorry — *not* now", ())


def test_answers_and_sources_never_link_to_a_person() -> None:
    """A tg://user?id= link (a mention of whoever has that id) or any other non-web link, in
    the answer or its sources, keeps its words and loses the link; web links stay."""
    answer = "Ask [the boss](tg://user?id=42), [them](tg://openmessage?user_id=7) or read [docs](https://e.com/d)."
    urls = (UrlCitation("tg://user?id=43", "Boss"), UrlCitation("https://a.example", "Guide"))
    (part,) = render(BridgeReply(answer, urls=urls))
    assert part.text.startswith("Ask the boss, them or read docs.")
    assert "• Boss\n• Guide" in part.text
    assert [e.url for e in part.entities if e.url is not None] == ["https://e.com/d", "https://a.example"]
    assert all(e.user is None for e in part.entities)


def test_private_chats_follow_the_allowlists() -> None:
    """A private chat is the person's own: with TELEGRAM_ALLOWED_USERS, listed people are
    answered (whatever the chats list); with only TELEGRAM_ALLOWED_CHATS, it must name the
    person (id or @username); groups need both lists to allow."""

    def intent(allow: Allowlist, update: dict[str, Any] | None = None) -> Intent | None:
        action = classify(parse(update or tg.message("hi")), BOT, allow)  # from Ann, id 42, @ann
        return action.intent if isinstance(action, InboundMessage) else None

    group = Allowlist(chats=frozenset({"-100"}))
    assert intent(group) is Intent.NOT_ALLOWED
    assert intent(Allowlist(chats=frozenset({"-100", "42"}))) is Intent.ASK
    assert intent(Allowlist(chats=frozenset({"-100", "@ann"}))) is Intent.ASK
    both = Allowlist(users=frozenset({"@ann"}), chats=frozenset({"-100"}))
    assert intent(both) is Intent.ASK
    assert intent(both, tg.message("hi", sender=tg.user(5, "Eve", None, "eve"))) is Intent.NOT_ALLOWED
    text = f"@{tg.BOT_USERNAME} hi"
    in_group = tg.message(text, chat_id=-100, chat_type="supergroup", entities=tg.mention(text))
    assert intent(both, in_group) is Intent.ASK
    elsewhere = tg.message(text, chat_id=-7, chat_type="supergroup", entities=tg.mention(text))
    assert intent(both, elsewhere) is None


ANN = tg.user()
# Service messages as the Bot API sends them (each beside the usual message_id, date, chat, from).
SERVICE: dict[str, dict[str, Any]] = {
    "pinned message": {"pinned_message": {"message_id": 7, "date": 1767225600, "chat": {"id": 42, "type": "private",
                                          "first_name": "Ann"}, "from": ANN, "text": "remember this"}},
    "chat wallpaper set": {"chat_background_set": {"type": {"type": "fill", "dark_theme_dimming": 0,
                                                            "fill": {"type": "solid", "color": 16777215}}}},
    "auto-delete timer changed": {"message_auto_delete_timer_changed": {"message_auto_delete_time": 86400}},
    "web app data": {"web_app_data": {"data": '{"plan": "pro"}', "button_text": "Choose a plan"}},
    "members joined": {"new_chat_members": [{"id": 99, "is_bot": False, "first_name": "Bo"}]},
    "member left": {"left_chat_member": {"id": 99, "is_bot": False, "first_name": "Bo"}},
    "topic created": {"forum_topic_created": {"name": "Invoices", "icon_color": 7322096},
                      "message_thread_id": 12, "is_topic_message": True},
    "topic edited": {"forum_topic_edited": {"name": "Old invoices"}, "message_thread_id": 12,
                     "is_topic_message": True},
    "video chat started": {"video_chat_started": {}},
    "video chat scheduled": {"video_chat_scheduled": {"start_date": 1767229200}},
    "write access allowed": {"write_access_allowed": {"from_request": True}},
    "users shared": {"users_shared": {"request_id": 1, "users": [{"user_id": 77, "first_name": "Cy"}]}},
    "chat title changed": {"new_chat_title": "Support"},
    "payment received": {"successful_payment": {"currency": "XTR", "total_amount": 5, "invoice_payload": "p-1",
                                                "telegram_payment_charge_id": "c-1", "provider_payment_charge_id": ""}},
}  # fmt: skip
# Real content the bot cannot read: in a private chat, the text-only note.
UNREADABLE: dict[str, dict[str, Any]] = {
    "location": {"location": {"latitude": 52.52, "longitude": 13.405}},
    "venue": {"venue": {"location": {"latitude": 52.52, "longitude": 13.405}, "title": "Café", "address": "Main St 1"}},
    "contact": {"contact": {"phone_number": "+4930123456", "first_name": "Bo", "user_id": 99}},
    "poll": {"poll": {"id": "5", "question": "Lunch?", "total_voter_count": 0, "is_closed": False,
                      "is_anonymous": True, "type": "regular", "allows_multiple_answers": False,
                      "allows_revoting": True, "members_only": False,
                      "options": [{"persistent_id": "o1", "text": "yes", "voter_count": 0},
                                  {"persistent_id": "o2", "text": "no", "voter_count": 0}]}},
    "dice": {"dice": {"emoji": "🎲", "value": 4}},
    "animation": {"animation": {"file_id": "g", "file_unique_id": "ug", "width": 1, "height": 1, "duration": 1}},
}  # fmt: skip


@pytest.mark.parametrize("kind", SERVICE, ids=list(SERVICE))
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # int seconds, for now
def test_service_messages_are_ignored_silently(kind: str) -> None:
    """A pin, a wallpaper, a timer, Web App data, members, topics, video chats...: nobody
    asked anything, so no note goes back, not even to someone the allowlist refuses."""
    for chat_id, chat_type in ((42, "private"), (-100, "supergroup")):
        update = parse(tg.message(None, chat_id=chat_id, chat_type=chat_type, extra=SERVICE[kind]))
        assert isinstance(classify(update, BOT, Allowlist()), Ignored), chat_type
    stranger = parse(tg.message(None, extra=SERVICE[kind]))
    assert isinstance(classify(stranger, BOT, Allowlist(users=frozenset({"@someone_else"}))), Ignored)


@pytest.mark.parametrize("kind", UNREADABLE, ids=list(UNREADABLE))
def test_content_the_bot_cannot_read_gets_the_text_only_note(kind: str) -> None:
    """A location, a contact, a poll, a dice...: someone said something; in private they hear why it is not read."""
    noted = classify(parse(tg.message(None, extra=UNREADABLE[kind])), BOT, Allowlist())
    assert isinstance(noted, InboundMessage)
    assert say(noted) == ONLY_TEXT
    assert isinstance(classify(parse(tg.message(None, chat_id=-5, chat_type="group", extra=UNREADABLE[kind])), BOT,
                               Allowlist()), Ignored)  # fmt: skip


def test_a_short_answer_comes_back_whole_its_formatting_counted_in_utf16() -> None:
    """One part, without the cut search: an emoji is two UTF-16 units, so the bold word after
    it starts at 3 and the part's entities reach the very end; whitespace alone is no part."""
    (part,) = render(BridgeReply("😀 **bold**"))
    assert part.text == "😀 bold"
    assert [(e.type, e.offset, e.length) for e in part.entities] == [("bold", 3, 4)]
    assert split(" \n ", [], 4096) == []
