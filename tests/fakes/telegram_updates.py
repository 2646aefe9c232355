"""The updates the fake Telegram hands the bridge (``FakeTelegram.push_update``), shaped as
the Bot API sends them: a message, a guest message, a button pressed; and the bot they name."""

from __future__ import annotations

import itertools
import time
from typing import Any

TOKEN = "123456:TEST-token-not-real"
BOT_ID = 123456
BOT_USERNAME = "raia_test_bot"

_update_ids = itertools.count(1)
_message_ids = itertools.count(1)


def user(uid: int = 42, first: str = "Ann", last: str | None = "Lee", username: str | None = "ann") -> dict[str, Any]:
    data: dict[str, Any] = {"id": uid, "is_bot": False, "first_name": first, "language_code": "en"}
    if last:
        data["last_name"] = last
    if username:
        data["username"] = username
    return data


def message(
    text: str | None = "hello",
    *,
    sender: dict[str, Any] | None = None,
    chat_id: int | None = None,
    chat_type: str = "private",
    entities: list[dict[str, Any]] | None = None,
    reply_to_bot: bool = False,
    extra: dict[str, Any] | None = None,
    update_id: int | None = None,
    kind: str = "message",
) -> dict[str, Any]:
    """A Telegram update carrying one message, as the Bot API sends it."""
    sender = sender or user()
    chat = {"id": chat_id if chat_id is not None else sender["id"], "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = sender["first_name"]
    else:
        chat["title"] = "Team chat"
    body: dict[str, Any] = {"message_id": next(_message_ids), "date": int(time.time()), "chat": chat, "from": sender}
    if text is not None:
        body["text"] = text
    if entities:
        body["entities"] = entities
    if text and text.startswith("/"):
        command = text.split()[0]
        body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}, *(entities or [])]
    if reply_to_bot:
        body["reply_to_message"] = {
            "message_id": next(_message_ids), "date": int(time.time()), "chat": chat, "text": "earlier answer",
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Raia", "username": BOT_USERNAME},
        }  # fmt: skip
    body.update(extra or {})
    return {"update_id": update_id if update_id is not None else next(_update_ids), kind: body}


def guest(
    text: str, *, sender: dict[str, Any] | None = None, query: str | None = None, chat: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A ``guest_message`` update: ``sender`` summoned the bot by @username in ``chat`` (a group
    the bot is not in, by default), as Bot API 10.0 sends it."""
    sender = sender or user()
    where = chat or {"id": -500, "type": "supergroup", "title": "Friends"}
    body: dict[str, Any] = {
        "message_id": next(_message_ids), "date": int(time.time()), "chat": where, "from": sender, "text": text,
        "guest_query_id": query or f"gq{next(_message_ids)}",
    }  # fmt: skip
    if "@" + BOT_USERNAME in text:
        body["entities"] = mention(text)
    return {"update_id": next(_update_ids), "guest_message": body}


def mention(text: str, username: str = BOT_USERNAME) -> list[dict[str, Any]]:
    """The mention entity for "@username" inside ``text`` (ASCII offsets are UTF-16 offsets here)."""
    at = text.index("@" + username)
    return [{"type": "mention", "offset": at, "length": len(username) + 1}]


def pressed(chat_id: int, message_id: int, data: str, *, sender: dict[str, Any] | None = None,
            chat_type: str = "private", markup: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """A ``callback_query`` update: ``sender`` pressed the button with ``data`` under a
    message (which shows ``markup``, as Telegram sends it along)."""
    sender = sender or user()
    chat = {"id": chat_id, "type": chat_type, **({"first_name": "Ann"} if chat_type == "private" else {"title": "T"})}
    bot = {"id": BOT_ID, "is_bot": True, "first_name": "Raia", "username": BOT_USERNAME}
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": f"cq{next(_message_ids)}",
            "from": sender,
            "chat_instance": "ci-1",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": chat,
                "from": bot,
                "text": "…",
                **({"reply_markup": markup} if markup else {}),
            },
        },
    }
