"""The core's ``Outbound`` port for Telegram: post replies and "typing…", paced within
Telegram's limits."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, RetryAfter, TelegramError
from telegram.ext import Application

from adapters.files import READ_TIMEOUT, limited
from adapters.live import EditedPreview, MessageOps
from adapters.telegram.api import BotApi
from adapters.telegram.events import GUEST
from adapters.telegram.files_out import FILE_LIMIT, send_file
from adapters.telegram.guest import GuestAnswers, private_origin, shortened
from adapters.telegram.keyboards import Markup, answer_keyboard
from adapters.telegram.pace import Budget, ChatPace
from adapters.telegram.previews import PRIVATE_EDIT_EVERY, DraftPreview
from adapters.telegram.render import Part, render
from adapters.telegram.topics import Topics
from adapters.telegram.words import PLATFORM
from bridge import texts
from bridge.errors import DeliveryError, DeliveryPermanent, DeliveryRetryable, FileUnavailable
from bridge.models import AnswerFile, Attachment, Origin, PlatformUser, Reply, ReplyKind
from bridge.ports.outbound import DeliveryProgress, Download, LiveText

log = logging.getLogger(__name__)

TYPING_EVERY = 4.5  # Telegram shows "typing…" for 5 s at most
# "typing…" for the whole bot, per second: with a thousand people waiting, refreshing every
# chat every 4.5 s would be 220 calls a second; beyond this budget a refresh is skipped
# (the next try is 4.5 s later), never queued, so it never competes with answers.
TYPING_BUDGET = 20

GROUP_EDIT_EVERY = 3.0  # groups: 20 messages a minute, edits included
VOTE_WAIT = 60.0  # a vote's redrawn buttons or comment prompt wait this long for a free moment
NO_PREVIEW = {"is_disabled": True}  # link_preview_options: an answer's links show no preview


def _translated(chat: str, exc: TelegramError) -> DeliveryRetryable | DeliveryPermanent:
    """A Bot API failure as the core's delivery error."""
    if isinstance(exc, RetryAfter):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PTB deprecates int retry_after
            delay = _seconds(exc.retry_after)
        return DeliveryRetryable(f"telegram flood control: retry in {delay:g}s", retry_after=delay, maybe_posted=False)
    if isinstance(exc, Forbidden | BadRequest):
        return DeliveryPermanent(f"telegram chat {chat}: {exc.message}")
    return DeliveryRetryable(f"telegram: {type(exc).__name__}: {exc}")


def message_id_of(sent: Any) -> int:
    """The ``message_id`` of a sent ``Message`` (the Bot API's JSON)."""
    message_id = sent.get("message_id") if isinstance(sent, dict) else None
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise TelegramError("Invalid server response")
    return message_id


def _entities(part: Part) -> list[dict[str, Any]] | None:
    return [e.to_dict() for e in part.entities] or None


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramOutbound:
    """Posts replies and "typing…" to Telegram, paced within its limits."""

    platform = PLATFORM

    def __init__(self, app: Application[Any, Any, Any, Any, Any, Any], api: BotApi) -> None:
        self._app = app  # PTB's bot: the rare calls (getFile) and the file URL
        self.api = api  # every turn's calls, JSON in and out
        self._drafts = True  # sendMessageDraft works until the server says otherwise
        # Telegram allows ~30 messages a second per bot: 6 each 0.2 s, sent together (Budget).
        self.overall = Budget(6, 0.2)
        self._typing_budget = AsyncLimiter(TYPING_BUDGET, 1)
        self._per_chat: OrderedDict[str, ChatPace] = OrderedDict()
        self._http: httpx.AsyncClient | None = None  # downloads of files people send
        self.topics = Topics(api, lambda chat: self._paced(chat, "private"))
        self._guests = GuestAnswers(
            lambda query, result: api.call("answerGuestQuery", {"guest_query_id": query, "result": result})
        )

    def _limiter(self, chat: str, chat_type: str) -> ChatPace:
        pace = self._per_chat.pop(chat, None)
        if pace is None:
            pace = ChatPace(private=chat_type == "private")  # ~1 message/s; 20/minute in a group
        self._per_chat[chat] = pace
        while len(self._per_chat) > 10_000:
            self._per_chat.popitem(last=False)
        return pace

    @asynccontextmanager
    async def _paced(self, chat: str, chat_type: str) -> AsyncIterator[None]:
        """Within the bot's message budget, then the chat's."""
        async with self.overall, self._limiter(chat, chat_type):
            yield

    async def spare(self, chat: str, chat_type: str) -> bool:
        """A vote's own message (its buttons redrawn, the comment prompt) takes the chat's
        budget only when no answer waits for it, for up to VOTE_WAIT seconds; else it is
        left out (False)."""
        return await self._limiter(chat, chat_type).spare(VOTE_WAIT)

    async def deliver(self, origin: Origin, reply: Reply, progress: DeliveryProgress) -> None:
        asker = origin.extra.get("private")
        if asker:
            await self._deliver_privately(origin, asker, reply, progress)
            return
        parts = render(reply)
        if origin.extra.get("new_topic") and progress.done == 0:
            origin = await self.topics.open(origin, reply.language)
        if origin.extra.get("chat_type") == GUEST:
            await self._deliver_guest(origin, reply, parts, progress)
            return
        await self._send_parts(origin, reply, parts, progress)

    async def _send_parts(
        self, origin: Origin, reply: Reply, parts: list[Part], progress: DeliveryProgress, *, before: int = 0
    ) -> None:
        """``parts`` posted in order from where ``progress`` got; ``before``: progress counts
        that many places ahead of them (a guest answer's place in the chat it was asked in)."""
        chat = origin.chat
        for index in range(max(0, progress.done - before), len(parts)):
            # 👍/👎 and "Talk to a person" under the answer's last part
            markup = answer_keyboard(reply) if index == len(parts) - 1 else None
            chat, _ = await self._send_part(chat, origin, parts[index], reply_to=index == 0, markup=markup)
            await progress.part_delivered(before + index + 1)

    async def _deliver_guest(self, origin: Origin, reply: Reply, parts: list[Part], progress: DeliveryProgress) -> None:
        """Guest mode: progress counts the message in place first, then the private chat's parts.
        An answer that fits is posted in place and that is all (every place counted done); a long
        one is posted there shortened and whole in the private chat; one too late (or refused in
        place) only in the private chat, the note already in place."""
        if progress.done == 0:
            whole = len(parts) == 1
            in_place = parts[0] if whole else shortened(parts, reply.language)
            try:
                posted = await self._guests.post(origin, in_place)
            except TelegramError as exc:
                raise _translated(origin.chat, exc) from exc
            if posted and whole:
                await progress.part_delivered(1 + len(parts))
                return
            await progress.part_delivered(1)
        await self._send_parts(private_origin(origin), reply, parts, progress, before=1)

    async def _deliver_privately(self, origin: Origin, asker: str, reply: Reply, progress: DeliveryProgress) -> None:
        """A ``private`` route: the answer in the asker's private chat with the bot, and one
        line in the group saying so. A bot may not write first to someone who never
        opened a chat with it: then the line in the group says how to get answers."""
        try:
            await self.deliver(Origin(chat=asker, extra={"chat_type": "private"}), reply, progress)
            key = "telegram_private_note"
        except DeliveryPermanent as exc:
            log.info("telegram chat=%s private answer refused (%s); told in the group", origin.chat, exc)
            key = "telegram_private_blocked"
        (note, *_) = render(Reply(texts.text(key, reply.language), ReplyKind.NOTICE, language=reply.language))
        group = Origin(
            origin.chat, origin.thread, origin.message, {"chat_type": origin.extra.get("chat_type", "group")}
        )
        try:
            await self._send_part(origin.chat, group, note, reply_to=True)
        except DeliveryError as exc:  # best effort: the answer itself went
            log.info("telegram chat=%s note about a private answer not sent (%s)", origin.chat, exc)

    async def _send_part(
        self,
        chat: str,
        origin: Origin,
        part: Part,
        *,
        reply_to: bool,
        migrated: bool = False,
        markup: Markup | None = None,
    ) -> tuple[str, int]:
        """Post one part; returns the chat it went to (a migrated group's new id) and the message id."""
        params: dict[str, Any] = {
            "chat_id": int(chat),
            "text": part.text,
            "entities": _entities(part),
            "link_preview_options": NO_PREVIEW,
            "reply_markup": markup,
            "message_thread_id": int(origin.thread) if origin.thread else None,
        }
        if reply_to and origin.message:
            params["reply_parameters"] = {"message_id": int(origin.message), "allow_sending_without_reply": True}
        async with self.overall, self._limiter(chat, origin.extra.get("chat_type", "private")):
            try:
                try:
                    sent = await self.api.call("sendMessage", params)
                except BadRequest as exc:
                    if not params["entities"] or "entit" not in exc.message.lower():
                        raise
                    # Telegram refused the formatting: the words matter more than the looks.
                    log.warning("telegram chat=%s rejected formatting (%s); sending plain text", chat, exc.message)
                    sent = await self.api.call("sendMessage", {**params, "entities": None})
                message_id = message_id_of(sent)
            except ChatMigrated as exc:
                if migrated:
                    raise DeliveryPermanent(f"chat {chat} migrated twice") from exc
                # A group became a supergroup: follow it to its new id.
                log.info("telegram chat=%s migrated to %s", chat, exc.new_chat_id)
                return await self._send_part(
                    str(exc.new_chat_id), origin, part, reply_to=reply_to, migrated=True, markup=markup
                )
            except TelegramError as exc:
                raise _translated(chat, exc) from exc
        return chat, message_id

    async def _edit_part(self, chat: str, origin: Origin, message_id: int, part: Part) -> None:
        params = {
            "chat_id": int(chat),
            "message_id": message_id,
            "text": part.text,
            "entities": _entities(part),
            "link_preview_options": NO_PREVIEW,
        }
        async with self.overall, self._limiter(chat, origin.extra.get("chat_type", "private")):
            try:
                await self.api.call("editMessageText", params)
            except BadRequest as exc:
                if "not modified" in exc.message.lower():
                    return  # it already shows exactly this
                raise _translated(chat, exc) from exc
            except TelegramError as exc:
                raise _translated(chat, exc) from exc

    async def _delete(self, chat: str, message_id: int) -> None:
        try:
            await self.api.call("deleteMessage", {"chat_id": int(chat), "message_id": message_id})
        except TelegramError as exc:
            raise _translated(chat, exc) from exc

    def live(self, origin: Origin, language: str = "en", key: str = "") -> LiveText | None:
        if origin.extra.get("chat_type") == GUEST:
            return None  # answered in place once: nothing to show growing
        if origin.extra.get("private"):
            return None  # the answer goes to the asker's private chat, whole
        chat = origin.chat
        ops: MessageOps[Part, int] = MessageOps(
            render=render,
            post=lambda part, index: self._post_preview(origin, part, index),
            edit=lambda message_id, part, _: self._edit_part(chat, origin, message_id, part),
            delete=lambda message_id: self._delete(chat, message_id),
            deliver=lambda reply, progress: self.deliver(origin, reply, progress),
        )
        if origin.extra.get("chat_type", "private") == "private" and self._drafts:
            return DraftPreview(self, origin, ops, language)
        # Groups allow 20 messages a minute, edits included: update every 3 s at most.
        private = origin.extra.get("chat_type", "private") == "private"
        return EditedPreview(
            ops,
            interval=PRIVATE_EDIT_EVERY if private else GROUP_EDIT_EVERY,
            what=f"telegram chat={chat}",
            language=language,
        )

    async def _post_preview(self, origin: Origin, part: Part, index: int) -> int:
        _, message_id = await self._send_part(origin.chat, origin, part, reply_to=index == 0)
        return message_id

    async def draft(self, origin: Origin, draft_id: int, part: Part) -> bool:
        """Show a draft (Bot API 9.3+: private chats); False if this server has no drafts."""
        params = {
            "chat_id": int(origin.chat),
            "draft_id": draft_id,
            "text": part.text,
            "entities": _entities(part),
            "message_thread_id": int(origin.thread) if origin.thread else None,
        }
        try:
            await self.api.call("sendMessageDraft", params)
        except (BadRequest, InvalidToken) as exc:
            # An older Bot API server answers an unknown method with 404 "Not Found" (read
            # as InvalidToken, as PTB does); the token itself was proven at start.
            if isinstance(exc, InvalidToken) or "not found" in exc.message.lower() or "method" in exc.message.lower():
                self._drafts = False
                log.info("telegram: sendMessageDraft is not available; live answers use message edits")
                return False
            raise
        return True

    @asynccontextmanager
    async def working(self, origin: Origin) -> AsyncIterator[None]:
        if origin.extra.get("chat_type") == GUEST:
            # No "typing…" where the bot is a guest; if the answer is late, a note in its place.
            task = asyncio.create_task(self._guests.note_when_late(origin), name=f"guest-note-{origin.chat}")
        else:
            # Once per topic, before the first question goes (a round trip, then never again):
            # done here, not alongside, so a quick answer cannot cut it short.
            await self.topics.name(origin)
            task = asyncio.create_task(self._typing(origin), name=f"typing-{origin.chat}")
        try:
            yield
        finally:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                # The indicator's own end is expected; the lane's (cancelled while it waited
                # here: its lease could not be proven, a shutdown) must go on, or the lane
                # would carry on and post.
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise

    async def _typing(self, origin: Origin) -> None:
        params = {"chat_id": int(origin.chat), "action": "typing"}
        if origin.thread:
            params["message_thread_id"] = int(origin.thread)
        while True:
            # Chat actions are not messages: they stay out of the message budget so
            # answers never queue behind "typing…"; they have a small budget of their own.
            if self._typing_budget.has_capacity():
                await self._typing_budget.acquire()
                try:
                    await self.api.call("sendChatAction", params)
                except TelegramError as exc:  # best effort: never delays the answer
                    log.debug("telegram typing indicator failed: %s", exc)
            await asyncio.sleep(TYPING_EVERY)

    async def profile(self, user: PlatformUser) -> PlatformUser:
        return user  # every update carries the sender's names

    @asynccontextmanager
    async def download(self, attachment: Attachment, limit: int) -> AsyncIterator[Download]:
        """A file people sent, from Telegram's file server (``getFile``, then a streamed
        GET). Its URL holds the bot token: it never appears in a log line or an error."""
        try:
            found = await self._app.bot.get_file(attachment.ref)
        except TelegramError as exc:
            too_big = "too big" in str(exc).lower()  # bots may download up to 20 MB
            reason = "file_too_big" if too_big else "file_failed"
            raise FileUnavailable(f"telegram getFile: {type(exc).__name__}", reason=reason) from None
        if not found.file_path or not found.file_path.startswith(("https://", "http://")):
            raise FileUnavailable("telegram getFile gave no downloadable path")
        size = found.file_size or attachment.size
        if size is not None and size > limit:
            raise FileUnavailable(f"{size} bytes is over the limit", reason="file_too_big")
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=READ_TIMEOUT))
        try:
            async with self._http.stream("GET", found.file_path) as response:
                if response.status_code != 200:
                    raise FileUnavailable(f"telegram file server answered {response.status_code}")
                # Exactly the declared size, within the limit, counted on what is read.
                yield Download(limited(response.aiter_bytes(), limit, size), size)
        except httpx.HTTPError as exc:  # its message may quote the URL, and so the token
            raise FileUnavailable(f"telegram file download failed ({type(exc).__name__})") from None

    max_file_bytes = FILE_LIMIT

    async def post_file(
        self, origin: Origin, file: AnswerFile, download: Download, *, key: str, uncertain: bool
    ) -> None:
        """A file the agent made, as a photo (a picture up to 10 MB) or a document, streamed
        to the Bot API in one multipart request (PTB would read it whole into memory). The
        Bot API has no way to look for an earlier copy: a lost response (rare) may post it
        twice, as for text. The URL holds the bot token: it never appears in a log line."""
        guest = origin.extra.get("chat_type") == GUEST
        if guest:  # a guest answer holds no file: the private chat does
            origin = private_origin(origin)
        asker = origin.extra.get("private")
        if asker:  # a ``private`` route: with the answer, in the asker's private chat
            origin = Origin(chat=asker, extra={"chat_type": "private"})
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=READ_TIMEOUT))
        chat = origin.chat
        async with self.overall, self._limiter(chat, origin.extra.get("chat_type", "private")):
            try:
                await send_file(self._http, self._app.bot.base_url, origin, file, download)
            except DeliveryPermanent as exc:
                if not guest:
                    raise
                # Someone who never started the bot cannot be written to first: only what was
                # posted in place reaches them (as for a long guest answer).
                log.info("telegram guest %s: %r not sent to the private chat (%s)", chat, file.name, exc)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
