"""What each Slack event, slash command and button does (the platform verifies and
dispatches; these run before the acknowledgement, so what they hand the core is committed
first). Messages and mentions go to the core's inbox; assistant threads and DMs opened in
the agent view get the configured prompts; the stop button and "Talk to a person" become
the core's /stop and /human."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import sessions
from adapters.slack.config import SlackConfig
from adapters.slack.events import (
    MESSAGES,
    TITLE_LENGTH,
    BotIdentity,
    Ignored,
    classify,
    classify_command,
    pressed_for_person,
    session_stopped,
)
from adapters.slack.outbound import SlackOutbound
from adapters.slack.surfaces import SlackSurfaces
from adapters.slack.votes import PERSON_ACTION
from bridge.models import InboundMessage, Reply
from bridge.ports.inbox import Inbox, Receipt

log = logging.getLogger("adapters.slack.platform")  # the operators' log names stay as they were

_FRESH_THREADS = 10_000  # assistant threads remembered until their first question names them


class SlackListeners:
    """The listeners, registered on bolt's app (Socket Mode, commands, actions); over HTTP
    the hot events reach them straight from the platform (``direct``)."""

    def __init__(
        self,
        config: SlackConfig,
        client: AsyncWebClient,
        outbound: SlackOutbound,
        surfaces: SlackSurfaces,
        inbox: Callable[[], Inbox | None],
        bot: Callable[[], BotIdentity | None],
    ) -> None:
        self.client, self.outbound, self.surfaces = client, outbound, surfaces
        self._inbox_of, self._bot_of = inbox, bot
        self._policy = config.policy
        self._allow = config.allow
        self._prompts = config.suggested_prompts
        self._dm_threads = config.dm_threads
        self._fresh_threads: dict[tuple[str, str], None] = {}
        # Over HTTP these go straight to their listener, bypassing bolt (Socket Mode: via bolt).
        self.direct: dict[str, Callable[[dict[str, Any]], Awaitable[None]]] = {
            **dict.fromkeys(MESSAGES, self._on_event),
            "agent_session_stopped": self._on_session_stopped,
            "app_home_opened": self._on_home_opened,
            "app_context_changed": self._ignore,
        }

    @property
    def _inbox(self) -> Inbox | None:
        return self._inbox_of()

    @property
    def _bot(self) -> BotIdentity | None:
        return self._bot_of()

    def register(self, app: AsyncApp) -> None:
        app.event("assistant_thread_started")(self._on_assistant_thread)
        app.event("agent_session_stopped")(self._on_session_stopped)
        app.event("app_home_opened")(self._on_home_opened)
        app.event("app_context_changed")(self._ignore)  # what the person looks at: not used
        app.event("app_mention")(self._on_event)
        app.event("message")(self._on_event)
        app.command("/raia")(self._on_command)
        app.action(PERSON_ACTION)(self._on_person)

    async def _ignore(self, body: dict[str, Any]) -> None:
        log.debug("slack event %s ignored", (body.get("event") or {}).get("type"))

    async def _on_event(self, body: dict[str, Any]) -> None:
        """Runs before the acknowledgement: it goes out only once the core has committed."""
        assert self._inbox is not None
        assert self._bot is not None
        message = classify(body, self._bot, self._allow, self._policy, dm_threads=self._dm_threads)
        if isinstance(message, Ignored):
            log.debug("slack event %s ignored: %s", body.get("event_id"), message.reason)
            return
        receipt = await self._inbox.receive(message)
        key = (message.origin.chat, message.origin.thread or "")
        if receipt is Receipt.ACCEPTED and key in self._fresh_threads:
            # An assistant thread's first question names it in the thread list.
            del self._fresh_threads[key]
            title = message.text if len(message.text) <= TITLE_LENGTH else message.text[: TITLE_LENGTH - 1] + "…"
            await self._assistant_call(
                self.client.assistant_threads_setTitle(channel_id=key[0], thread_ts=key[1], title=title)
            )

    async def _on_assistant_thread(self, body: dict[str, Any]) -> None:
        """Someone opened the app's assistant pane: offer the configured prompts, and
        remember the thread so its first question can title it."""
        thread = (body.get("event") or {}).get("assistant_thread") or {}
        channel, thread_ts = thread.get("channel_id"), thread.get("thread_ts")
        if not (isinstance(channel, str) and isinstance(thread_ts, str)):
            return
        self._fresh_threads[(channel, thread_ts)] = None
        while len(self._fresh_threads) > _FRESH_THREADS:
            self._fresh_threads.pop(next(iter(self._fresh_threads)))
        if self._prompts:
            await self._assistant_call(
                self.client.assistant_threads_setSuggestedPrompts(
                    channel_id=channel, thread_ts=thread_ts, prompts=self._offered()
                )
            )

    async def _on_home_opened(self, body: dict[str, Any]) -> None:
        """A DM with the app opened (the agent messaging experience: ``tab`` "messages"):
        offer the configured prompts. Agent apps set them for the DM, without a thread
        (Slack ignores a ``thread_ts`` there)."""
        self.surfaces.home(body)  # the Home tab, if that is the one opened
        event = body.get("event") or {}
        channel = event.get("channel")
        if event.get("tab") != "messages" or not isinstance(channel, str) or not self._prompts:
            return
        await self._assistant_call(
            self.client.assistant_threads_setSuggestedPrompts(channel_id=channel, prompts=self._offered())
        )

    def _offered(self) -> list[dict[str, str]]:
        return [{"title": p if len(p) <= 75 else p[:74] + "…", "message": p} for p in self._prompts[:4]]

    async def _on_session_stopped(self, body: dict[str, Any]) -> None:
        """Slack's stop button: the person's question in that thread is stopped (stored
        before the acknowledgement) and one line in their language says so; the session
        leaves "processing" (Slack leaves that to the app)."""
        assert self._inbox is not None
        assert self._bot is not None
        message = session_stopped(body, self._bot)
        if isinstance(message, Ignored):
            log.info("slack stop ignored: %s", message.reason)
            return
        user = await self.outbound.profile(message.user)  # their language (cached, bounded)
        await self._inbox.receive(replace(message, user=user))
        self._inbox.background(self._session_done(message), name=f"slack-session-{message.origin.chat}")

    async def _session_done(self, message: InboundMessage) -> None:
        await self.outbound.sessions.set(message.origin, sessions.ACTIVE)

    async def _assistant_call(self, call: Awaitable[Any]) -> None:
        """Best effort and bounded (it runs before the event's acknowledgement)."""
        try:
            await asyncio.wait_for(call, timeout=2)
        except Exception as exc:
            log.info("slack assistant call failed (%s); the answer is not affected", type(exc).__name__)

    async def _on_person(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """ "Talk to a person" pressed: acknowledged at once; asked for like ``/raia human``
        (the person's language from users.info first), confirmed in the answer's thread."""
        await ack()
        inbox = self._inbox
        press = pressed_for_person(body, self._bot, self._allow) if self._bot is not None else Ignored("starting")
        if inbox is None or isinstance(press, Ignored):
            log.info("slack person button ignored: %s", press.reason if isinstance(press, Ignored) else "starting")
            return

        async def ask(message: InboundMessage) -> None:
            user = await self.outbound.profile(message.user)
            await inbox.receive(replace(message, user=user))

        inbox.background(ask(press), name=f"slack-person-{press.origin.chat}")

    async def _on_command(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        assert self._inbox is not None
        assert self._bot is not None

        async def ephemeral(reply: Reply) -> None:
            await ack(response_type="ephemeral", text=reply.text)

        command = classify_command(body, self._bot)
        # Replied in the acknowledgement: in the language already known for the person
        # (no users.info call on the way to Slack's 3 s limit).
        await self._inbox.receive(replace(command, user=self.outbound.known(command.user)), respond=ephemeral)
