"""👍/👎 on Telegram: an inline keyboard under each answer (``callback_query``), a reply
prompt after 👎 (``ForceReply``) whose answer is the comment (a message like any other:
``InboundMessage.replies_to`` names the prompt, and the core recognises it).

``callback_data`` comes back from the client and is never trusted: it only names an
answer (``v:<key>:<vote>``, well inside Telegram's 64 bytes); the core checks that the
person who pressed asked it. Every press is answered with ``answerCallbackQuery`` (the
client shows a spinner until then), with a short toast, in the background: the webhook's
200 never waits for Telegram or the agent. A press Telegram delivers again (the same
update, or the same callback query) counts once; the comment prompt is sent once per
answer; and a vote's messages never take an answer's turn in the chat (``ChatPace``).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from telegram import CallbackQuery, Message, Update
from telegram.error import TelegramError

from adapters.telegram.keyboards import Markup, vote_keyboard
from adapters.telegram.outbound import TelegramOutbound, message_id_of
from adapters.telegram.words import PLATFORM
from bridge import texts
from bridge.models import InboundMessage
from bridge.ports.feedback import DOWN, Ratings, Vote, Voted
from bridge.ports.inbox import Inbox

log = logging.getLogger(__name__)

_DATA = re.compile(r"^v:(\d{1,18}):(up|down)$")
TOAST_TIMEOUT = 10.0  # answerCallbackQuery; the client gives up on its spinner by itself


@dataclass(frozen=True)
class _Press:
    query: CallbackQuery
    key: str
    choice: str
    answer: Message | None  # the message carrying the buttons (None: too old for the client to send it)
    keys: tuple[str, ...]  # the update's and the callback query's identity: a redelivery counts once


def _press(update: Update, bot_id: str) -> _Press | None:
    query = update.callback_query
    assert query is not None
    found = _DATA.match(query.data or "")
    if found is None:
        return None
    answer = query.message if isinstance(query.message, Message) else None
    keys = (f"{PLATFORM}:{bot_id}:update:{update.update_id}", f"{PLATFORM}:{bot_id}:callback:{query.id}")
    return _Press(query, found.group(1), found.group(2), answer, keys)


class TelegramFeedback:
    def __init__(self, outbound: TelegramOutbound, inbox: Callable[[], Inbox | None], bot_id: str) -> None:
        self._outbound = outbound
        self._inbox = inbox
        self._bot_id = bot_id  # the public part of the token: keys stay apart per bot

    def _ratings(self) -> tuple[Inbox, Ratings] | None:
        inbox = self._inbox()
        ratings = inbox.ratings if inbox is not None else None
        return (inbox, ratings) if inbox is not None and ratings is not None else None

    async def pressed(self, update: Update) -> None:
        """A button under an answer: acknowledged now, answered and recorded in the background."""
        query = update.callback_query
        assert query is not None
        press = _press(update, self._bot_id)
        inbox = self._inbox()
        wired = self._ratings()
        if press is None or wired is None:
            log.info("telegram callback %s ignored: %s", update.update_id, "not a vote" if press is None else "off")
            if inbox is not None:  # only the spinner to stop: never before the 200
                inbox.background(self._toast(query, None), name=f"telegram-callback-{query.from_user.id}")
            return
        inbox, ratings = wired
        inbox.background(self._vote(ratings, press), name=f"telegram-vote-{query.from_user.id}")

    async def asked_for_person(self, update: Update, message: InboundMessage | None) -> None:
        """ "Talk to a person" pressed: the request goes to the core like ``/human`` (before
        the webhook's 200: a press the store could not take is delivered again); the
        spinner stops in the background. The core confirms in the chat, once per storm."""
        query = update.callback_query
        assert query is not None
        inbox = self._inbox()
        if inbox is None:
            return
        inbox.background(self._toast(query, None), name=f"telegram-callback-{query.from_user.id}")
        if message is not None:
            await inbox.receive(message)

    async def _vote(self, ratings: Ratings, press: _Press) -> None:
        sender = press.query.from_user
        language = texts.language_of({"languageCode": sender.language_code or ""})
        vote = Vote(PLATFORM, f"{PLATFORM}:{sender.id}", press.key, press.choice, None, language, press.keys)
        result = await ratings.vote(vote)
        if result.status is Voted.DUPLICATE:
            return  # the first delivery answered it
        await self._toast(press.query, result.note)
        if result.status is not Voted.RECORDED or press.answer is None:
            return
        answer = press.answer
        if result.changed:
            # The rows below 👍/👎 ("Talk to a person") stay as the answer has them.
            markup = answer.reply_markup
            rows = markup.inline_keyboard[1:] if markup is not None else ()
            rest = [[button.to_dict() for button in row] for row in rows]
            await self._set_buttons(answer, vote_keyboard(press.key, result.choice, rest))
        if press.choice == DOWN and await ratings.open_prompt(vote):
            prompt = await self._ask_for_reply(
                answer, texts.text("feedback_prompt", language), sender.id, sender.first_name
            )
            if prompt is not None:
                await ratings.prompted(vote, f"{answer.chat_id}:{prompt}")

    async def _toast(self, query: CallbackQuery, note: str | None) -> None:
        try:
            await asyncio.wait_for(query.answer(text=note[:200] if note else None), TOAST_TIMEOUT)
        except (TelegramError, TimeoutError) as exc:  # too late (after ~15 min), the query vanished, slow
            log.info("telegram callback not answered (%s)", exc or "timeout")

    # A vote's own messages: best effort, never raised; sent only when no answer waits for
    # the chat (TelegramOutbound.spare), else left out.

    async def _set_buttons(self, answer: Message, markup: Markup) -> None:
        chat = answer.chat_id
        if not await self._outbound.spare(str(chat), answer.chat.type):
            log.info("telegram chat=%s vote buttons not updated: the chat is busy with answers", chat)
            return
        params = {"chat_id": chat, "message_id": answer.message_id, "reply_markup": markup}
        try:
            async with self._outbound.overall:
                await self._outbound.api.call("editMessageReplyMarkup", params)
        except TelegramError as exc:  # "not modified": it shows that vote already
            log.debug("telegram chat=%s vote buttons not updated: %s", chat, exc)

    async def _ask_for_reply(self, answer: Message, text: str, user_id: int, first_name: str) -> int | None:
        """A prompt replying to ``answer`` that opens the person's reply box; returns its id.
        In a group it names the voter, so only their client opens the box (``selective``)."""
        entities = None
        if answer.chat.type != "private":
            name = first_name or "🙂"
            mention = {"id": user_id, "is_bot": False, "first_name": name}
            entities = [{"type": "text_mention", "offset": 0, "length": _utf16(name), "user": mention}]
            text = f"{name}: {text}"
        if not await self._outbound.spare(str(answer.chat_id), answer.chat.type):
            log.info("telegram chat=%s comment prompt not sent: the chat is busy with answers", answer.chat_id)
            return None
        params = {
            "chat_id": answer.chat_id,
            "text": text,
            "entities": entities,
            "message_thread_id": answer.message_thread_id if answer.is_topic_message else None,
            "reply_parameters": {"message_id": answer.message_id, "allow_sending_without_reply": True},
            "reply_markup": {"force_reply": True, "selective": True},
        }
        try:
            async with self._outbound.overall:
                return message_id_of(await self._outbound.api.call("sendMessage", params))
        except TelegramError as exc:
            log.info("telegram chat=%s comment prompt not sent: %s", answer.chat_id, exc)
            return None


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
