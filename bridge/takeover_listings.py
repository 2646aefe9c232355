"""The listings of recently updated conversations at the agent: how the desk
(``bridge.takeover``) finds takeovers without asking for each conversation's mode, and what
they tell a waiting question (``listed``) so that it need not ask either.

One listing every ``scan_every`` covers the time since the previous one (overlapping, so
a conversation updated during a listing is listed again), page after page while pages
come full, ``scan_pages`` at most; a busier interval is said in the log and leaves the
listings incomplete until the next unbroken run of them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bridge.config import HandoverConfig
from bridge.ports.agent import HandsOver
from bridge.ports.store import StorePort

log = logging.getLogger("bridge.takeover")  # the takeover's one log, as operators filter it

FIRST_LOOK_BACK = 3600.0  # seconds the first listing after a start covers (``scan_pages`` pages at most)


class Listings:
    """The desk's listings; ``watch`` is called for each conversation found in a person's
    hands (as listed, or as last seen)."""

    def __init__(
        self,
        store: StorePort,
        agent: HandsOver,
        config: HandoverConfig,
        *,
        clock: Callable[[], float],
        watch: Callable[[int], None],
        handled_by_person: Callable[[int], Awaitable[bool]],
    ) -> None:
        self._store, self._agent, self._config = store, agent, config
        self._clock, self._watch, self._handled_by_person = clock, watch, handled_by_person
        self._scanned: float | None = None
        # What the listings tell waiting questions (``listed``): the conversations one showed in
        # a person's hands (and when), and since when no listing missed an update (None: one
        # overflowed, or none yet).
        self._taken: dict[int, float] = {}
        self._complete_since: float | None = None

    def listed(self, conversation_id: int, since: float) -> bool | None:
        """What the listings say of a waiting question's conversation, without a request:
        True if one showed it in a person's hands (ask ``taken`` to be sure); False if they
        missed no update since ``since``, the last no more than two intervals ago, and it
        was not among those in a person's hands; None if they may have missed one."""
        if conversation_id in self._taken:
            return True
        complete = self._complete_since is not None and self._complete_since <= since
        recent = self._scanned is not None and self._clock() - self._scanned <= 2 * self._config.scan_every
        return False if complete and recent else None

    def handed_back(self, conversation_id: int) -> None:
        """The agent has it (asked since it was listed in a person's hands)."""
        self._taken.pop(conversation_id, None)

    async def scan(self) -> None:
        """One listing: watch what is in a person's hands, remember it for ``listed``."""
        now = self._clock()
        # Overlapping windows: a conversation updated during the last listing is listed again.
        # The first listing after a start looks back further: takeovers during a downtime.
        since = (self._scanned if self._scanned is not None else now - FIRST_LOOK_BACK) - 5.0
        size = self._config.scan_page
        complete = True
        # Page after page while pages come full (all within the window), newest first; a
        # conversation updated meanwhile moves to the front and may be listed twice
        # (watching it again is harmless) but is never skipped: the next listing has it.
        for page in range(1, self._config.scan_pages + 1):
            listed = await self._agent.recently_updated(since, size, page)
            for handling in listed:
                conversation_id = await self._store.conversation_for_agent(handling.conversation_id)
                if conversation_id is None:
                    continue  # not one of ours (another channel of the same agent)
                if handling.by_person:
                    self._taken[conversation_id] = now
                else:
                    self._taken.pop(conversation_id, None)
                if handling.by_person or await self._handled_by_person(conversation_id):
                    self._watch(conversation_id)
            if len(listed) < size:
                break
        else:
            complete = False
            log.warning(
                "more than %d conversations were updated since the last listing; takeovers among the older ones "
                "are noticed when their person asks next",
                size * self._config.scan_pages,
            )
        # Overlapping windows chain: complete since the first of an unbroken run of listings.
        self._complete_since = (since if self._complete_since is None else self._complete_since) if complete else None
        for conversation_id, seen in list(self._taken.items()):
            if seen < now - self._config.watch:  # its handing back was never listed: forgotten a day on
                del self._taken[conversation_id]
        self._scanned = now
