"""The Telegram topics /new opened, kept until their first question names them (store.topics),
on both engines."""

from __future__ import annotations

from store.topics import UNNAMED_KEPT
from tests.store.stores import Clock, open_store


async def test_an_unnamed_topic_is_taken_once_per_bot_and_forgotten_after_a_month(database: str) -> None:
    clock = Clock()
    async with open_store(database, clock) as store:
        await store.keep_unnamed_topic("telegram", "42", "100")
        await store.keep_unnamed_topic("telegram/sales", "42", "100")  # another bot's chat with the same person
        assert await store.take_unnamed_topic("telegram", "42", "100")
        assert not await store.take_unnamed_topic("telegram", "42", "100")  # named once
        assert not await store.take_unnamed_topic("telegram", "42", "200")  # never opened by /new
        await store.keep_unnamed_topic("telegram", "42", "300")
        clock.now += UNNAMED_KEPT + 1
        await store.keep_unnamed_topic("telegram", "42", "400")  # the month-old ones go
        assert not await store.take_unnamed_topic("telegram/sales", "42", "100")
        assert not await store.take_unnamed_topic("telegram", "42", "300")
        assert await store.take_unnamed_topic("telegram", "42", "400")
