"""Streamed answers: how soon the first words show in the chat, and what it costs in
platform calls.

    python bench/streaming.py            # 20 people at once per platform, 60-word answers
    python bench/streaming.py --quick

A bridge (slug backend, default settings) serves Telegram and Slack webhooks; the slug
simulator streams each answer a word every 50 ms after 0.5 s of thinking. For each
answer: the time from the simulator's first chunk to the first text visible in the chat
(a Telegram draft, or the Slack message), and the platform calls it took (drafts, sends,
edits, updates). Target: first text within 1.5 s at defaults.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.slug.simulator import SlugSimulator  # noqa: E402
from bridge.app.cli import run_async  # noqa: E402
from bridge.app.logs import configure_logging  # noqa: E402
from bridge.app.platforms import configured_platforms  # noqa: E402
from bridge.app.server import build_app  # noqa: E402
from bridge.app.settings import Settings  # noqa: E402
from tests.fakes import slack  # noqa: E402
from tests.fakes import telegram as tg  # noqa: E402
from tests.fakes.server import serving  # noqa: E402

SECRET = "bench-secret"


def answer(question: str) -> str:
    return f"**Answer** to {question}: " + " ".join(f"word{i}" for i in range(60))


async def run(people: int) -> None:
    sim = SlugSimulator(delay=lambda _: 0.5, chunk_every=0.05, answer=answer)
    fake_tg, fake_slack = tg.FakeTelegram(), slack.FakeSlack()
    seen_tg: dict[int, float] = {}
    seen_slack: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as work:
        async with serving(sim.app()) as slug_base, serving(fake_tg.app()) as tg_api, serving(fake_slack.app()) as sl:
            settings = Settings(
                _env_file=None, agent_backend="slug", slug_api_key=sim.api_key, slug_agent="support-agent",
                slug_api_url=f"{slug_base}/v1/api", database_url=f"sqlite:///{work}/b.db",
                telegram_bot_token=tg.TOKEN, telegram_api_url=f"{tg_api}/bot", public_url="https://b.example.com",
                telegram_webhook_secret=SECRET, slack_bot_token=slack.BOT_TOKEN,
                slack_signing_secret=slack.SIGNING_SECRET, slack_api_url=f"{sl}/api/",
            )  # fmt: skip
            app = build_app(settings, configured_platforms(settings))
            async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as http:
                watcher = asyncio.create_task(_watch(fake_tg, fake_slack, seen_tg, seen_slack))
                posts = []
                for i in range(people):
                    update = tg.message(f"t{i}", sender=tg.user(1000 + i, f"T{i}"))
                    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
                    posts.append(http.post("/telegram/webhook", json=update, headers=headers))
                    event = slack.dm(f"s{i}", user=f"U{5000 + i}")
                    event["channel"] = f"D{5000 + i}"
                    raw = json.dumps(slack.envelope(event)).encode()
                    posts.append(http.post("/slack/events", content=raw, headers=slack.signed(raw)))
                await asyncio.gather(*posts)
                async with asyncio.timeout(120):
                    while len(fake_tg.sent) < people or _slack_done(fake_slack) < people:
                        await asyncio.sleep(0.05)
                watcher.cancel()
    first = sorted(sim.first_chunk_at.values())  # one per conversation, both platforms
    spread = (max(first) - min(first)) if first else 0.0
    tg_first = [t - sim.first_chunk_at[c] for c, t in _by_conversation(sim, seen_tg, "t").items()]
    sl_first = [t - sim.first_chunk_at[c] for c, t in _by_conversation(sim, seen_slack, "s").items()]
    tg_calls = (len(fake_tg.drafts) + len(fake_tg.sent) + len(fake_tg.edits)) / people
    sl_calls = (len([c for c in fake_slack.calls if c.startswith("chat.")])) / people
    print(f"{people} people per platform, 60-word answers streamed over ~3.5 s (first chunks spread {spread:.2f}s)")
    print(f"{'platform':10} {'first text p50':>15} {'p95':>7} {'max':>7} {'calls/answer':>13}")
    for name, values, calls in (("telegram", tg_first, tg_calls), ("slack", sl_first, sl_calls)):
        values.sort()
        p95 = values[int(len(values) * 0.95) - 1] if values else 0.0
        med = statistics.median(values) if values else 0.0
        print(f"{name:10} {med:>14.2f}s {p95:>6.2f}s {max(values, default=0):>6.2f}s {calls:>13.1f}")
    print("(first text: from the simulator's first chunk to the first draft/message the fake platform received)")


def _slack_done(fake: slack.FakeSlack) -> int:
    return sum(1 for p in fake.posts if "word59" in p.body and "*Answer*" in p.body)


async def _watch(
    fake_tg: tg.FakeTelegram, fake_slack: slack.FakeSlack, seen_tg: dict[int, float], seen_slack: dict[str, float]
) -> None:
    while True:
        now = time.time()
        for _, chat, _, _ in fake_tg.drafts:
            seen_tg.setdefault(chat, now)
        for sent in fake_tg.sent:
            seen_tg.setdefault(sent.chat_id, now)
        for post in fake_slack.posts:
            seen_slack.setdefault(post.channel, now)
        await asyncio.sleep(0.01)


def _by_conversation(sim: SlugSimulator, seen: dict[Any, float], prefix: str) -> dict[str, float]:
    """Map each chat's first visible time to its slug conversation (by the question text)."""
    out: dict[str, float] = {}
    for conversation, questions in sim.conversations.items():
        question = questions[0]
        if not question.startswith(prefix):
            continue
        i = int(question[1:])
        key: Any = 1000 + i if prefix == "t" else f"D{5000 + i}"
        if key in seen and conversation in sim.first_chunk_at:
            out[conversation] = seen[key]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    configure_logging("WARNING", [])
    run_async(run(5 if args.quick else 20))


if __name__ == "__main__":
    main()
