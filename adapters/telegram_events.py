"""Telegram update -> what the bridge should do with it (pure; tested on recorded updates)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import Message, MessageEntity, Update

from bridge.models import InboundMessage, PlatformUser, Route

PLATFORM = "telegram"
COMMANDS = ("start", "help", "reset", "new")
ONLY_TEXT = "Sorry, I can only read text messages for now. Please type your question."
NOT_ALLOWED = "Sorry, this assistant is not available to you. Please contact the team that runs it."


@dataclass(frozen=True)
class BotInfo:
    id: int
    username: str  # without "@"


@dataclass(frozen=True)
class Allowlist:
    users: frozenset[str] = frozenset()  # ids or "@username" (lower case)
    chats: frozenset[str] = frozenset()

    def permits(self, message: Message) -> bool:
        user, chat = message.from_user, message.chat
        if self.users and not (
            user and (str(user.id) in self.users or (user.username and f"@{user.username.lower()}" in self.users))
        ):
            return False
        return not self.chats or (
            str(chat.id) in self.chats or bool(chat.username and f"@{chat.username.lower()}" in self.chats)
        )


@dataclass(frozen=True)
class Ask:
    message: InboundMessage


@dataclass(frozen=True)
class Command:
    name: str  # start | help | reset (``new`` is an alias of reset)
    user: PlatformUser
    route: Route
    private: bool
    key: str


@dataclass(frozen=True)
class Notify:
    """Answer at once with a fixed text (non-text messages, refusals)."""

    route: Route
    text: str
    key: str


@dataclass(frozen=True)
class Ignore:
    reason: str


Action = Ask | Command | Notify | Ignore


def classify(update: Update, bot: BotInfo, allow: Allowlist) -> Action:
    message = update.message  # edited messages, channel posts, callbacks...: not ours
    if message is None:
        return Ignore("not a new message")
    sender = message.from_user
    if sender is None or sender.is_bot:
        return Ignore("from a bot or anonymous")
    private = message.chat.type == "private"
    if message.chat.type not in ("private", "group", "supergroup"):
        return Ignore(f"chat type {message.chat.type}")
    key = f"{PLATFORM}:{bot.id}:update:{update.update_id}"
    route = _route(message, private)
    if not allow.permits(message):
        # A polite refusal in private; silence in groups (no noise for others).
        return Notify(route, NOT_ALLOWED, key) if private else Ignore("not on the allowlist")
    addressed = private or _mentions(message, bot) or _replies_to(message, bot)
    text = message.text
    if text is None:
        return Notify(route, ONLY_TEXT, key) if addressed else Ignore("non-text, not addressed")
    command = _command(message, bot)
    if command is not None:
        name, target = command
        if target is not None and target.lower() != bot.username.lower():
            return Ignore("command for another bot")
        if name in COMMANDS:
            return Command("reset" if name == "new" else name, _user(message), route, private, key)
        if private or target is not None:
            return Command("unknown", _user(message), route, private, key)
        return Ignore("unknown command in a group")
    if not addressed:
        return Ignore("group message not addressed to the bot")
    question = _strip_mentions(message, bot).strip()
    if not question:
        return Command("help", _user(message), route, private, key)  # a bare "@bot"
    return Ask(InboundMessage(platform=PLATFORM, user=_user(message), route=route, text=question, dedupe_keys=(key,)))


def _route(message: Message, private: bool) -> Route:
    thread = message.message_thread_id if message.is_topic_message else None
    return Route(
        chat=str(message.chat_id),
        thread=str(thread) if thread is not None else None,
        # In groups the answer replies to the question; in private chats it need not.
        message=None if private else str(message.message_id),
        extra={"chat_type": message.chat.type},
    )


def _user(message: Message) -> PlatformUser:
    sender = message.from_user
    assert sender is not None
    custom: dict[str, str] = {"telegramUserId": str(sender.id)}
    if sender.username:
        custom["username"] = sender.username
    if sender.language_code:
        custom["languageCode"] = sender.language_code
    return PlatformUser(
        fk_id=f"{PLATFORM}:{sender.id}",
        first_name=sender.first_name or sender.username or "Telegram user",
        last_name=sender.last_name or None,
        custom_data=custom,
    )


def _entities(message: Message, kinds: tuple[str, ...]) -> dict[MessageEntity, str]:
    return message.parse_entities(list(kinds)) if message.text else {}


def _mentions(message: Message, bot: BotInfo) -> bool:
    for entity, text in _entities(message, (MessageEntity.MENTION, MessageEntity.TEXT_MENTION)).items():
        if entity.type == MessageEntity.MENTION and text[1:].lower() == bot.username.lower():
            return True
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot.id:
            return True
    return False


def _replies_to(message: Message, bot: BotInfo) -> bool:
    replied = message.reply_to_message
    # In forum topics every message "replies" to the topic's first message: only count
    # a reply to a message the bot itself wrote.
    return bool(replied and replied.from_user and replied.from_user.id == bot.id)


def _command(message: Message, bot: BotInfo) -> tuple[str, str | None] | None:
    for entity, text in _entities(message, (MessageEntity.BOT_COMMAND,)).items():
        if entity.offset != 0:
            continue
        name, _, target = text[1:].partition("@")
        return name.lower(), target or None
    return None


def _strip_mentions(message: Message, bot: BotInfo) -> str:
    """The question without the "@bot" mention(s) that addressed it."""
    text = message.text or ""
    encoded = text.encode("utf-16-le")
    cuts: list[tuple[int, int]] = []
    for entity, value in _entities(message, (MessageEntity.MENTION, MessageEntity.TEXT_MENTION)).items():
        ours = (entity.type == MessageEntity.MENTION and value[1:].lower() == bot.username.lower()) or (
            entity.type == MessageEntity.TEXT_MENTION and entity.user is not None and entity.user.id == bot.id
        )
        if ours:
            cuts.append((entity.offset * 2, (entity.offset + entity.length) * 2))
    for start, end in sorted(cuts, reverse=True):
        # "@bot, what is…" -> "what is…": punctuation that belonged to the mention goes too.
        rest = encoded[end:].decode("utf-16-le").lstrip(",:;")
        encoded = encoded[:start] + rest.encode("utf-16-le")
    return re.sub(r"[ \t]{2,}", " ", encoded.decode("utf-16-le")).strip(" ,:")
