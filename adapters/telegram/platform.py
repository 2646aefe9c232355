"""Telegram as a platform: python-telegram-bot's Application inside our server.

Webhook mode (``PUBLIC_URL`` set): Telegram POSTs to ``/telegram/webhook``; we check the
secret, translate the update (``events``) and hand it to the core, which commits it
before the 200 goes back (a 503 if it cannot: Telegram redelivers). Otherwise: long
polling by our own loop, which confirms an update to Telegram only once it is committed.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
import warnings
from contextlib import suppress
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import BotCommand, Update
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application

from adapters.base import CheckResult, read_json
from adapters.telegram import checks, wire
from adapters.telegram.api import BotApi
from adapters.telegram.config import TelegramConfig
from adapters.telegram.events import GUEST, BotIdentity, Ignored, classify, pressed_for_person
from adapters.telegram.feedback import TelegramFeedback
from adapters.telegram.http import AiohttpRequest
from adapters.telegram.keyboards import PERSON_DATA
from adapters.telegram.outbound import TelegramOutbound
from adapters.telegram.topics import UnnamedTopics
from adapters.telegram.words import PLATFORM
from bridge import texts
from bridge.backoff import Backoff
from bridge.errors import CredentialRefused, ServiceUnreachable, ShuttingDown, StartupError, StoreError
from bridge.ports.inbox import Inbox
from bridge.repeats import Repeats

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
POLL_SECONDS = 30  # one long poll; Telegram answers at once when an update comes
POLL_BACKOFF = Backoff(1.0, 30.0)  # Telegram unreachable, or an update we could not store
COMMANDS = ("start", "help", "reset", "new", "stop")
# New messages, presses of the 👍/👎 buttons, and questions from chats the bot is not in
# (guest mode, Bot API 10.0). Every other kind (business messages, reactions, managed bots,
# member changes, kinds of a later Bot API...) is acknowledged without being read.
UPDATES = ["message", "callback_query", "guest_message"]
GET_UPDATES_GRACE = 20.0  # seconds a long poll may take beyond its own timeout, connecting included


class Unreadable(Exception):
    """An update without what the bridge reads: taken (a 200) and logged, never redelivered."""


def _is_update_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def file_url(api_url: str) -> str:
    """Where files are downloaded: ``…/bot`` -> ``…/file/bot`` (the token follows both)."""
    base = api_url.rstrip("/")
    return base[: -len("bot")] + "file/bot" if base.endswith("/bot") else base + "/file/bot"


def commands(language: str, *, human: bool = False) -> list[BotCommand]:
    """The command menu; ``/human`` in it when a person can be asked for (HANDOFF)."""
    names = (*COMMANDS, "human") if human else COMMANDS
    return [BotCommand(name, texts.text(f"command_{name}", language)) for name in names]


class TelegramPlatform:
    """Telegram updates in (webhook or polling) -> the core's inbox; replies out via ``TelegramOutbound``."""

    name = PLATFORM

    def __init__(self, config: TelegramConfig) -> None:
        self.name = config.name
        self._path = config.path
        self._policy = config.policy
        self._public_url = config.public_url
        self._bot_id = config.bot_token.get_secret_value().split(":", 1)[0]  # the public part of the token
        self._api_url = config.api_url
        self._secret = config.webhook_secret
        self._allow = config.allow
        self._handoff = config.handoff
        self._guest_window = config.guest_window
        self._requests = (
            AiohttpRequest(connections=64, proxy=config.proxy),
            AiohttpRequest(connections=1, proxy=config.proxy),
        )
        builder = (
            Application.builder()
            .token(config.bot_token.get_secret_value())
            .base_url(config.api_url)
            .base_file_url(file_url(config.api_url))
            # Bot API calls over aiohttp (PTB's default is httpx); long polling has its own.
            .request(self._requests[0])
            .get_updates_request(self._requests[1])
        )
        # Updates never go through PTB's in-memory queue: a webhook commits each before
        # its 200, and our own polling loop before it confirms the offset to Telegram.
        self.app = builder.updater(None).build()
        # Every turn's calls and getUpdates as JSON, on connections of their own.
        # Through a proxy on PTB's requests (aiohttp speaks to it), else on connections of their own.
        via = self._requests if config.proxy else (None, None)
        self.api = BotApi(self.app.bot.base_url, via=via[0])
        self._poll_api = BotApi(
            self.app.bot.base_url, connections=1, timeout=POLL_SECONDS + GET_UPDATES_GRACE, via=via[1]
        )
        self.outbound = TelegramOutbound(self.app, self.api)
        self._feedback = TelegramFeedback(self.outbound, lambda: self._inbox, self._bot_id)
        self._inbox: Inbox | None = None
        self._bot: BotIdentity | None = None
        self._intake_open = False
        self._state = "starting"
        self._polling: asyncio.Task[None] | None = None
        # The same update fetched again about once a second while the store is down (full).
        self._unstored = Repeats(log)

    @property
    def webhook(self) -> bool:
        return self._public_url is not None

    @property
    def webhook_url(self) -> str:
        assert self._public_url is not None
        return self._public_url.rstrip("/") + self._path

    def routes(self) -> list[BaseRoute]:
        return [Route(self._path, self._webhook, methods=["POST"])] if self.webhook else []

    async def introduce(self, agent: str) -> None:
        """The bot's description (shown in an empty chat) and short description (its
        profile) name the agent, in every language the bridge speaks; set only where they
        differ, so a restart costs reads, not writes."""
        bot = self.app.bot
        for language in texts.languages():
            code = "" if language == "en" else language
            description = texts.text("telegram_description", language, agent=agent)
            short = texts.text("telegram_short_description", language, agent=agent)[:120]
            try:
                if (await bot.get_my_description(language_code=code)).description != description:
                    await bot.set_my_description(description, language_code=code)
                if (await bot.get_my_short_description(language_code=code)).short_description != short:
                    await bot.set_my_short_description(short, language_code=code)
            except TelegramError as exc:
                log.info("telegram: description not updated (%s)", exc)
                return

    def sole_consumer(self) -> tuple[str, str] | None:
        # Telegram hands each update to one getUpdates caller: a second poller of the same
        # bot makes both fail with 409 Conflict. Webhooks spread over any number of replicas.
        if self.webhook:
            return None
        bot_id = self._bot_id
        return (
            f"telegram-polling:{bot_id}",
            f"another raia-bridge is already long-polling Telegram bot {bot_id}: Telegram allows one "
            "poller per bot, so several replicas need webhook mode (set PUBLIC_URL and TELEGRAM_WEBHOOK_SECRET)",
        )

    # -- lifecycle ---------------------------------------------------------------------

    def keep_in(self, kept: UnnamedTopics) -> None:
        """The bridge's store, once open: the topics /new opens are named after a restart too."""
        self.outbound.topics.keep_in(kept, self.name)

    async def start(self, inbox: Inbox) -> None:
        self._inbox = inbox
        try:
            await self._connect()
        except InvalidToken:
            raise CredentialRefused(
                "TELEGRAM_BOT_TOKEN was refused by Telegram: copy it again from @BotFather"
            ) from None
        except BadRequest as exc:
            raise StartupError(
                f"Telegram refused the webhook {self.webhook_url}: {exc.message} (check PUBLIC_URL)"
            ) from None
        except (NetworkError, OSError) as exc:  # includes TimedOut
            raise ServiceUnreachable(
                f"cannot reach Telegram at {urlsplit(self._api_url).netloc} ({type(exc).__name__}): "
                "check the network and TELEGRAM_API_URL"
            ) from None
        self._intake_open = True
        if not self.webhook:
            # getUpdates refuses to work while a webhook is set; pending updates are kept.
            await self.app.bot.delete_webhook(drop_pending_updates=False)
            self._polling = asyncio.create_task(self._poll(), name="telegram-polling")
        self._state = "ok"
        log.info("telegram: @%s ready (%s)", self.app.bot.username, "webhook" if self.webhook else "long polling")

    async def stop_intake(self) -> None:
        self._intake_open = False
        if self._polling is not None:
            # Cut off the long poll; an update being committed right now is either
            # confirmed (committed) or fetched again next time (not committed).
            self._polling.cancel()
            with suppress(asyncio.CancelledError):
                await self._polling
            self._polling = None
        self._state = "stopping"

    async def close(self) -> None:
        await self.stop_intake()
        with suppress(Exception):
            await self.app.shutdown()
        for request in self._requests:  # also after a start that failed half-way
            await request.shutdown()
        self.api.close()
        self._poll_api.close()
        await self.outbound.close()

    async def _connect(self) -> None:
        await self.app.initialize()  # getMe: fails fast on a bad token
        bot = self.app.bot
        # Topics in private chats (switched on in @BotFather): /new opens a topic.
        self._bot = BotIdentity(id=bot.id, username=bot.username, topics=bool(bot.bot.has_topics_enabled))
        # The menu in every language the bridge speaks: Telegram shows each person theirs.
        human = self._handoff
        await bot.set_my_commands(commands("en", human=human))
        for language in texts.languages():
            if language != "en":
                await bot.set_my_commands(commands(language, human=human), language_code=language)
        if self.webhook:
            assert self._secret is not None
            # Registered at every start (a new PUBLIC_URL or secret takes effect), and
            # never deleted at shutdown: an overlapping new instance relies on it.
            await bot.set_webhook(
                self.webhook_url, secret_token=self._secret.get_secret_value(), allowed_updates=UPDATES
            )

    async def check(self) -> list[CheckResult]:
        return await checks.check(self.name, self.app, self.webhook_url if self.webhook else None, self._api_url)

    def status(self) -> str:
        return self._state if self._state != "ok" else f"ok ({'webhook' if self.webhook else 'polling'})"

    # -- inbound -----------------------------------------------------------------------

    async def _webhook(self, request: Request) -> Response:
        assert self._secret is not None
        # The secret is a header: judged before a byte of the body is read.
        given = request.headers.get("x-telegram-bot-api-secret-token")
        if given is None:
            return PlainTextResponse("missing secret token", status_code=401)
        if not hmac.compare_digest(given.encode(), self._secret.get_secret_value().encode()):
            return PlainTextResponse("wrong secret token", status_code=403)
        if not self._intake_open or self._inbox is None or not self._inbox.accepting:
            return PlainTextResponse("shutting down, retry later", status_code=503)  # Telegram redelivers
        try:
            data = read_json(await request.body())
        except ValueError:  # not JSON, not UTF-8, or nested beyond reason
            return PlainTextResponse("malformed update", status_code=400)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return PlainTextResponse("malformed update", status_code=400)
        if not any(kind in data for kind in UPDATES):
            # Not a kind the bridge uses (a webhook set elsewhere may ask for all of them):
            # taken unread, so a kind this library cannot read costs nothing and says nothing.
            log.debug("telegram update %s ignored: a kind the bridge does not use", data["update_id"])
            return Response(status_code=200)
        try:
            # Committed before the 200: after that, Telegram forgets the update.
            await self._take(data)
        except Unreadable as exc:
            # Well-formed JSON without what the bridge reads: a 4xx would make Telegram
            # redeliver it forever, so take it and say so in the log.
            log.warning("telegram update %s could not be read (%s); ignored", data["update_id"], exc)
            return Response(status_code=200)
        except ShuttingDown:
            return PlainTextResponse("shutting down, retry later", status_code=503)
        except StoreError as exc:
            log.warning(
                "telegram update %s could not be stored (%s); Telegram will redeliver it", data["update_id"], exc
            )
            return PlainTextResponse("could not store the update, retry later", status_code=503)
        except Exception:  # a bug: the same answer, with the traceback for the operator
            log.exception("telegram update %s could not be stored; Telegram will redeliver it", data["update_id"])
            return PlainTextResponse("could not store the update, retry later", status_code=503)
        return Response(status_code=200)

    async def _take(self, data: dict[str, Any]) -> None:
        """One update as its JSON: read (``wire``), translated and handed to the core.
        Raises ``Unreadable`` when it lacks what the bridge reads."""
        assert self._inbox is not None
        assert self._bot is not None
        try:
            update = wire.Update(data)
        except ValueError as exc:
            raise Unreadable(str(exc)) from None
        if update.callback_query is not None:
            # Answering a press takes PTB's objects (the query, the message with the buttons).
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # PTB's deprecation notes about fields it still reads
                    pressed = Update.de_json(data, self.app.bot)
            except Exception as exc:
                raise Unreadable(type(exc).__name__) from None
            if update.callback_query.data == PERSON_DATA:
                press = pressed_for_person(update, self._bot, self._allow)
                if isinstance(press, Ignored):
                    log.debug("telegram update %s ignored: %s", update.update_id, press.reason)
                await self._feedback.asked_for_person(pressed, None if isinstance(press, Ignored) else press)
                return
            await self._feedback.pressed(pressed)
            return
        message = classify(update, self._bot, self._allow, self._policy)
        if isinstance(message, Ignored):
            log.debug("telegram update %s ignored: %s", update.update_id, message.reason)
            return
        if message.origin.extra.get("chat_type") == GUEST:
            # The window for answering in place opens when the bridge gets the question.
            extra = {**message.origin.extra, "guest_until": str(time.time() + self._guest_window)}
            message = replace(message, origin=replace(message.origin, extra=extra))
        await self._inbox.receive(message)

    async def _get_updates(self, offset: int | None) -> list[dict[str, Any]]:
        """``getUpdates`` as JSON (read by ``wire`` like a webhook's, not by PTB): the updates
        that have an ``update_id``, in order."""
        params: dict[str, Any] = {"timeout": POLL_SECONDS, "allowed_updates": UPDATES}
        if offset is not None:
            params["offset"] = offset
        # PTB's own get_updates parses every update into its objects.
        result = await self._poll_api.call("getUpdates", params)
        if not isinstance(result, list):
            raise TelegramError("getUpdates did not answer a list")
        return [u for u in result if isinstance(u, dict) and _is_update_id(u.get("update_id"))]

    async def _poll(self) -> None:
        """Long polling. The offset that confirms an update to Telegram is only sent once
        the update is committed, so a kill -9 at any moment loses nothing."""
        offset: int | None = None
        failures = 0
        while self._intake_open:
            try:
                updates = await self._get_updates(offset)
                failures = 0
            except TelegramError as exc:
                failures += 1
                log.warning("telegram getUpdates failed (%s); trying again", exc)
                await asyncio.sleep(POLL_BACKOFF.wait(failures))
                continue
            for update in updates:
                try:
                    await self._take(update)
                except ShuttingDown:
                    return
                except Unreadable as exc:
                    log.warning("telegram update %s could not be read (%s); ignored", update["update_id"], exc)
                except Exception as exc:
                    # Not confirmed: Telegram hands it over again on the next call.
                    line = "telegram update %s could not be stored (%s); fetching it again"
                    if isinstance(exc, StoreError):  # an outage (a full disk): fetched about once a second
                        self._unstored.log(logging.WARNING, line, update["update_id"], exc)
                    else:
                        log.exception(line, update["update_id"], exc)
                    failures += 1
                    await asyncio.sleep(POLL_BACKOFF.wait(failures))
                    break
                offset = update["update_id"] + 1
