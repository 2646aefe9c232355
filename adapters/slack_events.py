"""Slack event -> what the bridge should do with it (pure; tested on recorded payloads)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bridge.models import InboundMessage, PlatformUser, Route

PLATFORM = "slack"
NOT_ALLOWED = "Sorry, this assistant is not available to you. Please contact the team that runs it."
# Subtypes that still carry a person's words; everything else (edits, deletions,
# joins, bot messages, channel topic changes...) is not a question.
_TEXT_SUBTYPES = (None, "file_share", "thread_broadcast")


@dataclass(frozen=True)
class BotIdentity:
    user_id: str  # the bot's user id (U...), as mentions carry it
    bot_id: str  # B...
    team_id: str


@dataclass(frozen=True)
class Allowlist:
    users: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Candidate:
    """A person's post that may be a question; ``needs_thread_check`` means it is a
    channel thread reply without a mention: answer it only if the bot already
    answered this person in this thread."""

    message: InboundMessage
    slack_user: str
    needs_thread_check: bool = False


@dataclass(frozen=True)
class Command:
    name: str  # help | reset
    message: InboundMessage


@dataclass(frozen=True)
class Refuse:
    route: Route
    text: str


@dataclass(frozen=True)
class Ignore:
    reason: str


Action = Candidate | Command | Refuse | Ignore


def classify(body: Mapping[str, Any], bot: BotIdentity, allow: Allowlist) -> Action:
    """``body`` is the Events API envelope (``event_callback``) as bolt hands it over."""
    event = body.get("event")
    if not isinstance(event, Mapping):
        return Ignore("no event")
    kind = event.get("type")
    if kind not in ("message", "app_mention"):
        return Ignore(f"event {kind}")
    if event.get("bot_id") or event.get("bot_profile") or event.get("subtype") not in _TEXT_SUBTYPES:
        return Ignore("bot message or non-text subtype")
    user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
    if not (isinstance(user, str) and isinstance(channel, str) and isinstance(ts, str)):
        return Ignore("incomplete event")
    if user == bot.user_id:
        return Ignore("our own message")
    team = str(event.get("team") or body.get("team_id") or bot.team_id)
    direct = event.get("channel_type") == "im" or channel.startswith("D")
    mentioned = kind == "app_mention" or f"<@{bot.user_id}>" in str(event.get("text") or "")
    thread_ts = event.get("thread_ts") if isinstance(event.get("thread_ts"), str) else None
    # Channels: answer in a thread under the mention; DMs: in the thread if there is one.
    route = Route(
        chat=channel,
        thread=thread_ts if direct else (thread_ts or ts),
        message=ts,
        extra={"team": team, "direct": "1" if direct else ""},
    )
    if allow.users and user not in allow.users:
        return Refuse(route, NOT_ALLOWED) if direct else Ignore("user not on the allowlist")
    if not direct and allow.channels and channel not in allow.channels:
        return Ignore("channel not on the allowlist")
    if not direct and not mentioned and thread_ts is None:
        return Ignore("channel message without a mention")
    text = strip_mention(str(event.get("text") or ""), bot.user_id)
    keys = [f"{PLATFORM}:post:{team}:{channel}:{ts}"]
    if isinstance(body.get("event_id"), str):
        keys.insert(0, f"{PLATFORM}:event:{body['event_id']}")
    message = InboundMessage(
        platform=PLATFORM,
        user=PlatformUser(
            fk_id=f"{PLATFORM}:{team}:{user}", first_name=user, custom_data={"team": team, "slackUserId": user}
        ),
        route=route,
        text=text,
        dedupe_keys=tuple(keys),
    )
    if direct and text.strip().lower() in ("help", "reset"):
        return Command(text.strip().lower(), message)
    return Candidate(message, user, needs_thread_check=not direct and not mentioned)


_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")


def strip_mention(text: str, bot_user_id: str) -> str:
    """Remove mentions of the bot; other people's mentions stay (the agent may need them)."""
    without = _MENTION.sub(lambda m: "" if m.group(1) == bot_user_id else m.group(0), text)
    return re.sub(r"[ \t]{2,}", " ", without).strip(" ,:")
