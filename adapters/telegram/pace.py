"""One Telegram chat's message budget (~1 message a second in a private chat, 20 a minute
in a group, edits included), shared by answers and a vote's own messages: answers first."""

from __future__ import annotations

import asyncio
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
