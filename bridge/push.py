"""Hints that an answer is ready (raia's ``each_message`` webhook), for the pollers.

A hint names ids (a conversation's, a message's); a poller waiting on one of them polls
at once. A hint is never trusted for content: it only moves the next ``response-on`` call
forward. While hints keep arriving, pollers fall back to a slow schedule (a lost hint
costs at most ``fallback`` seconds); without them, the normal schedule applies.
A hint that arrives before its poller starts waiting (a fast answer) is kept a little
while, so it is not lost in that gap.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable

KEEP = 120.0  # seconds an unclaimed hint is remembered
KEEP_AT_MOST = 10_000  # ... and how many (hints name every conversation of the agent)
HEALTHY_FOR = 600.0  # push counts as working this long after the last hint
FALLBACK = 20.0  # while it works, a poller looks on its own at most this far apart


class PushHints:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._waiting: dict[str, set[asyncio.Event]] = {}
        self._early: OrderedDict[str, float] = OrderedDict()
        self._last: float | None = None
        self.received = 0
        # Others that act on hints (the takeover desk: raia's ``manual`` webhook), with every id.
        self.listeners: list[Callable[[list[str]], None]] = []

    @property
    def healthy(self) -> bool:
        return self._last is not None and self._clock() - self._last < HEALTHY_FOR

    def hint(self, ids: Iterable[str]) -> int:
        """A push arrived naming these ids; returns how many waiting pollers it woke."""
        now = self._clock()
        self._last = now
        self.received += 1
        woken = 0
        ids = list(ids)
        for listener in self.listeners:
            listener(ids)
        for ident in ids:
            events = self._waiting.get(ident)
            if events:
                for event in events:
                    event.set()
                woken += len(events)
            else:
                self._early[ident] = now
                self._early.move_to_end(ident)
        while self._early and (len(self._early) > KEEP_AT_MOST or next(iter(self._early.values())) < now - KEEP):
            self._early.popitem(last=False)
        return woken

    async def wait(self, ids: Iterable[str], seconds: float, sleep: Callable[[float], Awaitable[None]]) -> bool:
        """Sleep up to ``seconds`` (through ``sleep``, which may raise to stop); True if a
        hint for one of ``ids`` ended the wait early (or had already arrived)."""
        keys = [i for i in ids if i]
        if any(self._early.pop(key, None) is not None for key in keys):
            return True
        event = asyncio.Event()
        for key in keys:
            self._waiting.setdefault(key, set()).add(event)
        try:
            napping = asyncio.ensure_future(sleep(seconds))
            hinted = asyncio.ensure_future(event.wait())
            try:
                done, _ = await asyncio.wait({napping, hinted}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (napping, hinted):
                    if not task.done():
                        task.cancel()
                await asyncio.gather(napping, hinted, return_exceptions=True)
            if napping in done and not hinted.done():
                napping.result()  # re-raise ShuttingDown from the service's sleep
            return event.is_set()
        finally:
            for key in keys:
                waiting = self._waiting.get(key)
                if waiting is not None:
                    waiting.discard(event)
                    if not waiting:
                        del self._waiting[key]
