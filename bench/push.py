"""raia push on and off, side by side: how late answers are and how many ``response-on``
calls they cost.

    python bench/push.py            # 60 questions, answer delays spread over 1-30 s (about 75 s)
    python bench/push.py --quick    # 20 questions, 1-10 s

The raia simulator (served on loopback, so it can call the bridge's webhook back), a fake
Slack and the bridge (default settings; PUBLIC_URL on loopback) run in this process. Each
mode first answers one warm-up question (with push, its hint shows push works), then N
people ask at once. Overshoot = when the answer was posted to Slack - when raia had it.
Target with push: overshoot <= 0.3 s and <= 3 response-on calls per answer, whatever the delay.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.raia.simulator import RaiaSimulator  # noqa: E402
from bridge.app.cli import run_async  # noqa: E402
from bridge.app.logs import configure_logging  # noqa: E402
from bridge.app.platforms import configured_platforms  # noqa: E402
from bridge.app.server import build_app  # noqa: E402
from bridge.app.settings import Settings  # noqa: E402
from tests.fakes import slack  # noqa: E402
from tests.fakes.server import bound, serving  # noqa: E402

KEY = "bench-key-0123456789"


async def one_mode(push: bool, people: int, longest: float) -> tuple[list[float], list[int], list[float]]:
    rng = random.Random(7)
    delays = {f"q{i}": rng.uniform(1.0, longest) for i in range(people)}
    sim = RaiaSimulator(api_key=KEY, delay=lambda text: delays.get(text, 1.0))
    fake = slack.FakeSlack()
    sock = bound()
    public = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with tempfile.TemporaryDirectory() as work:
        async with serving(sim) as raia, serving(fake.app()) as api:
            settings = Settings(
                _env_file=None, raia_api_key=KEY, raia_base_url=raia, raia_push=push, public_url=public,
                slack_bot_token=slack.BOT_TOKEN, slack_signing_secret=slack.SIGNING_SECRET,
                slack_api_url=f"{api}/api/", database_url=f"sqlite:///{work}/b.db",
            )  # fmt: skip
            app = build_app(settings, configured_platforms(settings))
            async with serving(app, sock=sock) as base, httpx.AsyncClient(base_url=base, timeout=30) as http:

                async def ask(text: str, user: str) -> None:
                    event = slack.dm(text, user=user)
                    event["channel"] = f"D{user}"
                    raw = json.dumps(slack.envelope(event)).encode()
                    await http.post("/slack/events", content=raw, headers=slack.signed(raw))

                await ask("warm-up", "U0")
                await fake.wait_posts(1, timeout=30)
                await asyncio.gather(*(ask(f"q{i}", f"U{i + 1}") for i in range(people)))
                await fake.wait_posts(people + 1, timeout=longest + 60)
    late, polls, waited = [], [], []
    by_text = {q["text"]: q for q in sim.questions.values()}
    for i in range(people):
        question = by_text[f"q{i}"]
        post = next(p for p in fake.posts if p.channel == f"DU{i + 1}")
        late.append(post.at - question["ready_at"])
        polls.append(question.get("polls", 0))
        waited.append(delays[f"q{i}"])
    return late, polls, waited


async def run(people: int, longest: float) -> None:
    print(f"{people} questions at once, answer delays 1-{longest:g} s, default settings")
    print(f"{'mode':10} {'overshoot mean':>15} {'p99':>7} {'max':>7} {'polls/answer':>13} {'max polls':>10}")
    for push in (False, True):
        late, polls, _ = await one_mode(push, people, longest)
        late.sort()
        p99 = late[max(0, int(len(late) * 0.99) - 1)]
        print(
            f"{'push' if push else 'polling':10} {statistics.mean(late):>14.2f}s {p99:>6.2f}s {max(late):>6.2f}s "
            f"{statistics.mean(polls):>13.1f} {max(polls):>10}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    configure_logging("WARNING", [])
    run_async(run(20, 10.0) if args.quick else run(60, 30.0))


if __name__ == "__main__":
    main()
