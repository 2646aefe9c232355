"""Push hints wake the poller waiting on the named ids, even when they come first."""

from __future__ import annotations

import asyncio

from bridge.push import HEALTHY_FOR, PushHints
from tests.waiting import until


async def test_a_hint_wakes_its_waiter_and_only_it() -> None:
    hints = PushHints()
    assert not hints.healthy
    waiter = asyncio.create_task(hints.wait(["conv-1", "msg-1"], 5.0, asyncio.sleep))
    other = asyncio.create_task(hints.wait(["conv-2"], 0.2, asyncio.sleep))
    await until(lambda: "conv-1" in hints._waiting and "conv-2" in hints._waiting)  # both waiting
    assert hints.hint(["conv-1", "unknown"]) == 1
    assert await asyncio.wait_for(waiter, 1) is True
    assert await other is False  # slept its time out
    assert hints.healthy


async def test_a_hint_before_the_wait_is_not_lost() -> None:
    """A fast answer's push can arrive before its poller waits: it polls at once."""
    hints = PushHints()
    hints.hint(["msg-9"])
    assert await asyncio.wait_for(hints.wait(["conv-9", "msg-9"], 30.0, asyncio.sleep), 1) is True
    assert await hints.wait(["msg-9"], 0.01, asyncio.sleep) is False  # used up


async def test_push_counts_as_working_only_while_hints_arrive() -> None:
    now = [0.0]
    hints = PushHints(clock=lambda: now[0])
    hints.hint(["x"])
    assert hints.healthy
    now[0] += HEALTHY_FOR + 1
    assert not hints.healthy
