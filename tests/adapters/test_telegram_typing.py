"""Telegram's "typing…" stays within its own budget however many people wait."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from pydantic import SecretStr

from adapters.base import Allowlist
from adapters.telegram.config import TelegramConfig
from adapters.telegram.outbound import TYPING_BUDGET
from adapters.telegram.platform import TelegramPlatform
from bridge.models import Origin
from tests.fakes import telegram as tg
from tests.fakes.server import serving


async def test_a_hundred_waiting_chats_stay_within_the_typing_budget() -> None:
    """100 chats waiting for 2.5 s: every chat would refresh; the bot sends at most its
    budget per second (plus one second's burst) and never queues the rest."""
    fake = tg.FakeTelegram()
    async with serving(fake.app()) as api:
        config = TelegramConfig(SecretStr(tg.TOKEN), f"{api}/bot", None, None, Allowlist())
        platform = TelegramPlatform(config)
        await platform.app.initialize()
        try:
            async with AsyncExitStack() as stack:
                for chat in range(100):
                    await stack.enter_async_context(platform.outbound.working(Origin(chat=str(1000 + chat))))
                await asyncio.sleep(2.5)
        finally:
            await platform.app.shutdown()
    sent = len(fake.actions)
    assert TYPING_BUDGET <= sent <= TYPING_BUDGET * 3.5, sent
    assert len({chat for chat, _ in fake.actions}) == sent  # no chat twice within 4.5 s
