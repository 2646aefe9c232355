"""Telegram as a platform: python-telegram-bot's Application inside our server.

Webhook mode (``PUBLIC_URL`` set): Telegram POSTs to ``/telegram/webhook``; we check the
secret, queue the update for PTB and answer 200 at once. Otherwise: long polling. In
both modes PTB dispatches updates concurrently to ``_on_update``, which translates
them (``telegram_events``) and hands questions to the core.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import warnings
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute
from starlette.routing import Route as HttpRoute
from telegram import BotCommand, LinkPreviewOptions, MessageEntity, ReplyParameters, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from adapters.telegram_events import (
    PLATFORM,
    Allowlist,
    Ask,
    BotInfo,
    Command,
    Ignore,
    Notify,
    classify,
)
from adapters.telegram_render import Part, render
from bridge.errors import DeliveryPermanent, DeliveryRetryable, ShuttingDown
from bridge.models import Reply, Route
from bridge.outbound import DeliveryProgress
from bridge.platform import CheckResult
from bridge.service import ConversationService
from bridge.settings import Settings

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
TYPING_EVERY = 4.5  # Telegram shows "typing…" for 5 s at most
BOT_COMMANDS = [
    BotCommand("start", "Say hello and see how to use me"),
    BotCommand("help", "How to use this bot"),
    BotCommand("reset", "Start a new conversation"),
    BotCommand("new", "Start a new conversation (same as /reset)"),
]


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

    async def deliver(self, route: Route, reply: Reply, progress: DeliveryProgress) -> None:
        parts = render(reply)
        chat = route.chat
        for index in range(progress.done, len(parts)):
            chat = await self._send_part(chat, route, parts[index], reply_to=index == 0)
            await progress.part_delivered(index + 1)

    async def send_text(self, route: Route, text: str) -> None:
        """A direct answer of the adapter (commands, notes): logged, never raised."""
        try:
            await self._send_part(route.chat, route, Part(text), reply_to=True)
        except Exception as exc:
            log.warning("telegram chat=%s could not send a notice: %s", route.chat, exc)

    async def _send_part(self, chat: str, route: Route, part: Part, *, reply_to: bool, migrated: bool = False) -> str:
        entities = [MessageEntity(**e.to_dict()) for e in part.entities]
        kwargs: dict[str, Any] = {"link_preview_options": LinkPreviewOptions(is_disabled=True)}
        if route.thread:
            kwargs["message_thread_id"] = int(route.thread)
        if reply_to and route.message:
            kwargs["reply_parameters"] = ReplyParameters(int(route.message), allow_sending_without_reply=True)
        async with self._overall, self._limiter(chat, route.extra.get("chat_type", "private")):
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
                return await self._send_part(str(exc.new_chat_id), route, part, reply_to=reply_to, migrated=True)
            except RetryAfter as exc:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # PTB deprecates int retry_after
                    delay = _seconds(exc.retry_after)
                raise DeliveryRetryable(f"telegram flood control: retry in {delay:g}s", retry_after=delay) from exc
            except Forbidden as exc:
                raise DeliveryPermanent(f"telegram chat {chat}: {exc.message}") from exc
            except BadRequest as exc:
                raise DeliveryPermanent(f"telegram chat {chat}: {exc.message}") from exc
            except (NetworkError, TelegramError) as exc:
                raise DeliveryRetryable(f"telegram: {type(exc).__name__}: {exc}") from exc
        return chat

    @asynccontextmanager
    async def working(self, route: Route) -> AsyncIterator[None]:
        task = asyncio.create_task(self._typing(route), name=f"typing-{route.chat}")
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _typing(self, route: Route) -> None:
        thread = int(route.thread) if route.thread else None
        while True:
            try:
                # Chat actions are not messages: they stay out of the message budget so
                # answers never queue behind "typing…".
                await self._app.bot.send_chat_action(int(route.chat), ChatAction.TYPING, message_thread_id=thread)
            except TelegramError as exc:  # best effort: never delays the answer
                log.debug("telegram typing indicator failed: %s", exc)
            await asyncio.sleep(TYPING_EVERY)


class TelegramPlatform:
    name = PLATFORM

    def __init__(self, settings: Settings) -> None:
        assert settings.telegram_bot_token is not None
        self._public_url = settings.public_url
        self._secret = settings.telegram_webhook_secret
        users, chats = settings.telegram_allowlist
        self._allow = Allowlist(users=users, chats=chats)
        builder = (
            Application.builder()
            .token(settings.telegram_bot_token.get_secret_value())
            .base_url(settings.telegram_api_url)
            .concurrent_updates(64)  # PTB's default handles one update at a time for everyone
            .connect_timeout(10)
            .read_timeout(20)
            .write_timeout(20)
            .pool_timeout(10)
        )
        if self.webhook:
            builder = builder.updater(None)
        self.app = builder.build()
        self.app.add_handler(TypeHandler(Update, self._on_update))
        self.app.add_error_handler(self._on_error)
        self.outbound = TelegramOutbound(self.app)
        self._service: ConversationService | None = None
        self._bot: BotInfo | None = None
        self._intake_open = False
        self._state = "starting"

    @property
    def webhook(self) -> bool:
        return self._public_url is not None

    @property
    def webhook_url(self) -> str:
        assert self._public_url is not None
        return self._public_url.rstrip("/") + WEBHOOK_PATH

    def routes(self) -> list[BaseRoute]:
        return [HttpRoute(WEBHOOK_PATH, self._webhook, methods=["POST"])] if self.webhook else []

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self, service: ConversationService) -> None:
        self._service = service
        await self.app.initialize()  # getMe: fails fast on a bad token
        bot = self.app.bot
        self._bot = BotInfo(id=bot.id, username=bot.username)
        await bot.set_my_commands(BOT_COMMANDS)
        if self.webhook:
            assert self._secret is not None
            # Registered at every start (a new PUBLIC_URL or secret takes effect), and
            # never deleted at shutdown: an overlapping new instance relies on it.
            await bot.set_webhook(
                self.webhook_url, secret_token=self._secret.get_secret_value(), allowed_updates=["message"]
            )
        await self.app.start()
        if not self.webhook:
            assert self.app.updater is not None
            await self.app.updater.start_polling(allowed_updates=["message"], drop_pending_updates=False)
        self._intake_open = True
        self._state = "ok"
        log.info("telegram: @%s ready (%s)", bot.username, "webhook" if self.webhook else "long polling")

    async def stop_intake(self) -> None:
        self._intake_open = False
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            # Finish the updates already taken (bounded: PTB's stop waits forever).
            with suppress(TimeoutError):
                await asyncio.wait_for(self.app.stop(), timeout=5)
        self._state = "stopping"

    async def close(self) -> None:
        await self.stop_intake()
        with suppress(Exception):
            await self.app.shutdown()

    def status(self) -> str:
        return self._state if self._state != "ok" else f"ok ({'webhook' if self.webhook else 'polling'})"

    async def check(self) -> list[CheckResult]:
        try:
            await self.app.initialize()
        except TelegramError as exc:
            return [CheckResult("telegram", False, f"TELEGRAM_BOT_TOKEN was refused: {exc}")]
        bot = self.app.bot
        results = [CheckResult("telegram", True, f"bot @{bot.username} (id {bot.id})")]
        info = await bot.get_webhook_info()
        if not self.webhook:
            note = "long polling (no PUBLIC_URL)"
            if info.url:
                note += f"; a webhook is set to {info.url} and will be removed when the bridge starts polling"
            results.append(CheckResult("telegram mode", True, note))
            return results
        ok = info.url == self.webhook_url
        detail = f"webhook {info.url or '(none)'}; pending updates {info.pending_update_count}"
        if info.last_error_message:
            detail += f"; last error: {info.last_error_message}"
        if not ok:
            detail += f"; expected {self.webhook_url} (set when the bridge starts)"
        results.append(CheckResult("telegram mode", ok or not info.url, detail))
        return results

    # -- inbound -----------------------------------------------------------------------

    async def _webhook(self, request: Request) -> Response:
        assert self._secret is not None
        given = request.headers.get("x-telegram-bot-api-secret-token")
        if given is None:
            return PlainTextResponse("missing secret token", status_code=401)
        if not hmac.compare_digest(given.encode(), self._secret.get_secret_value().encode()):
            return PlainTextResponse("wrong secret token", status_code=403)
        if not self._intake_open or self._service is None or not self._service.accepting:
            return PlainTextResponse("shutting down, retry later", status_code=503)  # Telegram redelivers
        try:
            data = json.loads(await request.body())
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, self.app.bot)
        except Exception:
            return PlainTextResponse("malformed update", status_code=400)
        await self.app.update_queue.put(update)
        return Response(status_code=200)

    async def _on_update(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert self._service is not None
        assert self._bot is not None
        if not isinstance(update, Update):
            return
        action = classify(update, self._bot, self._allow)
        service = self._service
        if isinstance(action, Ignore):
            log.debug("telegram update %s ignored: %s", update.update_id, action.reason)
        elif isinstance(action, Ask):
            try:
                await service.submit(action.message)
            except ShuttingDown:
                log.warning("telegram update %s arrived during shutdown and was not taken", update.update_id)
        elif await service.first_sighting((action.key,)):
            if isinstance(action, Notify):
                await self.outbound.send_text(action.route, action.text)
            else:
                await self._command(action)

    async def _command(self, command: Command) -> None:
        assert self._service is not None
        assert self._bot is not None
        how = (
            "Just send me a message."
            if command.private
            else f"Mention me (@{self._bot.username}) or reply to one of my messages."
        )
        if command.name == "reset":
            await self._service.reset(command.user)
            text = "Done — your next message starts a new conversation. I won't remember what we discussed before."
        elif command.name == "start":
            name = await self._service.agent_name()
            text = f"Hi {command.user.first_name}! I'm {name}. {how} Use /reset to start over."
        elif command.name == "help":
            text = (
                f"{how} I answer with sources where I have them.\n\n"
                "/reset — start a new conversation (also /new)\n/help — this message"
            )
        else:
            text = "I don't know that command. Try /help."
        await self.outbound.send_text(command.route, text)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram update handling failed", exc_info=context.error)
