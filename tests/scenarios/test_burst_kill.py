"""Durable before acknowledged: kill -9 right after a burst of acknowledged webhooks."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import httpx

from adapters.raia.simulator import RaiaSimulator
from tests import waiting
from tests.conftest import API_KEY
from tests.fakes import slack
from tests.fakes import telegram as tg
from tests.fakes.server import serving
from tests.processes import free_port

SECRET = "burst-secret"
BURST = 60


async def _start(env: dict[str, str], cwd: Path, base: str) -> asyncio.subprocess.Process:
    with (cwd / "bridge.log").open("a") as log:  # for a person reading a failure
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bridge", cwd=cwd, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
    async with asyncio.timeout(30), httpx.AsyncClient(base_url=base) as http:
        while True:
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return proc
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)


async def test_every_acknowledged_webhook_is_answered_once_after_kill_9(tmp_path: Path) -> None:
    """A burst of Telegram and Slack webhooks, each acknowledged, then SIGKILL: after restart every
    question is answered exactly once."""
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 0.3)
    fake_tg, fake_slack = tg.FakeTelegram(), slack.FakeSlack()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with serving(sim) as raia, serving(fake_tg.app()) as tg_api, serving(fake_slack.app()) as slack_api:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RAIA_", "SLACK_", "TELEGRAM_"))}
        env |= {
            "RAIA_API_KEY": API_KEY, "RAIA_BASE_URL": raia, "RAIA_POLL_INTERVAL": "0.1", "RAIA_SEND_SETTLE": "2",
            "TELEGRAM_BOT_TOKEN": tg.TOKEN, "TELEGRAM_API_URL": f"{tg_api}/bot",
            "PUBLIC_URL": "https://bridge.example.com", "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "SLACK_BOT_TOKEN": slack.BOT_TOKEN, "SLACK_SIGNING_SECRET": slack.SIGNING_SECRET,
            "SLACK_API_URL": f"{slack_api}/api/",
            "HOST": "127.0.0.1", "PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}",
        }  # fmt: skip
        first = await _start(env, tmp_path, base)

        async def telegram(i: int) -> int:
            update = tg.message(f"telegram question {i}", sender=tg.user(1000 + i, f"T{i}"))
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            return (await http.post("/telegram/webhook", json=update, headers=headers)).status_code

        async def slack_dm(i: int) -> int:
            event = slack.dm(f"slack question {i}", user=f"U{9000 + i}")
            event["channel"] = f"D{9000 + i}"
            raw = json.dumps(slack.envelope(event)).encode()
            return (await http.post("/slack/events", content=raw, headers=slack.signed(raw))).status_code

        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            codes = await asyncio.gather(*(f(i) for i in range(BURST) for f in (telegram, slack_dm)))
        first.send_signal(signal.SIGKILL)  # at once: most answers are not even asked yet
        await first.wait()
        assert codes == [200] * (2 * BURST)

        second = await _start(env, tmp_path, base)
        try:
            await waiting.until(lambda: len(fake_tg.sent) >= BURST and len(fake_slack.posts) >= BURST, timeout=60)
            # Every question final in the store: a duplicate, if any, has been posted by now.
            await waiting.nothing_waiting(base, timeout=60)
        finally:
            second.send_signal(signal.SIGTERM)
            await asyncio.wait_for(second.wait(), timeout=20)
    telegram_answers = sorted(s.chat_id for s in fake_tg.sent)
    slack_answers = sorted(p.channel for p in fake_slack.posts)
    assert telegram_answers == sorted(1000 + i for i in range(BURST))
    assert slack_answers == sorted(f"D{9000 + i}" for i in range(BURST))
    assert sim.count("POST", "/messages/async") == 2 * BURST
