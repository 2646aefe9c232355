"""A takeover with raia push (RAIA_PUSH): the bridge registers a ``manual`` webhook beside
``each_message``, and raia's calls to it bring the takeover and each staff message to the
chat at once, long before the listing of recently updated conversations would."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from adapters.raia.simulator import RaiaSimulator
from tests.conftest import API_KEY
from tests.fakes import slack
from tests.scenarios.test_push import bridge
from tests.scenarios.test_slack import Bridge


async def _until(check: Callable[[], object], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


async def test_manual_webhook_brings_the_takeover_within_two_seconds(tmp_path: Path) -> None:
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 0.05)
    fake = slack.FakeSlack()
    # HANDOFF_SCAN stays at its 30 s: only the push can be this quick.
    async with bridge(sim, fake, tmp_path, handoff=True) as (base, _settings):
        await _until(lambda: len(sim.webhooks) == 2)
        assert sorted(h["triggerCondition"] for h in sim.webhooks) == ["each_message", "manual"]
        async with httpx.AsyncClient(base_url=base) as http:
            await Bridge(http).event(slack.dm("What does it cost?"))
            await fake.wait_posts(1)
            (cid,) = sim.conversations
            taken = time.time()
            sim.takeover.take(cid, staff="Dana")
            await fake.wait_posts(2, timeout=5)
            written = time.time()
            sim.takeover.write(cid, "Dana here: it is free for students.")
            await fake.wait_posts(3, timeout=5)
    notice, staff = fake.posts[1:]
    assert notice.text == "Dana from the support team will answer you here."
    assert staff.text == "Dana here: it is free for students."
    assert notice.at - taken < 2.5
    assert staff.at - written < 2.0
    assert sim.count("POST", "/agents/webhooks") == 2
