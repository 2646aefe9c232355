"""Telegram's long polling while the store is down (a full disk): the update is fetched
again about once a second until it is stored, and said so in one log line, not one a fetch."""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import Any

import pytest
from pydantic import SecretStr

from adapters.base import Allowlist
from adapters.telegram.config import TelegramConfig
from adapters.telegram.platform import TelegramPlatform
from bridge.errors import DiskFull
from bridge.models import InboundMessage
from bridge.ports.feedback import Ratings
from bridge.ports.inbox import Receipt, Respond
from tests import waiting
from tests.fakes import telegram as tg
from tests.fakes.server import serving


class FullInbox:
    """The core's inbox on a full disk: refuses ``refusals`` times (as the store does), then stores."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.tries = 0
        self.stored: list[InboundMessage] = []

    @property
    def accepting(self) -> bool:
        return True

    @property
    def ratings(self) -> Ratings | None:
        return None

    async def receive(self, message: InboundMessage, *, respond: Respond | None = None) -> Receipt:
        self.tries += 1
        if self.tries <= self.refusals:
            raise DiskFull("the disk under the SQLite database is full")
        self.stored.append(message)
        return Receipt.ACCEPTED

    def background(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        work.close()


async def test_an_update_refused_by_a_full_store_is_fetched_again_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Refused three times: fetched four times, stored once, and one warning says so."""
    caplog.set_level(logging.WARNING, logger="adapters.telegram.platform")
    fake = tg.FakeTelegram()
    inbox = FullInbox(refusals=3)
    async with serving(fake.app()) as api:
        platform = TelegramPlatform(TelegramConfig(SecretStr(tg.TOKEN), f"{api}/bot", None, None, Allowlist()))
        await platform.app.initialize()
        try:
            await platform.start(inbox)
            fake.push_update(tg.message("stored at last"))
            await waiting.until(lambda: bool(inbox.stored), timeout=20, what="the update stored")
        finally:
            await platform.close()
    assert inbox.tries == 4  # every retry kept
    assert [m.text for m in inbox.stored] == ["stored at last"]
    lines = [r for r in caplog.records if "could not be stored" in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert (lines[0].levelno, lines[0].exc_info) == (logging.WARNING, None)
