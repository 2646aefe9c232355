"""A storm of 429s (more in a row than a delivery has attempts, ``Retry-After`` 0 or 1):
the platform took nothing and said when to come back, so the answer is not given up as
undeliverable (it was, after 8 in a few seconds): it arrives once, when the storm ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.raia.simulator import RaiaSimulator
from bridge.backoff import RATE_LIMITED, RATE_LIMITED_FOR, RateLimits
from bridge.config import ServiceConfig
from tests import waiting
from tests.fakes import slack
from tests.fakes import telegram as tg
from tests.scenarios.test_slack import running as slack_bridge
from tests.scenarios.test_telegram import running as telegram_bridge

STORM = ServiceConfig.__dataclass_fields__["delivery_attempts"].default + 1  # type: ignore[operator]


async def test_slack_answer_outlives_more_429s_than_attempts(sim: RaiaSimulator, tmp_path: Path) -> None:
    fake = slack.FakeSlack()
    for _ in range(STORM):
        fake.fail("chat.postMessage", "ratelimited", status=429, headers={"Retry-After": "0"})
    async with slack_bridge(sim, fake, tmp_path) as bridge:
        await bridge.event(slack.dm("busy?"))
        await fake.wait_posts(1, timeout=60)
        await bridge.idle()
        assert bridge.app is not None
        state = (await waiting.runtime_of(bridge.app).store.question(1)).state.value
    assert state == "delivered"
    assert len(fake.posts) == 1
    assert fake.calls.count("chat.postMessage") == STORM + 1


async def test_telegram_answer_outlives_more_429s_than_attempts(sim: RaiaSimulator, tmp_path: Path) -> None:
    fake = tg.FakeTelegram()
    for _ in range(STORM):
        # (Telegram says at least 1: PTB reads a 0 as no retry_after at all)
        fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", {"retry_after": 1})
    async with telegram_bridge(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.message("busy?"))
        await fake.wait_sent(1, timeout=60)
        await bridge.idle()
        state = (await waiting.runtime_of(bridge.app).store.question(1)).state.value
    assert state == "delivered"
    assert len(fake.sent) == 1


def test_rate_limits_are_waited_out_for_a_bounded_time_only() -> None:
    """Retry-After 0 is never a busy loop; a platform that never lets up gets attempts
    counted again after RATE_LIMITED_FOR; a failure that may have posted is an attempt."""
    limits = RateLimits()
    pauses: list[float] = []
    while (pause := limits.pause(0.0, maybe_posted=False)) is not None:
        pauses.append(pause)
    assert min(pauses) >= RATE_LIMITED.first / 2
    assert RATE_LIMITED_FOR <= sum(pauses) <= RATE_LIMITED_FOR + RATE_LIMITED.first
    assert RateLimits().pause(1.0, maybe_posted=True) is None
    assert RateLimits().pause(None, maybe_posted=False) is None


async def test_slack_retry_after_as_a_date_is_waited_out_like_seconds(
    sim: RaiaSimulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Retry-After may be an HTTP date (a proxy in front of Slack): read as such, not a
    traceback and a spent attempt each time (nor a look through the thread: nothing was posted)."""
    fake = slack.FakeSlack()
    for _ in range(STORM):
        fake.fail(
            "chat.postMessage", "ratelimited", status=429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}
        )
    async with slack_bridge(sim, fake, tmp_path) as bridge:
        await bridge.event(slack.dm("busy?"))
        await fake.wait_posts(1, timeout=60)
        await bridge.idle()
    assert len(fake.posts) == 1
    assert "conversations.replies" not in fake.calls
    assert not [r for r in caplog.records if r.exc_info]
