"""The few fields of a Telegram update the bridge reads, straight from its JSON.

python-telegram-bot's ``Update.de_json`` builds an object for every field of every nested
object (a message's chat, sender, entities, reply, its reply's chat and sender...), then
freezes each one: for a question that is most of reading an update (issue 27 measured
PTB's objects at 7-8 % of a Telegram turn, see ``bench/telegram_updates.py``), and it
refuses a whole update when a field it requires is missing, even one the bridge never
looks at. These views read only what ``events`` needs, named as PTB names them (so the
translation reads the same), and check only that: an update without what the bridge
needs is a ``ValueError`` (acknowledged and logged as unreadable, never redelivered).

Button presses (``callback_query``) still go through PTB where its objects are needed to
answer them (``adapters.telegram.feedback``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _dict(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} is not an object")
    return value


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class User:
    __slots__ = ("first_name", "id", "is_bot", "language_code", "last_name", "username")

    def __init__(self, data: Any) -> None:
        data = _dict(data, "a user")
        if "id" not in data:
            raise ValueError("a user without an id")
        self.id: Any = data["id"]  # checked where it matters (``events._is_id``)
        self.is_bot = data.get("is_bot") is True
        self.first_name = _str(data.get("first_name")) or ""
        self.last_name = _str(data.get("last_name"))
        self.username = _str(data.get("username"))
        self.language_code = _str(data.get("language_code"))


class Chat:
    __slots__ = ("id", "type", "username")

    def __init__(self, data: Any) -> None:
        data = _dict(data, "a chat")
        kind = data.get("type")
        if "id" not in data or not isinstance(kind, str):
            raise ValueError("a chat without an id or a type")
        self.id: Any = data["id"]
        self.type = kind
        self.username = _str(data.get("username"))


class MessageEntity:
    MENTION = "mention"
    TEXT_MENTION = "text_mention"
    BOT_COMMAND = "bot_command"
    __slots__ = ("length", "offset", "type", "user")

    def __init__(self, data: Any) -> None:
        data = _dict(data, "an entity")
        kind, offset, length = data.get("type"), _int(data.get("offset")), _int(data.get("length"))
        if not isinstance(kind, str) or offset is None or length is None:
            raise ValueError("an entity without a type, an offset or a length")
        self.type, self.offset, self.length = kind, offset, length
        self.user = User(data["user"]) if "user" in data else None


class File:
    """A photo size, document, voice note, audio, video or video note: what is fetched later."""

    __slots__ = ("duration", "file_id", "file_name", "file_size", "mime_type")

    def __init__(self, data: Any) -> None:
        data = _dict(data, "a file")
        file_id = _str(data.get("file_id"))
        if file_id is None:
            raise ValueError("a file without a file_id")
        self.file_id = file_id
        self.file_size = _int(data.get("file_size"))
        self.file_name = _str(data.get("file_name"))
        self.mime_type = _str(data.get("mime_type"))
        self.duration = _int(data.get("duration"))  # seconds: a recording's length


class TopicCreated:
    __slots__ = ("is_name_implicit",)

    def __init__(self, data: Any) -> None:
        self.is_name_implicit = _dict(data, "a topic").get("is_name_implicit") is True


class Message:
    __slots__ = (
        "_data", "audio", "caption", "chat", "document", "entities", "forum_topic_created", "from_user",
        "guest_query_id", "is_topic_message", "media_group_id", "message_id", "message_thread_id", "photo",
        "reply_to_message", "text", "video", "video_note", "voice",
    )  # fmt: skip

    def __init__(self, data: Any) -> None:
        data = _dict(data, "a message")
        message_id = _int(data.get("message_id"))
        if message_id is None:
            raise ValueError("a message without a message_id")
        self._data = data
        self.message_id = message_id
        self.chat = Chat(data.get("chat"))
        self.from_user = User(data["from"]) if "from" in data else None
        self.text = _str(data.get("text"))
        self.caption = _str(data.get("caption"))
        # A message has entities for its text or for its caption, never both.
        raw = data.get("entities") if self.text is not None else data.get("caption_entities")
        if raw is not None and not isinstance(raw, list):
            raise ValueError("entities are not a list")
        self.entities = tuple(MessageEntity(e) for e in raw or ())
        self.media_group_id = _str(data.get("media_group_id"))
        self.message_thread_id = _int(data.get("message_thread_id"))
        self.is_topic_message = data.get("is_topic_message") is True
        self.guest_query_id = _str(data.get("guest_query_id"))
        replied = data.get("reply_to_message")
        self.reply_to_message = Message(replied) if replied is not None else None
        topic = data.get("forum_topic_created")
        self.forum_topic_created = TopicCreated(topic) if topic is not None else None
        photo = data.get("photo")
        self.photo = tuple(File(size) for size in photo) if isinstance(photo, list) else ()
        self.document, self.voice, self.audio = self._file("document"), self._file("voice"), self._file("audio")
        self.video, self.video_note = self._file("video"), self._file("video_note")

    def _file(self, key: str) -> File | None:
        value = self._data.get(key)
        return File(value) if value is not None else None

    @property
    def chat_id(self) -> Any:
        return self.chat.id

    def carries(self, keys: tuple[str, ...]) -> bool:
        """Whether any of these fields is there and not empty (what a person sent besides text)."""
        return any(self._data.get(key) for key in keys)

    def parse_entities(self, types: list[str]) -> dict[MessageEntity, str]:
        """The text's entities of these types, each with the text it covers (offsets count
        UTF-16 units). Raises ``UnicodeError`` for a text with a lone surrogate, as PTB does."""
        return self._parse(self.text, types)

    def parse_caption_entities(self, types: list[str]) -> dict[MessageEntity, str]:
        return self._parse(self.caption, types)

    def _parse(self, text: str | None, types: list[str]) -> dict[MessageEntity, str]:
        if text is None:
            return {}
        wanted = [e for e in self.entities if e.type in types]
        if not wanted:
            return {}
        encoded = text.encode("utf-16-le")
        return {e: encoded[e.offset * 2 : (e.offset + e.length) * 2].decode("utf-16-le") for e in wanted}


class CallbackQuery:
    __slots__ = ("data", "from_user", "id", "message")

    def __init__(self, data: Any) -> None:
        data = _dict(data, "a callback query")
        query_id = _str(data.get("id"))
        if query_id is None or "from" not in data:
            raise ValueError("a callback query without an id or a sender")
        self.id = query_id
        self.from_user = User(data["from"])
        self.data = _str(data.get("data"))
        # A message too old for the client to send along comes with its date 0 (PTB's
        # InaccessibleMessage): as good as none.
        message = data.get("message")
        self.message = Message(message) if isinstance(message, Mapping) and message.get("date") != 0 else None


class Update:
    """A message, guest message or button press (``message`` / ``guest_message`` /
    ``callback_query``); other kinds are not read here."""

    __slots__ = ("callback_query", "guest_message", "message", "update_id")

    def __init__(self, data: Any) -> None:
        data = _dict(data, "an update")
        self.update_id: Any = data.get("update_id")
        self.message = Message(data["message"]) if "message" in data else None
        self.guest_message = Message(data["guest_message"]) if "guest_message" in data else None
        self.callback_query = CallbackQuery(data["callback_query"]) if "callback_query" in data else None
