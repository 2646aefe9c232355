"""Benchmark of the core against the raia simulator over real HTTP on loopback.

    python bench/run.py            # all three scenarios (about 90 s)
    python bench/run.py --quick    # smaller and shorter, for a smoke run

The simulator runs in its own process (as raia would), so the CPU time reported per turn
(this process's user + system time, all threads) is the bridge's alone. The bridge core runs here with
default settings, a fresh SQLite file per scenario, and an outbound that records when
each reply was handed to it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bridge.app.cli import run_async  # noqa: E402
from bridge.app.logs import configure_logging  # noqa: E402
from bridge.app.runtime import open_runtime  # noqa: E402
from bridge.app.settings import Settings  # noqa: E402
from bridge.models import InboundMessage, Origin, PlatformUser, Reply  # noqa: E402
from bridge.ports.outbound import DeliveryProgress  # noqa: E402
from bridge.service import ConversationService  # noqa: E402


@dataclass
class Recorder:
    platform: str = "bench"
    handed: dict[str, float] = field(default_factory=dict)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0

    async def deliver(self, origin: Origin, reply: Reply, progress: DeliveryProgress) -> None:
        self.handed[origin.chat] = time.time()
        await progress.part_delivered(1)
        if len(self.handed) >= self.expected:
            self.done.set()

    @contextlib.asynccontextmanager
    async def working(self, origin: Origin) -> AsyncIterator[None]:
        yield

    async def profile(self, user: PlatformUser) -> PlatformUser:
        return user

    def live(self, origin: Origin, language: str = "en", key: str = "") -> None:
        return None


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@contextlib.contextmanager
def simulator() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module, fixed arguments
        [sys.executable, "-m", "adapters.raia.simulator", "--port", str(port), "--delay-from-text"], cwd=ROOT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(base + "/_simulator/questions", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


class LagMonitor:
    """Measures how late a 10 ms timer fires: the event loop's responsiveness."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.peak_rss = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        process = psutil.Process()
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(0.01)
            self.lags.append(loop.time() - start - 0.01)
            self.peak_rss = max(self.peak_rss, process.memory_info().rss)

    def __enter__(self) -> LagMonitor:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


@asynccontextmanager
async def bridge(base: str, recorder: Recorder) -> AsyncIterator[ConversationService]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, raia_api_key="bench", raia_base_url=base)
        async with open_runtime(settings, database=Path(tmp) / "bench.db") as rt:
            rt.service.register(recorder)
            await rt.service.start()
            try:
                yield rt.service
            finally:
                await rt.service.stop(5)


def question(i: int, text: str, who: str = "") -> InboundMessage:
    """Person ``who``+``i`` asks ``text`` (each text is asked once: it names the chat)."""
    return InboundMessage(
        platform="bench",
        user=PlatformUser(fk_id=f"bench:{who}{i}", first_name=f"User{i}"),
        origin=Origin(chat=text),
        text=text,
        dedupe_keys=(f"bench:{text}",),
    )


async def overshoot(base: str, count: int, low: float, high: float) -> dict[str, object]:
    rng = random.Random(7)
    delays = [round(rng.uniform(low, high), 2) for _ in range(count - 2)] + [low, high]
    recorder = Recorder(expected=count)
    async with bridge(base, recorder) as service:
        for i, delay in enumerate(delays):
            await service.receive(question(i, f"q{i} delay={delay}"))
        await asyncio.wait_for(recorder.done.wait(), timeout=high + 60)
    async with httpx.AsyncClient() as http:
        sim = (await http.get(base + "/_simulator/questions")).json()
    rows = []
    for q in sim.values():
        if q["text"] in recorder.handed:
            delay = float(q["text"].split("delay=")[1])
            rows.append((delay, recorder.handed[q["text"]] - q["ready_at"], q["polls"]))
    over = [r[1] for r in rows]
    ratios = [r[1] / r[0] for r in rows]
    buckets = {}
    for name, lo, hi in (("1-5 s", 0, 5), ("5-15 s", 5, 15), ("15-60 s", 15, 1e9)):
        sel = [r for r in rows if lo <= r[0] < hi]
        if sel:
            buckets[name] = {
                "answers": len(sel),
                "mean_overshoot_s": round(statistics.mean(r[1] for r in sel), 3),
                "mean_overshoot_pct_of_delay": round(100 * statistics.mean(r[1] / r[0] for r in sel), 1),
                "max_overshoot_s": round(max(r[1] for r in sel), 3),
            }
    longest = max(rows)
    return {
        "answers": len(rows),
        "mean_overshoot_s": round(statistics.mean(over), 3),
        "p50_overshoot_s": round(pct(over, 50), 3),
        "p99_overshoot_s": round(pct(over, 99), 3),
        "max_overshoot_s": round(max(over), 3),
        "mean_overshoot_pct_of_delay": round(100 * statistics.mean(ratios), 1),
        "max_overshoot_pct_of_delay": round(100 * max(ratios), 1),
        "polls_per_answer_mean": round(statistics.mean(r[2] for r in rows), 1),
        f"polls_for_{longest[0]:g}s_answer": longest[2],
        "by_delay": buckets,
    }


async def crowd(base: str, users: int, delay: float, warm: int = 0) -> dict[str, object]:
    """``users`` people ask at once. With ``warm``, that many answers (same delay) come first, as
    in a bridge that has been running: its poll schedule knows how long the agent takes."""
    recorder = Recorder(expected=warm)
    label = "warm-crowd" if warm else "crowd"  # the simulator outlives a scenario: new people, new texts
    async with bridge(base, recorder) as service:
        if warm:
            await asyncio.gather(*(service.receive(question(i, f"warm-up{i} delay={delay}", "w")) for i in range(warm)))
            await asyncio.wait_for(recorder.done.wait(), timeout=120)
        recorder.handed.clear()
        recorder.done.clear()
        recorder.expected = users
        with LagMonitor() as monitor:
            start, cpu = time.time(), time.process_time()
            await asyncio.gather(
                *(service.receive(question(i, f"{label}{i} delay={delay}", label)) for i in range(users))
            )
            await asyncio.wait_for(recorder.done.wait(), timeout=120)
            wall, cpu = time.time() - start, time.process_time() - cpu
    async with httpx.AsyncClient() as http:
        sim = (await http.get(base + "/_simulator/questions")).json()
    polls = [q["polls"] for q in sim.values() if q["text"].startswith(label) and q["text"] in recorder.handed]
    return {
        "users": users,
        "answer_delay_s": delay,
        "warm_up_answers": warm,
        "delivered": len(recorder.handed),
        "wall_s": round(wall, 2),
        "bridge_cpu_ms_per_turn": round(1000 * cpu / users, 2),
        "polls_per_answer": round(statistics.mean(polls), 2) if polls else None,
        "peak_rss_mb": round(monitor.peak_rss / 2**20, 1),
        "loop_lag_p50_ms": round(1000 * pct(monitor.lags, 50), 1),
        "loop_lag_p99_ms": round(1000 * pct(monitor.lags, 99), 1),
        "loop_lag_max_ms": round(1000 * max(monitor.lags), 1),
    }


async def throughput(base: str, users: int, per_user: int) -> dict[str, object]:
    total = users * per_user
    recorder = Recorder(expected=total)
    async with bridge(base, recorder) as service:
        start, cpu = time.time(), time.process_time()
        for round_ in range(per_user):
            for i in range(users):
                await service.receive(question(i, f"fast{i}-{round_}"))
        await asyncio.wait_for(recorder.done.wait(), timeout=300)
        wall, cpu = time.time() - start, time.process_time() - cpu
    return {
        "turns": total,
        "users": users,
        "wall_s": round(wall, 2),
        "turns_per_s": round(total / wall, 1),
        "bridge_cpu_ms_per_turn": round(1000 * cpu / total, 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    configure_logging("WARNING")
    results: dict[str, object] = {}
    with simulator() as base:
        if args.quick:
            results["overshoot"] = await overshoot(base, 12, 1, 8)
            results["crowd"] = await crowd(base, 200, 2.0)
            results["crowd_warm"] = await crowd(base, 200, 2.0, warm=30)
            results["throughput"] = await throughput(base, 100, 3)
        else:
            results["overshoot"] = await overshoot(base, 100, 1, 60)
            results["crowd"] = await crowd(base, 1000, 5.0)  # a new installation
            results["crowd_warm"] = await crowd(base, 1000, 5.0, warm=40)  # one that has been running
            results["throughput"] = await throughput(base, 500, 4)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    run_async(main())
