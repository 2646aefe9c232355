"""Concurrent chats through the real webhook endpoints: Telegram and Slack.

    python bench/platforms.py [--users 300] [--delay 2]

The bridge serves HTTP on loopback with the Telegram webhook or Slack HTTP mode, the
raia simulator runs in its own process, and the fake Bot API / Slack Web API from the
test suite run in this process (so their CPU counts against the bridge: a pessimistic
setting). Reports how long the webhook took to answer each update and how long until
every person had their answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import pct, simulator  # noqa: E402
from bridge.app.cli import run_async  # noqa: E402
from bridge.app.logs import configure_logging  # noqa: E402
from bridge.app.platforms import configured_platforms  # noqa: E402
from bridge.app.server import build_app  # noqa: E402
from bridge.app.settings import Settings  # noqa: E402
from tests.fakes import slack, telegram  # noqa: E402
from tests.fakes.server import serving  # noqa: E402


async def drive(http: httpx.AsyncClient, requests: list[tuple[bytes, dict[str, str]]], path: str) -> list[float]:
    async def one(body: bytes, headers: dict[str, str]) -> float:
        start = time.perf_counter()
        response = await http.post(path, content=body, headers=headers)
        response.raise_for_status()
        return time.perf_counter() - start

    return list(await asyncio.gather(*(one(b, h) for b, h in requests)))


async def wait_for(count: Any, target: int, timeout: float) -> float:
    start = time.perf_counter()
    async with asyncio.timeout(timeout):
        while count() < target:
            await asyncio.sleep(0.02)
    return time.perf_counter() - start


def summary(name: str, users: int, acks: list[float], wall: float, answered: int) -> dict[str, Any]:
    return {
        "platform": name,
        "concurrent_chats": users,
        "answered": answered,
        "webhook_ack_p50_ms": round(1000 * pct(acks, 50), 1),
        "webhook_ack_p99_ms": round(1000 * pct(acks, 99), 1),
        "all_answered_after_s": round(wall, 2),
    }


async def telegram_run(raia: str, users: int, delay: float) -> dict[str, Any]:
    fake = telegram.FakeTelegram()
    with tempfile.TemporaryDirectory() as tmp:
        async with serving(fake.app()) as api:
            settings = Settings(_env_file=None, raia_api_key="bench", raia_base_url=raia,
                                telegram_bot_token=telegram.TOKEN, telegram_api_url=f"{api}/bot",
                                public_url="https://bench.example", telegram_webhook_secret="bench-secret",
                                database_url=f"sqlite:///{tmp}/b.db")  # fmt: skip
            app = build_app(settings, configured_platforms(settings))
            async with (
                serving(app) as base,
                httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=1000)) as http,
            ):
                headers = {"X-Telegram-Bot-Api-Secret-Token": "bench-secret", "Content-Type": "application/json"}
                updates = [
                    json.dumps(
                        telegram.message(f"question {i} delay={delay}", sender=telegram.user(10_000 + i))
                    ).encode()
                    for i in range(users)
                ]
                start = time.perf_counter()
                acks = await drive(http, [(u, headers) for u in updates], "/telegram/webhook")
                await wait_for(lambda: len(fake.sent), users, 120)
                wall = time.perf_counter() - start
    return summary("telegram (webhook)", users, acks, wall, len(fake.sent))


async def slack_run(raia: str, users: int, delay: float) -> dict[str, Any]:
    fake = slack.FakeSlack()
    with tempfile.TemporaryDirectory() as tmp:
        async with serving(fake.app()) as api:
            settings = Settings(_env_file=None, raia_api_key="bench", raia_base_url=raia,
                                slack_bot_token=slack.BOT_TOKEN, slack_signing_secret=slack.SIGNING_SECRET,
                                slack_api_url=f"{api}/api/", database_url=f"sqlite:///{tmp}/b.db")  # fmt: skip
            app = build_app(settings, configured_platforms(settings))
            async with (
                serving(app) as base,
                httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=1000)) as http,
            ):
                bodies = []
                for i in range(users):
                    event = slack.dm(f"question {i} delay={delay}", user=f"U{100_000 + i}")
                    event["channel"] = f"D{100_000 + i}"
                    body = json.dumps(slack.envelope(event)).encode()
                    bodies.append((body, slack.signed(body)))
                start = time.perf_counter()
                acks = await drive(http, bodies, "/slack/events")
                await wait_for(lambda: len(fake.posts), users, 120)
                wall = time.perf_counter() - start
    return summary("slack (events api)", users, acks, wall, len(fake.posts))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--delay", type=float, default=2.0)
    args = parser.parse_args()
    configure_logging("WARNING")
    with simulator() as raia:
        results = [await telegram_run(raia, args.users, args.delay), await slack_run(raia, args.users, args.delay)]
    print(json.dumps({"answer_delay_s": args.delay, "results": results}, indent=2))


if __name__ == "__main__":
    run_async(main())
