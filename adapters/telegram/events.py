"""Telegram update -> the core's ``InboundMessage`` (pure; tested on recorded updates),
read from the update's JSON by ``wire`` (not python-telegram-bot's objects)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from adapters.base import Allowlist, ReplyPolicy, mention_everywhere
from adapters.files import media_type
from adapters.telegram.wire import Message, MessageEntity, Update, User
from adapters.telegram.words import PLATFORM
from bridge.models import Attachment, InboundMessage, Intent, Origin, PlatformUser, clean

COMMANDS = {
    "start": Intent.START,
    "help": Intent.HELP,
    "reset": Intent.RESET,
    "new": Intent.RESET,
    "human": Intent.HUMAN,
    "stop": Intent.STOP,
}
# What a person can send besides text and the files passed on: read by no bot, so answered
# with the text-only note. A message with none of these and no text, caption or file is a
# service message (a pin, a member joining, a topic created, a wallpaper set, a timer
# changed, Web App data...): nobody asked anything, so nobody is answered.
_CONTENT = (
    "photo", "document", "voice", "audio", "video", "video_note", "animation", "sticker", "location", "venue",
    "contact", "poll", "dice", "game", "story", "paid_media", "live_photo", "checklist", "giveaway",
    "giveaway_winners", "invoice",
)  # fmt: skip


# A guest question's origin (guest mode, Bot API 10.0): ``chat`` is the person's private
# chat (where a slow or long answer goes), ``extra`` names the query to answer in place.
GUEST = "guest"  # extra["chat_type"] of a guest question


@dataclass(frozen=True)
class BotIdentity:
    id: int
    username: str  # without "@"
    topics: bool = False  # topics in private chats are on (getMe's has_topics_enabled, Bot API 9.3)


@dataclass(frozen=True)
class Ignored:
    """Not for the bot; acknowledged and dropped."""

    reason: str


def classify(
    update: Update, bot: BotIdentity, allow: Allowlist, policy: ReplyPolicy = mention_everywhere
) -> InboundMessage | Ignored:
    """``policy`` (ROUTES_FILE): in an ``all`` group every message that replies to nobody
    else is a question; in a ``private`` one the answer goes to the asker's private chat."""
    if update.guest_message is not None:
        return _guest(update, update.guest_message, bot, allow)
    message = update.message  # edited messages, channel posts, callbacks...: not ours
    if message is None:
        return Ignored("not a new message")
    sender = message.from_user
    if sender is None or sender.is_bot:
        return Ignored("from a bot or anonymous")
    if not (_is_id(sender.id) and _is_id(message.chat.id) and _is_id(update.update_id)):
        return Ignored("ids are not numbers")  # nothing could ever be delivered there
    private = message.chat.type == "private"
    if message.chat.type not in ("private", "group", "supergroup"):
        return Ignored(f"chat type {message.chat.type}")
    if message.text is None and message.caption is None and not message.carries(_CONTENT):
        return Ignored("a service message")  # before the allowlist: not even a refusal

    reply = "mention" if private else policy(str(message.chat_id), "", str(sender.id))

    def inbound(
        intent: Intent,
        text: str = "",
        files: tuple[Attachment, ...] = (),
        *,
        addressed: bool = True,
        extra: dict[str, str] | None = None,
    ) -> InboundMessage:
        group = message.media_group_id
        origin = _origin(message, private, str(sender.id) if reply == "private" else None)
        if extra:
            origin = replace(origin, extra={**origin.extra, **extra})
        return InboundMessage(
            platform=PLATFORM,
            user=_user(message),
            origin=origin,
            # A topic of a private chat is a chat of its own: its own conversation.
            thread_conversation=private and origin.thread is not None,
            text=clean(text),
            dedupe_keys=(f"{PLATFORM}:{bot.id}:update:{update.update_id}",),
            intent=intent,
            mention=None if private else f"@{bot.username}",
            attachments=files,
            album=f"{PLATFORM}:{message.chat_id}:{group}" if files and group else None,
            addressed=addressed,
            replies_to=f"{message.chat_id}:{message.reply_to_message.message_id}"
            if message.reply_to_message is not None and _replies_to(message, bot)
            else None,
        )

    if not _permits(allow, message):
        # A polite refusal in private; silence in groups (no noise for others).
        return inbound(Intent.NOT_ALLOWED) if private else Ignored("not on the allowlist")
    addressed = private or _mentions(message, bot) or _replies_to(message, bot)
    if reply == "all" and not addressed and _starts_something(message):
        addressed = True  # a support group: every message that replies to no one asks the bot
    if message.text is None:
        # A photo, document or voice note: addressed by a reply, or by a mention in its
        # caption. Its caption is the question. In a group an album's other photos carry
        # no caption: they join the question their addressed one started, if any.
        files = attachments(message)
        if not addressed:
            if files and message.media_group_id:
                return inbound(Intent.ASK, _strip_mentions(message, bot), files, addressed=False)
            return Ignored("non-text, not addressed")
        return inbound(Intent.ASK, _strip_mentions(message, bot), files) if files else inbound(Intent.UNSUPPORTED)
    command = _command(message)
    if command is not None:
        name, target = command
        if target is not None and target.lower() != bot.username.lower():
            return Ignored("command for another bot")
        if name == "new" and private and bot.topics:
            # Topics in private chats: /new opens a topic for the new conversation (the
            # notice that says so is posted in it); the conversation here goes on.
            return inbound(Intent.NEW_THREAD, extra={"new_topic": "1"})
        if name in COMMANDS:
            return inbound(COMMANDS[name])
        if private or target is not None:
            return inbound(Intent.UNKNOWN_COMMAND)
        return Ignored("unknown command in a group")
    if not addressed:
        return Ignored("group message not addressed to the bot")
    question = _strip_mentions(message, bot).strip()
    if not question:
        return inbound(Intent.HELP)  # a bare "@bot"
    return inbound(Intent.ASK, question, extra=_topic_naming(message, question) if private else None)


def _topic_naming(message: Message, question: str) -> dict[str, str] | None:
    """For a question in a topic of a private chat: the name the topic takes from it, if it
    still needs one. A topic the person opened without naming it (``is_name_implicit``) is
    named from its first message, the one right after the topic's own (whose id is the
    topic's): a later message never renames it. Topics the bot opened (/new) are named by
    the adapter, which knows them (``topic_title`` is all it needs)."""
    thread = message.message_thread_id
    if thread is None or not message.is_topic_message:
        return None
    naming = {"topic_title": topic_title(question)}
    opened = message.reply_to_message.forum_topic_created if message.reply_to_message is not None else None
    if opened is not None and opened.is_name_implicit and message.message_id == thread + 1:
        naming["topic_unnamed"] = "1"
    return naming


def topic_title(question: str, limit: int = 64) -> str:
    """A topic's name from a question: its first line, at most ``limit`` characters (Telegram
    allows 128), cut at a word where it can be."""
    line = " ".join(question.split("\n", 1)[0].split())
    if len(line) <= limit:
        return line
    cut = line.rfind(" ", 0, limit - 1)
    return line[: cut if cut > limit // 2 else limit - 1].rstrip(" ,.;:") + "…"


def _guest(update: Update, message: Message, bot: BotIdentity, allow: Allowlist) -> InboundMessage | Ignored:
    """Someone summoned the bot by its @username in a chat it is not in (guest mode): a turn of
    that person's own conversation, answered once in that chat (``answerGuestQuery``)."""
    sender = message.from_user
    if sender is None or sender.is_bot or not message.guest_query_id:
        return Ignored("a guest message without a person or a query")
    if not (_is_id(sender.id) and _is_id(update.update_id)):
        return Ignored("ids are not numbers")
    language = sender.language_code or ""
    origin = Origin(
        chat=str(sender.id),  # the private chat: the person's id
        extra={"chat_type": GUEST, "guest_query": message.guest_query_id, "language": language},
    )

    def inbound(intent: Intent, text: str = "", files: tuple[Attachment, ...] = ()) -> InboundMessage:
        return InboundMessage(
            platform=PLATFORM,
            user=_user(message),
            origin=origin,
            text=clean(text),
            dedupe_keys=(f"{PLATFORM}:{bot.id}:update:{update.update_id}",),
            intent=intent,
            mention=f"@{bot.username}",
            attachments=files,
        )

    # As if the person wrote in that chat: a private one is theirs; a group must be allowed too.
    users = [str(sender.id), f"@{sender.username.lower()}" if sender.username else None]
    chat = message.chat
    chats = [str(chat.id), f"@{chat.username.lower()}" if chat.username else None]
    permitted = (
        allow.permits_private(users, users)
        if chat.type == "private"
        else allow.permits_user(users) and allow.permits_chat(chats)
    )
    if not permitted:
        return inbound(Intent.NOT_ALLOWED)  # they asked the bot itself: one line, in place
    command = _command(message) if message.text is not None else None
    if command is not None and (command[1] is None or command[1].lower() == bot.username.lower()):
        return inbound(COMMANDS.get(command[0], Intent.UNKNOWN_COMMAND))
    question = _strip_mentions(message, bot).strip()
    files = attachments(message) if message.text is None else ()
    if not question and not files:
        return inbound(Intent.HELP if message.text is not None else Intent.UNSUPPORTED)
    return inbound(Intent.ASK, question, files)


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def pressed_for_person(update: Update, bot: BotIdentity, allow: Allowlist) -> InboundMessage | Ignored:
    """The "Talk to a person" button under an answer, pressed: asking for a person in the
    chat (or topic) of that answer, as whoever pressed it. The press's identity (its
    update and callback query) de-duplicates it like a message's."""
    query = update.callback_query
    assert query is not None
    answer = query.message if isinstance(query.message, Message) else None
    if answer is None:
        return Ignored("press under a message too old to be sent along")
    sender, chat = query.from_user, answer.chat
    if sender.is_bot or not (_is_id(sender.id) and _is_id(chat.id)):
        return Ignored("from a bot, or ids that are not numbers")
    private = chat.type == "private"
    if chat.type not in ("private", "group", "supergroup") or not _permits(allow, answer, sender):
        return Ignored("not on the allowlist")
    thread = answer.message_thread_id if answer.is_topic_message else None
    return InboundMessage(
        platform=PLATFORM,
        user=_person(sender),
        origin=Origin(
            chat=str(answer.chat_id),
            thread=str(thread) if thread is not None else None,
            message=None if private else str(answer.message_id),
            extra={"chat_type": chat.type},
        ),
        text="",
        dedupe_keys=(f"{PLATFORM}:{bot.id}:update:{update.update_id}", f"{PLATFORM}:{bot.id}:callback:{query.id}"),
        intent=Intent.HUMAN,
        mention=None if private else f"@{bot.username}",
        pressed=True,
    )


def _permits(allow: Allowlist, message: Message, sender: User | None = None) -> bool:
    user, chat = sender or message.from_user, message.chat
    users = [str(user.id), f"@{user.username.lower()}" if user.username else None] if user else []
    chats = [str(chat.id), f"@{chat.username.lower()}" if chat.username else None]
    if chat.type == "private":  # its id and username are the person's
        return allow.permits_private(users, chats + users)
    return allow.permits_user(users) and allow.permits_chat(chats)


def _origin(message: Message, private: bool, only_for: str | None = None) -> Origin:
    """``only_for``: the asker's id where the answer goes to their private chat (a
    ``private`` route), with a note in the group."""
    thread = message.message_thread_id if message.is_topic_message else None
    return Origin(
        chat=str(message.chat_id),
        thread=str(thread) if thread is not None else None,
        # In groups the answer replies to the question; in private chats it need not.
        message=None if private else str(message.message_id),
        extra={"chat_type": message.chat.type, **({"private": only_for} if only_for else {})},
    )


def _starts_something(message: Message) -> bool:
    """Not a reply to someone's message (in a forum topic, replies to its first message
    are the topic's own messages)."""
    replied = message.reply_to_message
    return replied is None or (message.is_topic_message is True and replied.message_id == message.message_thread_id)


def _user(message: Message) -> PlatformUser:
    assert message.from_user is not None
    return _person(message.from_user)


def _person(sender: User) -> PlatformUser:
    custom: dict[str, str] = {"telegramUserId": str(sender.id)}
    if sender.username:
        custom["username"] = sender.username
    if sender.language_code:
        custom["languageCode"] = sender.language_code
    return PlatformUser(
        fk_id=f"{PLATFORM}:{sender.id}",
        first_name=clean(sender.first_name or sender.username or "Telegram user"),
        last_name=clean(sender.last_name) if sender.last_name else None,
        custom_data=custom,
    )


def _entities(message: Message, kinds: tuple[str, ...]) -> dict[MessageEntity, str]:
    try:
        if message.text:
            return message.parse_entities(list(kinds))
        return message.parse_caption_entities(list(kinds)) if message.caption else {}
    except UnicodeError:  # a lone surrogate: its offsets cannot be counted; read it plainly
        return {}


def _is_ours(entity: MessageEntity, text: str, bot: BotIdentity) -> bool:
    if entity.type == MessageEntity.MENTION:
        return text[1:].lower() == bot.username.lower()
    return entity.type == MessageEntity.TEXT_MENTION and entity.user is not None and entity.user.id == bot.id


def _mentions(message: Message, bot: BotIdentity) -> bool:
    entities = _entities(message, (MessageEntity.MENTION, MessageEntity.TEXT_MENTION))
    return any(_is_ours(entity, text, bot) for entity, text in entities.items())


def _replies_to(message: Message, bot: BotIdentity) -> bool:
    replied = message.reply_to_message
    # In forum topics every message "replies" to the topic's first message: only count
    # a reply to a message the bot itself wrote.
    return bool(replied and replied.from_user and replied.from_user.id == bot.id)


def _command(message: Message) -> tuple[str, str | None] | None:
    for entity, text in _entities(message, (MessageEntity.BOT_COMMAND,)).items():
        if entity.offset != 0:
            continue
        name, _, target = text[1:].partition("@")
        return name.lower(), target or None
    return None


def attachments(message: Message) -> tuple[Attachment, ...]:
    """The file a message carries (Telegram sends one per message; an album is several
    messages), as a reference fetched only when the question is sent."""
    mid = message.message_id
    if message.photo:
        best = message.photo[-1]  # the largest size Telegram made
        return (Attachment(f"photo_{mid}.jpg", "image/jpeg", best.file_size, best.file_id),)
    found: list[Attachment] = []
    for media, default_name, default_type, spoken in (
        (message.document, f"document_{mid}", "application/octet-stream", False),
        (message.voice, f"voice_{mid}.ogg", "audio/ogg", True),
        (message.audio, f"audio_{mid}.mp3", "audio/mpeg", True),
        (message.video, f"video_{mid}.mp4", "video/mp4", False),
        (message.video_note, f"video_note_{mid}.mp4", "video/mp4", True),
    ):
        if media is not None:
            name = clean(getattr(media, "file_name", None) or default_name)
            kind = media_type(getattr(media, "mime_type", None), name, default_type)
            duration = float(media.duration) if spoken and media.duration is not None else None
            found.append(Attachment(name, kind, media.file_size, media.file_id, spoken=spoken, duration=duration))
    return tuple(found)


def _strip_mentions(message: Message, bot: BotIdentity) -> str:
    """The question (or caption) without the "@bot" mention(s) that addressed it."""
    text = message.text or message.caption or ""
    encoded = text.encode("utf-16-le", "surrogatepass")  # offsets count UTF-16 units
    cuts: list[tuple[int, int]] = []
    for entity, value in _entities(message, (MessageEntity.MENTION, MessageEntity.TEXT_MENTION)).items():
        if _is_ours(entity, value, bot):
            cuts.append((entity.offset * 2, (entity.offset + entity.length) * 2))
    for start, end in sorted(cuts, reverse=True):
        # "@bot, what is…" -> "what is…": punctuation that belonged to the mention goes too.
        rest = encoded[end:].decode("utf-16-le", "surrogatepass").lstrip(",:;")
        encoded = encoded[:start] + rest.encode("utf-16-le", "surrogatepass")
    return re.sub(r"[ \t]{2,}", " ", encoded.decode("utf-16-le", "surrogatepass")).strip(" ,:")
