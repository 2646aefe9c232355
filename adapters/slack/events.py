"""Slack event -> the core's ``InboundMessage`` (pure; tested on recorded payloads)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from adapters.base import Allowlist, ReplyPolicy, mention_everywhere, read_json
from adapters.files import media_type
from adapters.slack.words import PLATFORM
from bridge.models import Attachment, InboundMessage, Intent, Origin, PlatformUser, clean

# Subtypes that still carry a person's words; everything else (edits, deletions,
# joins, bot messages, channel topic changes...) is not a question.
_TEXT_SUBTYPES = (None, "file_share", "thread_broadcast")
_DM_COMMANDS = {"help": Intent.HELP, "reset": Intent.RESET, "human": Intent.HUMAN, "stop": Intent.STOP}
_COMMANDS = {"reset": Intent.RESET, "human": Intent.HUMAN, "stop": Intent.STOP}  # /raia <word>
SLACKBOT = "USLACKBOT"  # Slackbot's own DMs carry no bot_id
TITLE_LENGTH = 60  # characters of the first question that title its thread (agent session)


@dataclass(frozen=True)
class BotIdentity:
    user_id: str  # the bot's user id (U...), as mentions carry it
    bot_id: str  # B...
    team_id: str


@dataclass(frozen=True)
class Ignored:
    """Not for the bot; acknowledged and dropped."""

    reason: str


MESSAGES = ("message", "app_mention")  # the events that can be questions
_TEXT_FIELDS = ("user", "channel", "ts", "thread_ts", "text", "team", "subtype", "channel_type", "bot_id")


def malformed(body: Any) -> str | None:
    """Why a signed Events API body cannot be an event bolt may read, or None if it can.
    (bolt's own middleware fails with a 500 on these, and Slack would retry them.)"""
    if not isinstance(body, Mapping):
        return "not an object"
    event = body.get("event")
    if body.get("type") == "event_callback" and not isinstance(event, Mapping):
        return "event_callback without an event object"
    if isinstance(event, Mapping) and not isinstance(event.get("type"), str):
        return "event without a type"
    if isinstance(event, Mapping) and event["type"] in MESSAGES:
        # Only where the bridge reads them: other events carry objects in these fields
        # (channel_created's channel, team_join's user) and are not read at all.
        for key in _TEXT_FIELDS:
            if event.get(key) is not None and not isinstance(event[key], str):
                return f"event {key} is not a string"
    return None


def malformed_form(text: str) -> str | None:
    """Why a signed form body (an interaction's ``payload``) cannot be one bolt's matchers
    may read, or None if it can: they index the first action and the view without a look
    (a 500 with a traceback, which Slack retries). Raises ValueError on a payload that is
    not JSON (bolt reads it as JSON when the body mentions ``payload``, as here)."""
    if "payload" not in text or text.startswith("{"):
        return None  # a slash command (or JSON, checked as an event)
    payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
    if payload is None:
        return None
    body = read_json(payload)
    if not isinstance(body, Mapping):
        return "payload is not an object"
    if body.get("view") is not None and not isinstance(body["view"], Mapping):
        return "view is not an object"
    actions = body.get("actions")
    if "actions" in body and not (isinstance(actions, list) and actions):
        return "actions is not a list of actions"
    block = body.get("type") == "block_actions"
    if isinstance(actions, list) and not all(
        isinstance(a, Mapping) and (not block or isinstance(a.get("action_id"), str)) for a in actions
    ):
        return "an action is not an object with an action_id"
    return None


def classify(
    body: Mapping[str, Any],
    bot: BotIdentity,
    allow: Allowlist,
    policy: ReplyPolicy = mention_everywhere,
    *,
    dm_threads: bool = True,
) -> InboundMessage | Ignored:
    """``body`` is the Events API envelope (``event_callback``) as bolt hands it over.
    ``dm_threads`` (SLACK_DM_THREADS): a DM message outside a thread is answered in a
    thread under it, as Slack's agent messaging experience shows every DM message.
    ``policy`` (ROUTES_FILE): in an ``all`` channel every top-level message is a question;
    in a ``private`` one the answer is marked for the asker's eyes only."""
    event = body.get("event")
    if not isinstance(event, Mapping):
        return Ignored("no event")
    kind = event.get("type")
    if kind not in MESSAGES:
        return Ignored(f"event {kind}")
    if event.get("bot_id") or event.get("bot_profile") or event.get("subtype") not in _TEXT_SUBTYPES:
        return Ignored("bot message or non-text subtype")
    user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
    if not (isinstance(user, str) and isinstance(channel, str) and isinstance(ts, str)):
        return Ignored("incomplete event")
    if user in (bot.user_id, SLACKBOT):
        return Ignored("our own message, or Slackbot's")
    team = str(event.get("team") or body.get("team_id") or bot.team_id)
    direct = event.get("channel_type") == "im" or channel.startswith("D")
    mentioned = kind == "app_mention" or f"<@{bot.user_id}>" in str(event.get("text") or "")
    thread_ts = event.get("thread_ts") if isinstance(event.get("thread_ts"), str) else None
    if not direct and allow.users and user not in allow.users:
        return Ignored("user not on the allowlist")
    if not direct and not allow.permits_chat([channel]):
        return Ignored("channel not on the allowlist")
    reply = "mention" if direct else policy(channel, team, user)
    if reply == "all" and thread_ts is None:
        mentioned = True  # a support channel: every new top-level message asks the bot
    if not direct and not mentioned and thread_ts is None:
        return Ignored("channel message without a mention")
    text = strip_mention(clean(str(event.get("text") or "")), bot.user_id)
    keys = [f"{PLATFORM}:post:{team}:{channel}:{ts}"]
    if isinstance(body.get("event_id"), str):
        keys.insert(0, f"{PLATFORM}:event:{body['event_id']}")
    intent = Intent.ASK
    if direct and not allow.permits_private([user], [channel]):
        intent = Intent.NOT_ALLOWED  # in channels: silence (above)
    elif direct:
        intent = _DM_COMMANDS.get(text.strip().lower(), Intent.ASK)
    files = attachments(event)
    if intent is Intent.ASK and not text.strip() and not files and (direct or mentioned):
        # Addressed to the bot, but nothing to ask: a file we cannot read, or a bare mention.
        intent = Intent.UNSUPPORTED if event.get("files") or event.get("subtype") == "file_share" else Intent.HELP
    # Channels: answer in a thread under the mention; DMs: in the thread if there is one,
    # else (SLACK_DM_THREADS) in a thread under the message.
    thread = thread_ts if direct and not dm_threads else (thread_ts or ts)
    extra = {"team": team, "direct": "1" if direct else ""}
    if reply == "private":
        extra["private"] = user  # only the asker sees the answer (ROUTES_FILE)
    if thread == ts and intent is Intent.ASK and text:
        # This question opens the thread: its agent session is titled after it (Slack).
        extra["title"] = text if len(text) <= TITLE_LENGTH else text[: TITLE_LENGTH - 1] + "…"
    return InboundMessage(
        platform=PLATFORM,
        user=person(team, user),
        origin=Origin(chat=channel, thread=thread, message=ts, extra=extra),
        text=text,
        dedupe_keys=tuple(keys),
        intent=intent,
        addressed=direct or mentioned,
        attachments=files if intent is Intent.ASK else (),
    )


def attachments(event: Mapping[str, Any]) -> tuple[Attachment, ...]:
    """Files shared with the message (``file_share``), by their private download URL
    (fetched with the bot token, ``files:read``, only when the question is sent)."""
    found: list[Attachment] = []
    for item in event.get("files") or ():
        if not isinstance(item, Mapping):
            continue
        url = item.get("url_private_download") or item.get("url_private")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            continue  # an external file, or one Slack did not describe (file_access: check_file_info)
        size = item.get("size")
        name = clean(str(item.get("name") or item.get("title") or "file"))
        kind = media_type(item.get("mimetype"), name)
        # An audio clip recorded in Slack ("slack_audio"), or any sound file: someone speaking.
        spoken = item.get("subtype") == "slack_audio" or kind.startswith("audio/")
        millis = item.get("duration_ms")
        found.append(
            Attachment(
                name=name,
                content_type=kind,
                size=size if isinstance(size, int) and not isinstance(size, bool) else None,
                ref=url,
                spoken=spoken,
                duration=millis / 1000 if isinstance(millis, int) and not isinstance(millis, bool) else None,
            )
        )
    return tuple(found)


def classify_command(body: Mapping[str, Any], bot: BotIdentity) -> InboundMessage:
    """A ``/raia`` slash command: ``reset``, ``human``, ``stop``, or help for anything else."""
    words = str(body.get("text") or "").strip().lower().split()
    team = str(body.get("team_id") or bot.team_id)
    user = str(body.get("user_id"))
    return InboundMessage(
        platform=PLATFORM,
        user=person(team, user),
        origin=Origin(chat=str(body.get("channel_id") or ""), extra={"team": team}),
        text=" ".join(words),
        dedupe_keys=(),  # Slack does not retry a slash command: it is answered in its ack
        intent=_COMMANDS.get(words[0] if words else "", Intent.HELP),
    )


def pressed_for_person(body: Mapping[str, Any], bot: BotIdentity, allow: Allowlist) -> InboundMessage | Ignored:
    """The "Talk to a person" button under an answer (``block_actions``), pressed: asking
    for a person where that answer is (its DM, or its thread in a channel), as whoever
    pressed it; the same allowlist as a message there."""

    def field(value: Any, key: str) -> str:
        found = value.get(key) if isinstance(value, Mapping) else None
        return found if isinstance(found, str) else ""

    user, channel = field(body.get("user"), "id"), field(body.get("channel"), "id")
    team = field(body.get("user"), "team_id") or field(body.get("team"), "id") or bot.team_id
    message = body.get("message")
    ts, thread_ts = field(message, "ts"), field(message, "thread_ts") or None
    actions = body.get("actions")
    action_ts = field(actions[0], "action_ts") if isinstance(actions, list) and actions else ""
    if not (user and channel and ts):
        return Ignored("press without a user, channel or message")
    direct = channel.startswith("D")
    if direct and not allow.permits_private([user], [channel]):
        return Ignored("user not on the allowlist")
    if not direct and ((allow.users and user not in allow.users) or not allow.permits_chat([channel])):
        return Ignored("user or channel not on the allowlist")
    return InboundMessage(
        platform=PLATFORM,
        user=person(team, user),
        origin=Origin(
            chat=channel,
            thread=thread_ts if direct else (thread_ts or ts),
            extra={"team": team, "direct": "1" if direct else ""},
        ),
        text="",
        dedupe_keys=(f"{PLATFORM}:press:{team}:{channel}:{ts}:{user}:{action_ts}",),
        intent=Intent.HUMAN,
        pressed=True,
    )


def person(team: str, user: str) -> PlatformUser:
    """A Slack user as the core knows them until ``users.info`` gives their name."""
    return PlatformUser(
        fk_id=f"{PLATFORM}:{team}:{user}", first_name=user, custom_data={"team": team, "slackUserId": user}
    )


_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")


def strip_mention(text: str, bot_user_id: str) -> str:
    """Remove mentions of the bot; other people's mentions stay (the agent may need them)."""
    without = _MENTION.sub(lambda m: "" if m.group(1) == bot_user_id else m.group(0), text)
    return re.sub(r"[ \t]{2,}", " ", without).strip(" ,:")


def session_stopped(body: Mapping[str, Any], bot: BotIdentity) -> InboundMessage | Ignored:
    """Slack's stop button (``agent_session_stopped``: ``channel``, ``thread_ts``, ``user``):
    the person stops waiting for their question in that thread, like ``/raia stop`` there."""
    event = body.get("event")
    if not isinstance(event, Mapping):
        return Ignored("no event")
    user, channel, thread_ts = event.get("user"), event.get("channel"), event.get("thread_ts")
    if not (isinstance(user, str) and isinstance(channel, str) and isinstance(thread_ts, str)):
        return Ignored("stop without a user, channel or thread")
    team = str(body.get("team_id") or bot.team_id)
    event_id = body.get("event_id")
    key = f"{PLATFORM}:event:{event_id}" if isinstance(event_id, str) else f"{PLATFORM}:stop:{channel}:{thread_ts}"
    return InboundMessage(
        platform=PLATFORM,
        user=person(team, user),
        origin=Origin(
            chat=channel, thread=thread_ts, extra={"team": team, "direct": "1" if channel.startswith("D") else ""}
        ),
        text="stop",
        dedupe_keys=(key,),
        intent=Intent.STOP,
    )
