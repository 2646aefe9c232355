"""Guest mode (Bot API 10.0): a question asked by @username in a chat the bot is not in is
answered there once, with ``answerGuestQuery``; everything else goes to the person's
private chat.

Telegram documents no time limit for answering a guest query (neither the Bot API's
``answerGuestQuery`` nor the MTProto ``messages.setBotGuestChatResult`` page names one), so
the bridge keeps its own window (``TELEGRAM_GUEST_WINDOW``): an answer ready within it is
posted in place; a slower one leaves a short note in place when the window closes and
arrives whole in the private chat. A query Telegram refuses (expired, already answered)
is treated the same way: the answer goes to the private chat.

One guest query takes one message: the first of the note and the answer to reach it wins
(a lock per query), and a query once answered is remembered (bounded, in memory; after a
restart Telegram's refusal says the same).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

from telegram.error import BadRequest, Forbidden, TelegramError

from adapters.telegram.render import MAX_MESSAGE, Part, split
from bridge import texts
from bridge.models import Origin

log = logging.getLogger(__name__)

REMEMBERED = 10_000  # guest queries remembered as answered (each is a few dozen bytes)

Answer = Callable[[str, dict[str, Any]], Awaitable[object]]  # answerGuestQuery: the query, an InlineQueryResult


def query_of(origin: Origin) -> str:
    return origin.extra.get("guest_query", "")


def until_of(origin: Origin) -> float:
    """When the bridge's window for answering in place closes (Unix time)."""
    try:
        return float(origin.extra.get("guest_until", "0"))
    except ValueError:
        return 0.0


def private_origin(origin: Origin) -> Origin:
    """Where a guest question's answer goes when it is not posted in place: the person's private chat."""
    return Origin(chat=origin.chat, extra={"chat_type": "private"})


def shortened(parts: list[Part], language: str) -> Part:
    """A long answer as one message: its beginning, cut where ``split`` would cut it, with a
    link-free ending saying where the rest is."""
    ending = "\n\n" + texts.text("telegram_guest_more", language)
    room = MAX_MESSAGE - len(ending.encode("utf-16-le")) // 2
    text = "".join(part.text for part in parts)
    entities = [e.copy_with(offset=e.offset + _offset(parts, i)) for i, part in enumerate(parts) for e in part.entities]
    head = split(text, entities, room)[0]
    kept = head.text.rstrip()
    end = len(kept.encode("utf-16-le")) // 2
    # Nothing of the answer's formatting (a link, bold) reaches into the ending.
    clipped = tuple(e.copy_with(length=min(e.length, end - e.offset)) for e in head.entities if e.offset < end)
    return Part(kept + ending, clipped)


def _offset(parts: list[Part], index: int) -> int:
    return sum(len(part.text.encode("utf-16-le")) // 2 for part in parts[:index])


class GuestAnswers:
    """The one in-place message of each guest query: an answer, or the note that it went private."""

    def __init__(self, answer: Answer, clock: Callable[[], float] = time.time) -> None:
        self._answer = answer
        self._clock = clock
        self._locks: dict[str, asyncio.Lock] = {}
        self._taken: OrderedDict[str, None] = OrderedDict()

    async def post(self, origin: Origin, part: Part) -> bool:
        """Answer the query with ``part`` if its window is open; False when the answer must go
        to the private chat instead (then the note is in place, or cannot be). Raises
        ``TelegramError`` for a failure worth retrying."""
        query = query_of(origin)
        if query in self._taken:
            return False
        async with self._lock(query):
            if query in self._taken:
                return False  # the note got there first (its lock is gone from the table)
            if self._clock() >= until_of(origin):
                await self._note(origin)
                return False
            try:
                await self._answer(query, _article(query, part))
            except (BadRequest, Forbidden) as exc:  # expired, answered already, or refused: go private
                log.info("telegram guest query not answered in place (%s); the answer goes to the private chat", exc)
                self._took(query)
                return False
            self._took(query)
            return True

    async def note_when_late(self, origin: Origin) -> None:
        """Waits until the window closes, then leaves the note in place (unless answered).
        Meant to be cancelled when the answer arrives first."""
        await asyncio.sleep(max(0.0, until_of(origin) - self._clock()))
        if query_of(origin) in self._taken:
            return
        async with self._lock(query_of(origin)):
            await self._note(origin)

    async def _note(self, origin: Origin) -> None:
        """Best effort, at most once: a refused note changes nothing (the answer goes private)."""
        query = query_of(origin)
        if query in self._taken:
            return
        self._took(query)
        note = texts.text("telegram_guest_later", texts.language_of({"languageCode": origin.extra.get("language", "")}))
        with suppress(TelegramError):
            # Shielded: the answer arriving now (which cancels the wait) must not cut the note short.
            await asyncio.shield(self._answer(query, _article(query, Part(note))))

    def _lock(self, query: str) -> asyncio.Lock:
        lock = self._locks.get(query)
        if lock is None:
            lock = self._locks[query] = asyncio.Lock()
        return lock

    def _took(self, query: str) -> None:
        self._taken[query] = None
        self._locks.pop(query, None)  # later callers see it taken before they need a lock
        while len(self._taken) > REMEMBERED:
            self._taken.popitem(last=False)


def _article(query: str, part: Part) -> dict[str, Any]:
    """The message in place, as an ``InlineQueryResultArticle``."""
    content: dict[str, Any] = {"message_text": part.text, "link_preview_options": {"is_disabled": True}}
    if part.entities:
        content["entities"] = [e.to_dict() for e in part.entities]
    return {"type": "article", "id": query[:64], "title": part.text[:64] or "…", "input_message_content": content}
