"""CPU per turn with one agent and one bot, and with ROUTES_FILE's 10 agents x 3 bots.

    python bench/routes.py [--turns 600] [--delay 0.5]

Both runs serve the same questions through the real Telegram webhook endpoints on
loopback: first the single-agent deployment (one bot, no routes file), then a routes
file with 10 raia agents, 3 Telegram bots and 30 routes (10 groups per bot, each routed
to an agent), questions arriving at 20 a second in the same 30 groups. HANDOFF is off in
both (see ``run``). The raia simulator runs in its own process (every agent's key is accepted
there); the fake Bot APIs run in this process, so their CPU counts against the bridge in
both runs alike. Prints the bridge process's CPU seconds per turn for each and their
ratio (the target: routed within 10 % of single).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import simulator  # noqa: E402
from bridge.app.cli import run_async  # noqa: E402
from bridge.app.logs import configure_logging  # noqa: E402
from bridge.app.platforms import configured_platforms  # noqa: E402
from bridge.app.routes import Routes, load_routes  # noqa: E402
from bridge.app.server import build_app  # noqa: E402
from bridge.app.settings import Settings  # noqa: E402
from tests.fakes import telegram  # noqa: E402
from tests.fakes.server import serving  # noqa: E402

AGENTS, BOTS, GROUPS_PER_BOT = 10, 3, 10
SECRET = "bench-secret"
RATE = 20.0  # questions a second


def question(i: int, delay: float, chat: int) -> bytes:
    text = f"@{telegram.BOT_USERNAME} question {i} delay={delay}"
    sender = telegram.user(10_000 + i)
    update = telegram.message(
        text, sender=sender, chat_id=chat, chat_type="supergroup", entities=telegram.mention(text)
    )
    return json.dumps(update).encode()


def routes_file(tmp: Path, raia: str) -> tuple[Path, dict[str, str]]:
    lines, env = [], {}
    for a in range(AGENTS):
        lines += [f"[agents.a{a}]", 'backend = "raia"', f'key_env = "KEY_{a}"', f'base_url = "{raia}"', ""]
        env[f"KEY_{a}"] = f"bench-key-{a}"
    for b in range(BOTS):
        lines += [f"[telegram.bot{b}]", f'token_env = "TOKEN_{b}"', f'secret_env = "SECRET_{b}"', f'agent = "a{b}"', ""]
        env[f"TOKEN_{b}"], env[f"SECRET_{b}"] = f"{1001 + b}:bench-token", SECRET
    for b in range(BOTS):
        for g in range(GROUPS_PER_BOT):
            lines += ["[[route]]", f'telegram = "bot{b}"', f"chat = {group(b, g)}", f'agent = "a{g % AGENTS}"', ""]
    path = tmp / "routes.toml"
    path.write_text("\n".join(lines))
    return path, env


def group(bot: int, index: int) -> int:
    return -1_000_000 - bot * 100 - index


async def run(raia: str, turns: int, delay: float, routed: bool, warm: int = 0) -> dict[str, Any]:
    fakes = [telegram.FakeTelegram(token=f"{1001 + b}:bench-token") for b in range(BOTS if routed else 1)]
    with tempfile.TemporaryDirectory() as tmp:
        apis = [serving(fake.app()) for fake in fakes]
        bases = [await api.__aenter__() for api in apis]
        try:
            # HANDOFF off: every agent here is the one simulator, whose listing of recently
            # updated conversations holds all ten agents' (each real agent lists its own).
            common: dict[str, Any] = {
                "public_url": "https://bench.example",
                "database_url": f"sqlite:///{tmp}/b.db",
                "handoff": False,
            }
            routes: Routes | None = None
            if routed:
                path, env = routes_file(Path(tmp), raia)
                settings = Settings(_env_file=None, routes_file=path, raia_poll_interval=0.2, **common)
                routes = load_routes(settings, environ=env)
                at = {f"bot{b}": f"{bases[b]}/bot" for b in range(BOTS)}
                bots = tuple(
                    replace(bot, settings=bot.settings.model_copy(update={"telegram_api_url": at[bot.name]}))
                    for bot in routes.bots
                )
                routes = replace(routes, bots=bots)
            else:
                settings = Settings(_env_file=None, raia_api_key="bench", raia_base_url=raia,
                                    telegram_bot_token=fakes[0].token, telegram_api_url=f"{bases[0]}/bot",
                                    telegram_webhook_secret=SECRET, raia_poll_interval=0.2, **common)  # fmt: skip
            app = build_app(settings, configured_platforms(settings, routes), routed=routes)
            limits = httpx.Limits(max_connections=20)
            async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
                headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}

                def batch(first: int, count: int) -> list[tuple[str, bytes]]:
                    work = []
                    for i in range(first, first + count):
                        # The same 30 groups in both runs (a group takes 20 answers a minute).
                        bot = i % BOTS
                        url = f"/telegram/bot{bot}/webhook" if routed else "/telegram/webhook"
                        work.append((url, question(i, delay, group(bot, (i // BOTS) % GROUPS_PER_BOT))))
                    return work

                async def one(index: int, path: str, body: bytes) -> None:
                    # Questions arrive at RATE a second: under one bot's 30 answers a second,
                    # so both runs answer at the pace they are asked and do the same work.
                    await asyncio.sleep(index / RATE)
                    (await http.post(path, content=body, headers=headers)).raise_for_status()

                async def ask(work: list[tuple[str, bytes]], answered: int) -> None:
                    await asyncio.gather(*(one(i, p, b) for i, (p, b) in enumerate(work)))
                    async with asyncio.timeout(300):
                        while sum(len(f.sent) for f in fakes) < answered:
                            await asyncio.sleep(0.05)

                # Unmeasured first: each agent learns its answer times (the poll schedule aims
                # at them after 20 answers; a restarted bridge reads them back from its database).
                await ask(batch(0, warm), warm)
                cpu, wall = time.process_time(), time.perf_counter()
                await ask(batch(warm, turns), warm + turns)
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        finally:
            for api in apis:
                await api.__aexit__(None, None, None)
    return {
        "deployment": f"{AGENTS} agents x {BOTS} bots, {BOTS * GROUPS_PER_BOT} routes" if routed else "1 agent, 1 bot",
        "turns": turns,
        "cpu_ms_per_turn": round(1000 * cpu / turns, 3),
        "wall_s": round(wall, 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=600)
    parser.add_argument("--delay", type=float, default=0.5)
    parser.add_argument("--rounds", type=int, default=2, help="each deployment this often, alternating")
    parser.add_argument("--warm", type=int, default=300, help="questions answered before measuring")
    args = parser.parse_args()
    configure_logging("WARNING")
    results: list[dict[str, Any]] = []
    with simulator() as raia:
        await run(raia, 60, args.delay, routed=True)  # warm-up: imports, first connections
        for _ in range(args.rounds):  # alternating, so a busier minute of the machine hits both
            results.append(await run(raia, args.turns, args.delay, routed=False, warm=args.warm))
            results.append(await run(raia, args.turns, args.delay, routed=True, warm=args.warm))
    single = statistics.median(r["cpu_ms_per_turn"] for r in results[0::2])
    routed = statistics.median(r["cpu_ms_per_turn"] for r in results[1::2])
    summary = {
        "answer_delay_s": args.delay,
        "questions_per_s": RATE,
        "results": results,
        "cpu_ms_per_turn_single": single,
        "cpu_ms_per_turn_routed": routed,
        "routed_over_single": round(routed / single, 3),
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    run_async(main())
