"""One Telegram chat's message budget (~1 message a second in a private chat, 20 a minute
in a group, edits included), shared by answers and a vote's own messages: answers first."""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType

from aiolimiter import AsyncLimiter


class ChatPace:
    """``async with pace:`` queues an answer's message for the chat's budget; ``spare()``
    lets a vote's message (its buttons redrawn, the comment prompt) have it only when it
    is free and no answer is waiting: a storm of presses never holds up an answer."""

    def __init__(self, private: bool) -> None:
        self._limiter = AsyncLimiter(1, 1) if private else AsyncLimiter(20, 60)
        self._every = 1.0 if private else 3.0  # how soon the budget has room again
        self._waiting = 0  # answers queued for the budget

    async def __aenter__(self) -> None:
        self._waiting += 1
        try:
            await self._limiter.acquire()
        finally:
            self._waiting -= 1

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def spare(self, within: float) -> bool:
        """Take the budget for a vote's message once it is free and no answer waits for it,
        looking again every ``_every`` seconds for up to ``within`` seconds; False if it
        never was (the message is better left out than sent ahead of an answer)."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + within
        while self._waiting or not self._limiter.has_capacity():
            left = give_up - loop.time()
            if left <= 0:
                return False
            await asyncio.sleep(min(self._every, left))
        await self._limiter.acquire()  # free: at once
        return True


class Budget:
    """The bot's own budget (~30 messages a second), given out in groups: up to ``per``
    messages each ``window`` seconds, in the order they asked.

    A leaky bucket under load lets one message go every 33 ms, each woken on its own; in
    groups the sends of a window go out together, and their responses and store trips are
    handled together, as in a burst (bench/replicas.py). Never more than ``per`` messages
    start within one window, and windows open at least ``window`` seconds apart."""

    def __init__(self, per: int, window: float) -> None:
        self._per = per
        self._window = window
        self._opened = float("-inf")  # when the current window opened (the event loop's time)
        self._used = 0  # messages started in it
        self._queue: deque[asyncio.Future[None]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    async def __aenter__(self) -> None:
        loop = asyncio.get_running_loop()
        if not self._queue:  # else the timer opens the next window for those ahead first
            if loop.time() >= self._opened + self._window:
                self._opened, self._used = loop.time(), 0
            if self._used < self._per:
                self._used += 1
                return
        waiter = loop.create_future()
        self._queue.append(waiter)
        if self._timer is None:
            self._timer = loop.call_at(self._opened + self._window, self._release, loop)
        await waiter  # cancelled while waiting: _release skips it; once given, its place is spent

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def _release(self, loop: asyncio.AbstractEventLoop) -> None:
        """The next window: those waiting longest go, up to ``per``."""
        # Never before the window's end, even if the timer fires a little early.
        self._opened, self._used, self._timer = max(loop.time(), self._opened + self._window), 0, None
        while self._queue and self._used < self._per:
            waiter = self._queue.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self._used += 1
        if self._queue:
            self._timer = loop.call_at(self._opened + self._window, self._release, loop)
