"""The core's ``Outbound`` port for Telegram: post replies and "typing…", paced within
Telegram's limits."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram import LinkPreviewOptions, MessageEntity, ReplyParameters
from telegram.constants import ChatAction
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from adapters.telegram.events import PLATFORM
from adapters.telegram.render import Part, render
from bridge.errors import DeliveryPermanent, DeliveryRetryable
from bridge.models import Origin, PlatformUser, Reply
from bridge.ports.outbound import DeliveryProgress

log = logging.getLogger(__name__)

TYPING_EVERY = 4.5  # Telegram shows "typing…" for 5 s at most


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramOutbound:
    """Posts replies and "typing…" to Telegram, paced within its limits."""

    platform = PLATFORM

    def __init__(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        self._app = app
        self._overall = AsyncLimiter(30, 1)  # Telegram allows ~30 messages/s per bot
        self._per_chat: OrderedDict[str, AsyncLimiter] = OrderedDict()

    def _limiter(self, chat: str, chat_type: str) -> AsyncLimiter:
        limiter = self._per_chat.pop(chat, None)
        if limiter is None:
            # ~1 message/s in a private chat, 20/minute in a group.
            limiter = AsyncLimiter(1, 1) if chat_type == "private" else AsyncLimiter(20, 60)
        self._per_chat[chat] = limiter
        while len(self._per_chat) > 10_000:
            self._per_chat.popitem(last=False)
        return limiter

    async def deliver(self, origin: Origin, reply: Reply, progress: DeliveryProgress) -> None:
        parts = render(reply)
        chat = origin.chat
        for index in range(progress.done, len(parts)):
            chat = await self._send_part(chat, origin, parts[index], reply_to=index == 0)
            await progress.part_delivered(index + 1)

    async def _send_part(self, chat: str, origin: Origin, part: Part, *, reply_to: bool, migrated: bool = False) -> str:
        entities = [MessageEntity(**e.to_dict()) for e in part.entities]
        kwargs: dict[str, Any] = {"link_preview_options": LinkPreviewOptions(is_disabled=True)}
        if origin.thread:
            kwargs["message_thread_id"] = int(origin.thread)
        if reply_to and origin.message:
            kwargs["reply_parameters"] = ReplyParameters(int(origin.message), allow_sending_without_reply=True)
        async with self._overall, self._limiter(chat, origin.extra.get("chat_type", "private")):
            try:
                try:
                    await self._app.bot.send_message(int(chat), part.text, entities=entities or None, **kwargs)
                except BadRequest as exc:
                    if not entities or "entit" not in exc.message.lower():
                        raise
                    # Telegram refused the formatting: the words matter more than the looks.
                    log.warning("telegram chat=%s rejected formatting (%s); sending plain text", chat, exc.message)
                    await self._app.bot.send_message(int(chat), part.text, **kwargs)
            except ChatMigrated as exc:
                if migrated:
                    raise DeliveryPermanent(f"chat {chat} migrated twice") from exc
                # A group became a supergroup: follow it to its new id.
                log.info("telegram chat=%s migrated to %s", chat, exc.new_chat_id)
                return await self._send_part(str(exc.new_chat_id), origin, part, reply_to=reply_to, migrated=True)
            except RetryAfter as exc:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # PTB deprecates int retry_after
                    delay = _seconds(exc.retry_after)
                raise DeliveryRetryable(
                    f"telegram flood control: retry in {delay:g}s", retry_after=delay, maybe_posted=False
                ) from exc
            except Forbidden as exc:
                raise DeliveryPermanent(f"telegram chat {chat}: {exc.message}") from exc
            except BadRequest as exc:
                raise DeliveryPermanent(f"telegram chat {chat}: {exc.message}") from exc
            except (NetworkError, TelegramError) as exc:
                raise DeliveryRetryable(f"telegram: {type(exc).__name__}: {exc}") from exc
        return chat

    @asynccontextmanager
    async def working(self, origin: Origin) -> AsyncIterator[None]:
        task = asyncio.create_task(self._typing(origin), name=f"typing-{origin.chat}")
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _typing(self, origin: Origin) -> None:
        thread = int(origin.thread) if origin.thread else None
        while True:
            try:
                # Chat actions are not messages: they stay out of the message budget so
                # answers never queue behind "typing…".
                await self._app.bot.send_chat_action(int(origin.chat), ChatAction.TYPING, message_thread_id=thread)
            except TelegramError as exc:  # best effort: never delays the answer
                log.debug("telegram typing indicator failed: %s", exc)
            await asyncio.sleep(TYPING_EVERY)

    async def profile(self, user: PlatformUser) -> PlatformUser:
        return user  # every update carries the sender's names
