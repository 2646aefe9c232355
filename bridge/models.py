"""Platform-neutral values that cross the line between the core and the adapters."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_UNSAFE = re.compile("[\x00\ud800-\udfff]")


def clean(text: str) -> str:
    """Text safe to store, send and post: no NUL, and every lone UTF-16 surrogate (JSON
    allows "\\ud800"; UTF-8 cannot encode it) replaced by U+FFFD. Adapters apply it to
    everything that enters the bridge."""
    if not _UNSAFE.search(text):
        return text
    return text.replace("\x00", "").encode("utf-16", "surrogatepass").decode("utf-16", "replace")


@dataclass(frozen=True)
class PlatformUser:
    """Who wrote: ``fk_id`` is stable per person, e.g. ``slack:T1:U2`` or ``telegram:98765``."""

    fk_id: str
    first_name: str
    last_name: str | None = None
    custom_data: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Origin:
    """Where a message was written, so its reply goes back there. The owning adapter
    interprets ``extra``; the core only stores it."""

    chat: str
    thread: str | None = None
    message: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "chat": self.chat,
            "thread": self.thread,
            "message": self.message,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Origin:
        return cls(
            chat=str(data["chat"]),
            thread=data.get("thread"),
            message=data.get("message"),
            extra={str(k): str(v) for k, v in (data.get("extra") or {}).items()},
        )


@dataclass(frozen=True)
class Attachment:
    """A file sent with a question, as the platform's reference to it (Telegram's
    ``file_id``, Slack's private download URL): stored with the question and fetched only
    when the question is sent, never held whole in memory or written to the database."""

    name: str
    content_type: str
    size: int | None  # bytes, as the platform declared it (None: unknown until downloaded)
    ref: str
    # A recording of someone speaking (a voice note, an audio message, a video note, a
    # Slack audio clip): transcribed when TRANSCRIBE_URL is set (``bridge.hearing``).
    spoken: bool = False
    duration: float | None = None  # seconds, as the platform declared it
    transcript: str | None = None  # what was heard, kept so a restart never transcribes twice

    def to_json(self) -> dict[str, Any]:
        found = {"name": self.name, "content_type": self.content_type, "size": self.size, "ref": self.ref}
        heard = {"spoken": True, "duration": self.duration, "transcript": self.transcript} if self.spoken else {}
        return found | heard

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Attachment:
        size, duration, transcript = data.get("size"), data.get("duration"), data.get("transcript")
        return cls(
            str(data["name"]),
            str(data["content_type"]),
            int(size) if size is not None else None,
            str(data["ref"]),
            spoken=bool(data.get("spoken")),
            duration=float(duration) if duration is not None else None,
            transcript=str(transcript) if transcript is not None else None,
        )


class Intent(enum.StrEnum):
    """What the person wants, as the adapter read it. Only ``ASK`` reaches the agent;
    the core answers everything else itself, at once."""

    ASK = "ask"  # a question for the agent
    START = "start"  # first contact: greet and explain
    HELP = "help"
    RESET = "reset"  # the next question starts a new agent conversation
    # A new conversation in a new thread of its own (Telegram's /new where the bot has topics
    # in private chats): the platform makes the room, nothing here ends.
    NEW_THREAD = "new_thread"
    HUMAN = "human"  # a person (staff) should take over from the agent
    STOP = "stop"  # stop waiting for the person's pending question (/stop, Slack's stop button)
    UNKNOWN_COMMAND = "unknown_command"
    UNSUPPORTED = "unsupported"  # addressed to the bot, but nothing it can read (a sticker, a photo)
    NOT_ALLOWED = "not_allowed"  # refused by the operator's allowlist


@dataclass(frozen=True)
class InboundMessage:
    """One event as the core sees it, whatever platform it came from.

    ``dedupe_keys`` name the platform event(s) this post may arrive as (Slack's
    ``event_id`` and ``(team, channel, ts)``; Telegram's ``update_id``): if any of them
    was seen before, the message is a duplicate. ``addressed`` is False for a channel
    thread reply without a mention: the core answers it only if this person already
    asked in that thread; and for a Telegram album's photo without the mention: it joins
    the question its album's addressed photo started, or, arriving after that one was
    sent, is a question of its own (the person asked about the whole album); an album
    nobody addressed is not for the bot. ``mention`` is how people address the bot where
    it was written ("@bot" in a group), None in a private chat.
    """

    platform: str
    user: PlatformUser
    origin: Origin
    text: str
    dedupe_keys: tuple[str, ...] = ()
    intent: Intent = Intent.ASK
    addressed: bool = True
    mention: str | None = None
    # Which conversation the message belongs to: "" = the person's own (CONVERSATION_SCOPE=
    # user); a thread's key in thread scope (set by the core's intake, never by adapters).
    conversation_key: str = ""
    attachments: tuple[Attachment, ...] = ()  # files sent with it (a photo, a document, a voice note)
    # Messages sent together as one (a Telegram album: one photo per message) share this
    # key; they become one question while it is not sent yet (later ones, another).
    album: str | None = None
    # The bot's own message this one replies to, as the platform names it (Telegram:
    # "chat:message"): a reply to a prompt for a comment on an answer is that comment.
    replies_to: str | None = None
    # A button was pressed, not a command typed ("Talk to a person" under an answer): its
    # presses in one conversation within ``bridge.takeover.PRESS_WINDOW`` count once.
    pressed: bool = False
    # The thread it was written in (``origin.thread``) is a conversation of its own, whatever
    # CONVERSATION_SCOPE says (a topic of a Telegram private chat: each is its own chat).
    thread_conversation: bool = False
    # The agent it is for, by its name in ROUTES_FILE ("": the one agent without routes):
    # part of the conversation's identity (set by the core's intake, never by adapters).
    agent: str = ""

    @property
    def scope_key(self) -> str:
        return self.conversation_key or self.user.fk_id


@dataclass(frozen=True)
class UrlCitation:
    url: str
    title: str


@dataclass(frozen=True)
class FileCitation:
    file_id: str
    filename: str


@dataclass(frozen=True)
class AnswerFile:
    """A file the agent made with its answer (a chart, a CSV from its code interpreter),
    by the agent's reference: fetched from the agent only when it is delivered, streamed
    to the chat, never held whole in memory or stored. ``conversation``: the agent's
    conversation it belongs to (raia fetches a file through it)."""

    id: str
    name: str
    size: int | None  # bytes, as the agent declared it (None: unknown until fetched)
    conversation: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "size": self.size, "conversation": self.conversation}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AnswerFile:
        size = data.get("size")
        return cls(
            str(data["id"]),
            str(data["name"]),
            int(size) if size is not None else None,
            str(data.get("conversation", "")),
        )


@dataclass(frozen=True)
class Words:
    """The bridge's own words by catalogue key (``bridge.texts``) and placeholder values:
    stored so, and written out in the person's language (with the operator's
    ``MESSAGES_FILE``) only when delivered."""

    key: str
    values: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "values": dict(self.values)} if self.values else {"key": self.key}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Words:
        return cls(str(data["key"]), tuple((str(k), str(v)) for k, v in dict(data.get("values") or {}).items()))


class ReplyKind(enum.StrEnum):
    ANSWER = "answer"  # the agent's answer
    NOTICE = "notice"  # a short message from the bridge itself (failure, timeout, command)


@dataclass(frozen=True)
class Reply:
    """What the adapter renders: Markdown text plus de-duplicated sources."""

    text: str
    kind: ReplyKind = ReplyKind.ANSWER
    urls: tuple[UrlCitation, ...] = ()
    files: tuple[FileCitation, ...] = ()
    # The person's language for the bridge's own words around it ("Sources"); set at
    # delivery (bridge.texts.localize), not stored.
    language: str = "en"
    message_id: str | None = None  # the agent's id for this answer (raia: what feedback names)
    # Set at delivery when the person may rate this answer: what the adapter puts behind
    # its 👍/👎 buttons and hands back with a vote. Not stored; "" = no buttons.
    vote_key: str = ""
    # Set at delivery when a person can be asked for with a button (HANDOFF_BUTTON): the
    # adapter puts "Talk to a person" under the answer. Not stored.
    person_button: bool = False
    # The bridge's own words in it, written out at delivery (``bridge.texts.localize``): a
    # notice's whole text (``text`` holds its English, for logs), or lines before an answer
    # (files that were left out).
    words: tuple[Words, ...] = ()
    # Files the agent made, delivered after the text (``bridge.answer_files``); not the
    # knowledge-base files it cited (``files``, listed under "Sources").
    answer_files: tuple[AnswerFile, ...] = ()

    @property
    def has_sources(self) -> bool:
        return bool(self.urls or self.files)

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "kind": self.kind.value,
            "urls": [{"url": u.url, "title": u.title} for u in self.urls],
            "files": [{"file_id": f.file_id, "filename": f.filename} for f in self.files],
            "message_id": self.message_id,
            **({"words": [w.to_json() for w in self.words]} if self.words else {}),
            **({"answer_files": [f.to_json() for f in self.answer_files]} if self.answer_files else {}),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reply:
        return cls(
            text=str(data.get("text", "")),
            kind=ReplyKind(data.get("kind", "answer")),
            urls=tuple(UrlCitation(u["url"], u["title"]) for u in data.get("urls", ())),
            files=tuple(FileCitation(f["file_id"], f["filename"]) for f in data.get("files", ())),
            message_id=data.get("message_id"),
            words=tuple(Words.from_json(w) for w in data.get("words", ())),
            answer_files=tuple(AnswerFile.from_json(f) for f in data.get("answer_files", ())),
        )


class QuestionState(enum.StrEnum):
    """Life of one question (``bridge.question`` makes every change)::

    received ──send──▶ sent ──poll──▶ answered ─┐
        │                 ├──────────▶ failed ───┼─deliver─▶ delivered
        └──(auth/reject)──┴──────────▶ timed_out ┘     └───▶ undeliverable
        │                 └─(a person took over)─▶ handed_over ──▶ delivered (nothing posted)
        └──── sent ──(the person stopped it: /stop, Slack's stop button)──▶ stopped

    ``stopped`` is final and never open: its answer is never posted, not even when it
    arrives later or after a restart (every later step of its life writes nothing).
    """

    RECEIVED = "received"
    SENT = "sent"
    ANSWERED = "answered"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    # A person (staff) took the conversation over while the answer was awaited: nothing
    # is posted for the question itself; the takeover's posts follow (bridge.takeover).
    HANDED_OVER = "handed_over"
    DELIVERED = "delivered"
    UNDELIVERABLE = "undeliverable"
    STOPPED = "stopped"  # the person stopped waiting for it before its answer was posted

    @property
    def finished(self) -> bool:
        """Delivered, given up or stopped: nothing more will happen to it."""
        return self in (QuestionState.DELIVERED, QuestionState.UNDELIVERABLE, QuestionState.STOPPED)
