"""The bot's message budget (adapters.telegram.pace.Budget): groups of at most ``per``
messages, windows at least ``window`` apart, first come first served, a message given up
while it waited takes no place."""

from __future__ import annotations

import asyncio

from adapters.telegram.pace import Budget

WINDOW = 0.05


async def _started(budget: Budget, count: int) -> list[tuple[float, int]]:
    """``count`` messages asking at once: when each started, in the order they started."""
    loop = asyncio.get_running_loop()
    started: list[tuple[float, int]] = []

    async def send(number: int) -> None:
        async with budget:
            started.append((loop.time(), number))

    await asyncio.gather(*(send(number) for number in range(count)))
    return started


async def test_messages_go_in_groups_of_at_most_per_each_window_in_the_order_they_asked() -> None:
    started = await _started(Budget(3, WINDOW), 11)
    assert [number for _, number in started] == list(range(11))
    times = [at for at, _ in started]
    # Any four consecutive starts span at least a window: never four in one.
    assert all(times[i + 3] - times[i] >= WINDOW - 0.002 for i in range(len(times) - 3))


async def test_a_message_given_up_while_waiting_takes_no_place() -> None:
    budget = Budget(2, WINDOW)
    started: list[str] = []

    async def send(name: str) -> None:
        async with budget:
            started.append(name)

    await asyncio.gather(send("a"), send("b"))  # the first window's two places
    gone, first, second = (asyncio.create_task(send(name)) for name in ("gone", "first", "second"))
    await asyncio.sleep(0)  # all three wait for the next window
    gone.cancel()
    await first
    await asyncio.sleep(0)
    # "second" went in the same window as "first": the place "gone" gave up was not spent.
    assert second.done()
    assert started == ["a", "b", "first", "second"]
    assert gone.cancelled()
