"""Topics in private chats (Bot API 9.3, switched on in @BotFather): /new opens a topic
(``createForumTopic``) where the conversation starts over; a topic without a name (one /new
opened, or one the person opened without naming it) takes its first question's."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from telegram.error import TelegramError

from adapters.telegram.api import BotApi
from bridge import texts
from bridge.models import Origin

log = logging.getLogger(__name__)

REMEMBERED = 10_000  # topics /new opened that are not named yet (each a few dozen bytes)


class Topics:
    def __init__(self, api: BotApi, pace: Callable[[str], AbstractAsyncContextManager[None]]) -> None:
        self._api = api
        self._pace = pace  # a private chat's message budget (the bot's and the chat's)
        self._unnamed: OrderedDict[tuple[str, str], None] = OrderedDict()

    async def open(self, origin: Origin, language: str) -> Origin:
        """Where /new's notice goes: a new topic, or (none could be opened) where /new was sent."""
        params = {"chat_id": int(origin.chat), "name": texts.text("telegram_topic_name", language)}
        try:
            async with self._pace(origin.chat):
                topic = await self._api.call("createForumTopic", params)
            thread = topic["message_thread_id"]
            if not isinstance(thread, int):
                raise TelegramError("Invalid server response")
        except (TelegramError, TypeError, KeyError) as exc:
            log.info("telegram chat=%s no topic opened for /new (%s)", origin.chat, exc)
            return origin
        self._unnamed[(origin.chat, str(thread))] = None
        while len(self._unnamed) > REMEMBERED:
            self._unnamed.popitem(last=False)
        return Origin(chat=origin.chat, thread=str(thread), extra={"chat_type": "private"})

    async def name(self, origin: Origin) -> None:
        """A topic still without its name takes it from its first question; best effort."""
        title = origin.extra.get("topic_title")
        key = (origin.chat, origin.thread or "")
        if not title or not origin.thread or not (origin.extra.get("topic_unnamed") or key in self._unnamed):
            return
        self._unnamed.pop(key, None)
        try:
            await self._api.call(
                "editForumTopic", {"chat_id": int(origin.chat), "message_thread_id": int(origin.thread), "name": title}
            )
        except TelegramError as exc:
            log.info("telegram chat=%s topic %s not named (%s)", origin.chat, origin.thread, exc)
