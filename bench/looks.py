"""What one look for an answer costs: CPU per ``response-on`` call of ``RaiaClient``, with
many questions looking every 12 s (RAIA_POLL_MAX_WAIT), through aiohttp or on the lean
connections (``adapters.raia.lean``), each look on its own or together on whole seconds
of the clock (``PollSchedule.tick``).

    python bench/looks.py                      # 1,000 questions, 30 s per way, about 3 minutes
    python bench/looks.py --questions 2000 --seconds 60 --rounds 2

raia is the simulator in a process of its own (answers after 20 minutes: every look finds
"pending"); the CPU is this process's (user + system) over the measured seconds, divided by
the looks made. The ways are interleaved, ``--rounds`` times; medians are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.raia.client import MAX_IN_FLIGHT, RaiaClient  # noqa: E402
from bench.processes import Child, free_port, stop_all  # noqa: E402
from bridge.app.cli import run_async  # noqa: E402
from bridge.app.runtime import RAIA_KEEPALIVE  # noqa: E402
from bridge.ports.agent import NewUser  # noqa: E402

EVERY = 12.0  # seconds between one question's looks
WAYS = {"aiohttp, each on its own": (False, False), "aiohttp, on ticks": (False, True),
        "lean, each on its own": (True, False), "lean, on ticks": (True, True)}  # fmt: skip


async def one_way(base: str, questions: int, seconds: float, lean: bool, ticks: bool) -> float:
    """ms of CPU per look."""
    connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT, keepalive_timeout=RAIA_KEEPALIVE)
    async with aiohttp.ClientSession(connector=connector) as session:
        raia = RaiaClient(session, base_url=base, api_key="bench", keepalive=RAIA_KEEPALIVE if lean else None)

        async def ask(i: int) -> tuple[str, str]:
            user = await raia.find_or_create_user(NewUser(f"bench:{lean}{ticks}{i}", "A", "B", {}))
            conversation = await raia.create_conversation(user, "bench", {})
            return conversation, await raia.send_message(conversation, "question")

        asked = await asyncio.gather(*(ask(i) for i in range(questions)))
        looks = 0

        async def waiting(conversation: str, message: str) -> None:
            nonlocal looks
            due = time.time() + random.random() * EVERY
            while True:
                wake = max(time.time(), float(int(due))) if ticks else due  # a whole second, a little early
                await asyncio.sleep(max(0.0, wake - time.time()))
                await raia.response_on(conversation, message)
                looks += 1
                due = time.time() + EVERY

        tasks = [asyncio.create_task(waiting(*q)) for q in asked]
        try:
            await asyncio.sleep(EVERY)  # every question looking
            looks, cpu = 0, time.process_time()
            await asyncio.sleep(seconds)
            cpu, made = time.process_time() - cpu, looks
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await raia.aclose()
    return 1000 * cpu / max(1, made)


async def run(questions: int, seconds: float, rounds: int, work: Path) -> dict[str, list[float]]:
    port = free_port()
    sim = [sys.executable, "-m", "adapters.raia.simulator", "--port", str(port), "--delay", "1200"]
    simulator = Child("raia-simulator", sim, work, f"http://127.0.0.1:{port}")
    results: dict[str, list[float]] = {way: [] for way in WAYS}
    try:
        await simulator.ready("/_simulator/questions")
        for _ in range(rounds):
            for way, (lean, ticks) in WAYS.items():
                results[way].append(await one_way(simulator.base, questions, seconds, lean, ticks))
                print(f"{way}: {results[way][-1]:.3f} ms CPU per look", flush=True)
    finally:
        stop_all([simulator])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=1000, help="questions waiting (default 1,000)")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per way (default 30)")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds (default 1)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-looks-") as tmp:
        results = run_async(run(args.questions, args.seconds, args.rounds, Path(tmp)))
    base = statistics.median(results["aiohttp, each on its own"])
    print(f"\n{args.questions:,} questions, each looking every {EVERY:g} s; medians of {args.rounds} round(s)")
    print(f"{'way':<28} {'ms CPU per look':>16} {'ratio':>8}")
    for way, values in results.items():
        median = statistics.median(values)
        print(f"{way:<28} {median:>16.3f} {median / base:>7.2f}x")


if __name__ == "__main__":
    main()
