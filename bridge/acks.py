"""Acknowledgements first.

A platform resends a webhook it does not see acknowledged in time (Slack after 3 s), and
a burst of a thousand posts shares one event loop with the lanes that answer them: each
lane starting a question creates raia users and conversations, sends, and reads the
store, and in a burst those starts outnumber the acknowledgements. So a lane about to
start holds back while an acknowledgement is overdue (a webhook request in flight for
longer than ``late``), or while a burst is arriving (more than ``CROWD`` requests in flight
at once, or ``CROWD`` arrived within ``BURST`` seconds), at most ``hold`` seconds. In
flight alone misses most of a burst: the server answers each request quickly, so few are
in flight at a time while the rest still wait to be read (at 2,000 same-instant Slack
DMs, lanes let in that way spent a third of the first seconds' CPU on their status and
raia calls). Once calm, the waiting lanes go a few per turn of the event loop, so a
webhook arriving meanwhile is read between them and, late again, holds the rest back.
The questions are stored before they are acknowledged, so holding back
delays an answer by a moment and loses nothing; the CPU spent is the same, only its
order changes.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import time
from collections.abc import Callable, Iterator

LATE = 0.1  # a webhook request in flight this long (seconds) is an acknowledgement overdue
HOLD = 2.0  # the longest a lane holds back: a steady overload still gets its answers
STALE = 3.0  # a request older than this is the client's slowness (a crawling body), not ours
# More webhook requests in flight than this is a burst arriving (more than one group commit's
# worth; Telegram opens at most 40 connections to a webhook): lanes let it be acknowledged first.
CROWD = 64
BURST = 0.25  # seconds: CROWD arrivals within this (over 250 a second) are a burst arriving
TRICKLE = 16  # lanes let go per turn of the event loop once calm (webhooks read in between)


class AckFirst:
    """Webhook requests in flight (``receiving``), and lanes waiting for them (``calm``)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, late: float = LATE, hold: float = HOLD) -> None:
        self._clock = clock
        self._late, self._hold = late, hold
        self._tokens = itertools.count()
        self._started: dict[int, float] = {}  # in order of arrival: the oldest first
        self._arrivals: collections.deque[float] = collections.deque(maxlen=CROWD)  # the latest
        self._waiting: collections.deque[asyncio.Future[None]] = collections.deque()  # lanes, oldest first
        self._recheck: asyncio.TimerHandle | None = None
        self._releasing = False

    @property
    def holding(self) -> int:
        """Lanes held back right now."""
        return sum(not waiter.done() for waiter in self._waiting)

    @contextlib.contextmanager
    def receiving(self) -> Iterator[None]:
        """Around one webhook request, from its arrival to its acknowledgement."""
        token = next(self._tokens)
        self._started[token] = now = self._clock()
        self._arrivals.append(now)
        try:
            yield
        finally:
            del self._started[token]
            if self._waiting:
                self._settle()

    def overdue(self) -> bool:
        if len(self._started) > CROWD:
            return True
        now = self._clock()
        if len(self._arrivals) == CROWD and now - self._arrivals[0] < BURST:
            return True
        for started in self._started.values():
            age = now - started
            if age <= STALE:  # the oldest that still matters decides
                return age > self._late
        return False

    def _receiving(self) -> bool:
        """A webhook request in flight that is ours to answer (not one crawling in for seconds)."""
        now = self._clock()
        return any(now - started <= STALE for started in self._started.values())

    async def calm(self, stopping: asyncio.Event | None = None, *, again: bool = False) -> None:
        """Return once no acknowledgement is overdue (after the lanes that were waiting
        already), or after ``hold`` seconds, or at once when ``stopping`` is set (``wake``
        lets those already waiting go). ``again``: a lane let go already, about to start a
        question's life (its typing call, its store writes, the agent's send), looks once
        more; held, it goes first, having waited its turn before."""
        if stopping is not None and stopping.is_set():
            return
        if again:
            if not self.overdue():
                return
        elif not self._waiting and not self.overdue():
            return
        waiter = asyncio.get_running_loop().create_future()
        if again:
            self._waiting.appendleft(waiter)
        else:
            self._waiting.append(waiter)
        self._settle()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter, self._hold)

    def _settle(self) -> None:
        """Let waiting lanes go if calm, or look again when the burst's arrivals leave the
        window (with no request in flight, no acknowledgement would look)."""
        if not self.overdue():
            if not self._releasing:
                self._releasing = True
                self._release()
        elif not self._started and self._recheck is None and self._arrivals:
            wait = max(0.0, self._arrivals[0] + BURST - self._clock())
            self._recheck = asyncio.get_running_loop().call_later(wait + 0.001, self._rechecked)

    def _release(self) -> None:
        """``TRICKLE`` waiting lanes go, the next ones at the loop's next turn, while still
        calm: released all at once, two thousand lanes' first steps would run before a
        webhook that arrives meanwhile is read at all."""
        self._releasing = False
        if self.overdue():
            self._settle()
            return
        if self._receiving():
            # Between two webhook requests, not during one: a request of a burst's tail read
            # now is not late yet, and the lanes let go meanwhile would do their first store
            # trips and calls before its commit (known people's questions start at once). Its
            # end looks again (``receiving``); ``hold`` bounds a steady stream.
            return
        released = 0
        while self._waiting and released < TRICKLE:
            waiter = self._waiting.popleft()
            if not waiter.done():  # else it gave up holding (``hold``)
                waiter.set_result(None)
                released += 1
        if self._waiting:
            self._releasing = True
            asyncio.get_running_loop().call_soon(self._release)

    def _rechecked(self) -> None:
        self._recheck = None
        if self._waiting:
            self._settle()

    def wake(self) -> None:
        """Let every waiting lane go now (the service is stopping)."""
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
