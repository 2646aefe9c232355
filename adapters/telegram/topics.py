"""Topics in private chats (Bot API 9.3, switched on in @BotFather): /new opens a topic
(``createForumTopic``) where the conversation starts over; a topic without a name (one /new
opened, or one the person opened without naming it) takes its first question's.

The topics /new opened are kept in the bridge's store once it is open (``UnnamedTopics``):
one opened just before a restart, or by another replica, is still named. A question in a
topic asks the store once per topic and process, not at every question."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from telegram.error import TelegramError

from adapters.telegram.api import BotApi
from bridge import texts
from bridge.errors import StoreError
from bridge.models import Origin

log = logging.getLogger(__name__)

REMEMBERED = 10_000  # topics kept in memory, each kind (each a few dozen bytes)


class UnnamedTopics(Protocol):
    """Where the topics /new opened wait for their first question (the bridge's store)."""

    async def keep_unnamed_topic(self, platform: str, chat: str, thread: str) -> None: ...

    async def take_unnamed_topic(self, platform: str, chat: str, thread: str) -> bool: ...


def _remember(keys: OrderedDict[tuple[str, str], None], key: tuple[str, str]) -> None:
    keys[key] = None
    while len(keys) > REMEMBERED:
        keys.popitem(last=False)


class Topics:
    def __init__(self, api: BotApi, pace: Callable[[str], AbstractAsyncContextManager[None]]) -> None:
        self._api = api
        self._pace = pace  # a private chat's message budget (the bot's and the chat's)
        self._unnamed: OrderedDict[tuple[str, str], None] = OrderedDict()  # opened here, until the store is open
        self._settled: OrderedDict[tuple[str, str], None] = OrderedDict()  # asked about once: named or not ours
        self._kept: UnnamedTopics | None = None
        self._platform = ""

    def keep_in(self, kept: UnnamedTopics, platform: str) -> None:
        """From now on the topics /new opens are kept in ``kept``, under ``platform``'s name."""
        self._kept, self._platform = kept, platform

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
        _remember(self._unnamed, (origin.chat, str(thread)))
        if self._kept is not None:
            try:
                await self._kept.keep_unnamed_topic(self._platform, origin.chat, str(thread))
            except StoreError as exc:  # named all the same unless the bridge restarts first
                log.warning("telegram chat=%s topic %s not kept (%s)", origin.chat, thread, exc)
        return Origin(chat=origin.chat, thread=str(thread), extra={"chat_type": "private"})

    async def name(self, origin: Origin) -> None:
        """A topic still without its name takes it from its first question; best effort."""
        title = origin.extra.get("topic_title")
        if not title or not origin.thread:
            return
        if not origin.extra.get("topic_unnamed") and not await self._take((origin.chat, origin.thread)):
            return
        try:
            await self._api.call(
                "editForumTopic", {"chat_id": int(origin.chat), "message_thread_id": int(origin.thread), "name": title}
            )
        except TelegramError as exc:
            log.info("telegram chat=%s topic %s not named (%s)", origin.chat, origin.thread, exc)

    async def _take(self, key: tuple[str, str]) -> bool:
        """Whether /new opened this topic and no question named it yet; True once."""
        if key in self._settled:
            return False
        _remember(self._settled, key)
        opened_here = key in self._unnamed
        self._unnamed.pop(key, None)
        if self._kept is None:
            return opened_here
        try:
            return await self._kept.take_unnamed_topic(self._platform, *key) or opened_here
        except StoreError as exc:
            log.warning("telegram chat=%s topic %s: not known whether it is named (%s)", key[0], key[1], exc)
            return opened_here
