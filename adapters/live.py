"""A streamed answer shown as real chat messages that are edited while it is written
(the ``LiveText`` port for Slack and for Telegram groups).

The text so far is rendered like a final answer (so formatting shows as it arrives) and
split at the platform's limits: a long answer rolls over into a second message rather
than being cut. Updates are paced (``interval``): text that arrives in between is shown
by one delayed update, never dropped. At the end, ``finish`` edits each message into the
final rendering (sources included), posts parts the preview did not have and deletes
preview messages the final rendering does not need; it counts parts like a delivery, so
a retry continues where it stopped. If nothing was shown, the ordinary delivery posts it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Generic, TypeVar

from bridge import texts
from bridge.models import Reply
from bridge.ports.outbound import DeliveryProgress

log = logging.getLogger(__name__)

P = TypeVar("P")  # a rendered part (a platform message's content)
H = TypeVar("H")  # how the platform names a posted message

CUT_OFF = texts.ENGLISH["cut_off"]  # "(the answer was cut off here)"


@dataclass(frozen=True)
class MessageOps(Generic[P, H]):
    """What the platform adapter provides; post/edit raise ``DeliveryError``s."""

    render: Callable[[Reply], list[P]]
    post: Callable[[P, int], Awaitable[H]]  # (part, its index) -> the new message
    edit: Callable[[H, P, int], Awaitable[None]]
    delete: Callable[[H], Awaitable[None]]
    deliver: Callable[[Reply, DeliveryProgress], Awaitable[None]]  # the ordinary delivery


class PacedPreview:
    """Paces a live preview: ``present`` runs at most every ``interval`` seconds, and text
    that arrives in between is presented by one delayed update, never dropped."""

    def __init__(self, *, interval: float, what: str, language: str = "en") -> None:
        self._interval = interval
        self._language = language  # for the cut-off note
        self._what = what  # for log lines: "slack channel=C1"
        self._text = ""  # the latest text handed to show()
        self._applied = ""  # the text the chat shows
        self._last = 0.0
        self._later: asyncio.Task[None] | None = None
        self._broken = False

    async def present(self, text: str) -> None:
        raise NotImplementedError

    async def show(self, text: str) -> None:
        self._text = text
        if self._broken or self._later is not None:
            return  # a delayed update is due and will show this text
        wait = self._last + self._interval - time.monotonic()
        if wait > 0:
            self._later = asyncio.create_task(self._update_later(wait), name="live-preview")
            return
        await self._update()

    async def _update_later(self, wait: float) -> None:
        # Owned by this preview: finish() and abandon() cancel and await it.
        try:
            while True:
                await asyncio.sleep(wait)
                await self._update()
                if self._broken or self._text == self._applied:
                    return
                wait = self._interval  # more arrived during the update
        finally:
            self._later = None

    async def _update(self) -> None:
        text = self._text
        if self._broken or text == self._applied or not text.strip():
            return
        self._last = time.monotonic()
        try:
            await self.present(text)
            self._applied = text
        except Exception as exc:  # a preview is best effort: the final delivery still happens
            self._broken = True
            log.warning("%s: live preview stopped (%s)", self._what, exc)

    async def _quiet(self) -> None:
        if self._later is not None:
            self._later.cancel()
            with suppress(asyncio.CancelledError):
                await self._later
            self._later = None


class EditedPreview(PacedPreview, Generic[P, H]):
    """``LiveText`` over messages that are posted once and then edited."""

    def __init__(self, ops: MessageOps[P, H], *, interval: float, what: str, language: str = "en") -> None:
        super().__init__(interval=interval, what=what, language=language)
        self._ops = ops
        self._shown: list[tuple[H, P]] = []

    async def present(self, text: str) -> None:
        await self._apply(self._ops.render(Reply(text)), count=None)

    async def _apply(self, parts: list[P], *, count: DeliveryProgress | None, start: int = 0) -> None:
        for index in range(start, len(parts)):
            part = parts[index]
            if index < len(self._shown):
                handle, current = self._shown[index]
                if current != part:
                    await self._ops.edit(handle, part, index)
                    self._shown[index] = (handle, part)
            else:
                self._shown.append((await self._ops.post(part, index), part))
            if count is not None:
                await count.part_delivered(index + 1)

    async def finish(self, reply: Reply, progress: DeliveryProgress) -> None:
        await self._quiet()
        if not self._shown:
            await self._ops.deliver(reply, progress)
            return
        parts = self._ops.render(reply)
        await self._apply(parts, count=progress, start=progress.done)
        for handle, _ in self._shown[len(parts) :]:
            try:
                await self._ops.delete(handle)
            except Exception as exc:
                log.warning("%s: an unneeded preview message was not deleted (%s)", self._what, exc)
        del self._shown[len(parts) :]

    async def abandon(self) -> None:
        await self._quiet()
        if self._broken or not self._text.strip():
            return
        try:
            # Everything that arrived (not only the last paced update), marked as cut off.
            await self._apply(self._ops.render(cut_off(self._text, self._language)), count=None)
        except Exception as exc:
            log.warning("%s: could not mark the preview as cut off (%s)", self._what, exc)


def cut_off(text: str, language: str = "en") -> Reply:
    """What arrived of an answer that will not be finished, marked as such."""
    return Reply(f"{text.rstrip()}\n\n_{texts.text('cut_off', language)}_", language=language)
