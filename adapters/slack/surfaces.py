"""Two Slack surfaces besides messages: the message shortcut "Ask <agent> about this"
(``raia_ask_about``: the chosen message, with its author, becomes a question in a thread
under it) and the App Home tab (``views.publish``: what the agent does and how to use it,
in the person's language)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.base import Allowlist
from adapters.slack import web
from adapters.slack.events import TITLE_LENGTH, BotIdentity, Ignored, person
from adapters.slack.outbound import SlackOutbound
from adapters.slack.words import PLATFORM
from bridge import texts
from bridge.models import InboundMessage, Origin, clean
from bridge.ports.inbox import Inbox

log = logging.getLogger(__name__)

ASK_ABOUT = "raia_ask_about"  # the message shortcut's callback_id (slack-manifest.yml)
QUOTED = 3000  # characters of the chosen message passed on


def _field(value: Any, key: str) -> str:
    found = value.get(key) if isinstance(value, Mapping) else None
    return found if isinstance(found, str) else ""


def chosen(body: Mapping[str, Any], bot: BotIdentity, allow: Allowlist) -> InboundMessage | Ignored:
    """The shortcut's ``message_action`` as a question of whoever chose it, answered in a
    thread under the chosen message (its own thread if it is in one). Its text is filled in
    by ``question`` (the author's name needs a look-up); the allowlist as for a message."""
    user, channel = _field(body.get("user"), "id"), _field(body.get("channel"), "id")
    team = _field(body.get("user"), "team_id") or _field(body.get("team"), "id") or bot.team_id
    message = body.get("message")
    ts = _field(message, "ts")
    if not (user and channel and ts):
        return Ignored("shortcut without a user, channel or message")
    direct = channel.startswith("D")
    if direct and not allow.permits_private([user], [channel]):
        return Ignored("user not on the allowlist")
    if not direct and ((allow.users and user not in allow.users) or not allow.permits_chat([channel])):
        return Ignored("user or channel not on the allowlist")
    action_ts = _field(body, "action_ts")
    return InboundMessage(
        platform=PLATFORM,
        user=person(team, user),
        origin=Origin(
            chat=channel,
            thread=_field(message, "thread_ts") or ts,
            message=ts,
            extra={"team": team, "direct": "1" if direct else ""},
        ),
        text=clean(_field(message, "text"))[:QUOTED],
        dedupe_keys=(f"{PLATFORM}:shortcut:{team}:{channel}:{ts}:{user}:{action_ts}",),
    )


def question(message: InboundMessage, author: str, language: str) -> InboundMessage:
    """The chosen message's words, quoted, after a line naming its author."""
    ask = texts.text("slack_ask_about", language, author=author)
    quoted = "\n".join(f"> {line}" for line in message.text.split("\n"))
    title = ask if len(ask) <= TITLE_LENGTH else ask[: TITLE_LENGTH - 1] + "…"
    origin = replace(message.origin, extra={**message.origin.extra, "title": title})
    return replace(message, text=f"{ask}\n\n{quoted}", origin=origin)


def home_view(agent: str, language: str) -> dict[str, Any]:
    """The App Home tab: what the agent does and how to reach it."""
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": agent[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": texts.text("slack_home", language, agent=agent)}},
        ],
    }


class SlackSurfaces:
    """Registers the shortcut and the App Home on bolt's app (HTTP events reach ``home``
    straight from the platform)."""

    def __init__(
        self,
        client: AsyncWebClient,
        outbound: SlackOutbound,
        inbox: Callable[[], Inbox | None],
        bot: Callable[[], BotIdentity | None],
        allow: Allowlist,
    ) -> None:
        self._client, self._outbound, self._inbox, self._bot, self._allow = client, outbound, inbox, bot, allow
        self.agent: str | None = None  # the agent's name, once known (``introduce``)

    def register(self, app: AsyncApp) -> None:
        app.shortcut(ASK_ABOUT)(self._on_ask_about)

    async def _on_ask_about(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """Acknowledged at once (Slack does not resend a shortcut); the question is asked in
        the background: the author's name and the person's language need users.info."""
        await ack()
        inbox, bot = self._inbox(), self._bot()
        found = chosen(body, bot, self._allow) if bot is not None else Ignored("starting")
        if inbox is None or isinstance(found, Ignored):
            log.info("slack shortcut ignored: %s", found.reason if isinstance(found, Ignored) else "starting")
            return
        author = _field(body.get("message"), "user")
        name = _field(body.get("message"), "username") or "?"

        async def ask(message: InboundMessage) -> None:
            asker = await self._outbound.profile(message.user)
            written = name
            if author:
                found = await self._outbound.profile(person(message.origin.extra["team"], author))
                written = " ".join(p for p in (found.first_name, found.last_name) if p)
            language = texts.language_of(asker.custom_data)
            await inbox.receive(question(replace(message, user=asker), written, language))

        inbox.background(ask(found), name=f"slack-shortcut-{found.origin.chat}")

    def home(self, body: Mapping[str, Any]) -> None:
        """``app_home_opened`` on the Home tab: publish it in the person's language."""
        event = body.get("event")
        user = _field(event, "user")
        inbox = self._inbox()
        if _field(event, "tab") != "home" or not user or inbox is None:
            return
        team = _field(body, "team_id") or (self._bot() or BotIdentity("", "", "")).team_id
        inbox.background(self._publish(team, user), name=f"slack-home-{user}")

    async def _publish(self, team: str, user: str) -> None:
        language = texts.language_of((await self._outbound.profile(person(team, user))).custom_data)
        agent = self.agent or texts.text("agent_fallback_name", language)
        try:
            await web.call(self._client, "views.publish", user_id=user, view=home_view(agent, language))
        except Exception as exc:  # best effort: the tab shows Slack's default
            log.info("slack home tab not published (%s)", exc)
