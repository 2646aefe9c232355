"""A streamed answer in a private chat, shown as a draft bubble while it grows."""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

from adapters.live import EditedPreview, MessageOps, PacedPreview, cut_off
from adapters.telegram.render import Part, render
from bridge.models import Origin, Reply
from bridge.ports.outbound import DeliveryProgress

if TYPE_CHECKING:  # the outbound makes these previews: a type-only import, no cycle
    from adapters.telegram.outbound import TelegramOutbound

log = logging.getLogger(__name__)

DRAFT_EVERY = 1.0  # a streamed answer's draft is updated at most this often
PRIVATE_EDIT_EVERY = 1.0  # ... or its message edited, where drafts are not available


class DraftPreview(PacedPreview):
    """Private chats: the answer grows in a draft bubble (``sendMessageDraft``) and is then
    sent as ordinary messages, so delivery stays exactly as without streaming. A draft is
    ephemeral: an answer that never comes leaves no half message behind, only what arrived
    posted once, marked as cut off. Where drafts are unavailable, message edits take over."""

    def __init__(
        self, outbound: TelegramOutbound, origin: Origin, ops: MessageOps[Part, int], language: str = "en"
    ) -> None:
        super().__init__(interval=DRAFT_EVERY, what=f"telegram chat={origin.chat}", language=language)
        self._outbound = outbound
        self._origin = origin
        self._ops = ops
        self._draft_id = secrets.randbelow(2**31 - 2) + 1  # non-zero; the same id animates one draft
        self._edits: EditedPreview[Part, int] | None = None

    async def present(self, text: str) -> None:
        if self._edits is not None:
            await self._edits.present(text)
            return
        parts = render(Reply(text))
        # A draft holds one message: show the part being written (earlier parts are final text).
        if not await self._outbound.draft(self._origin, self._draft_id, parts[-1]):
            self._edits = EditedPreview(
                self._ops, interval=PRIVATE_EDIT_EVERY, what=self._what, language=self._language
            )
            await self._edits.present(text)

    async def finish(self, reply: Reply, progress: DeliveryProgress) -> None:
        await self._quiet()
        if self._edits is not None:
            await self._edits.finish(reply, progress)
            return
        await self._ops.deliver(reply, progress)

    async def abandon(self) -> None:
        await self._quiet()
        if self._edits is not None:
            await self._edits.abandon()
            return
        if not self._text.strip():
            return
        try:
            # Everything that arrived (not only the last paced draft), posted once, marked as cut off.
            for index, part in enumerate(render(cut_off(self._text, self._language))):
                await self._ops.post(part, index)
        except Exception as exc:
            log.warning("%s: what arrived of a cut answer was not posted (%s)", self._what, exc)
