"""What waiting costs: bridge CPU per waiting question per minute, an older version and this one.

    python bench/waiting.py --before 1b3801a                 # 1,000 questions, about 3 minutes
    python bench/waiting.py --before 1b3801a --users 2000 --minute 3

Two bridges run at the same time, each with its own raia simulator (answers that take 20
minutes: every question keeps waiting) and fake Slack Web API, each in a process of its
own: the older version (extracted with ``git archive``; its processes run from there) and
this one, at default settings (HANDOFF on: a waiting question also looks whether a person
took its conversation over). N people each send one Slack DM at once; once raia has every
question, the bridge's CPU (user + system) over the ``--minute``-th minute of waiting is
divided by the questions waiting. Also printed: ``response-on`` calls per question in that
minute, and the bridge's resident memory.
Target: <= 1.5 ms of CPU per waiting question per minute.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.replicas import Child, bridge_env, cpu_of, free_port, stop_all, webhook_post  # noqa: E402
from bridge.app.cli import run_async  # noqa: E402

DELAY = 1200.0  # raia's answer time: longer than the measurement
TARGET = 1.5  # ms of CPU per waiting question per minute


async def raia_calls(http: aiohttp.ClientSession, raia: str) -> int:
    async with http.get(f"{raia}/_simulator/questions") as response:
        questions: dict[str, dict[str, Any]] = await response.json()
    return sum(int(q["polls"]) for q in questions.values())


async def side(name: str, tree: Path | None, users: int, minute: int, work: Path) -> dict[str, float]:
    children: list[Child] = []
    try:
        raia_port, api_port, port = free_port(), free_port(), free_port()
        raia, api = f"http://127.0.0.1:{raia_port}", f"http://127.0.0.1:{api_port}"
        sim = [sys.executable, "-m", "adapters.raia.simulator", "--port", str(raia_port), "--delay", str(DELAY)]
        children.append(Child("raia-simulator", sim, work, raia))
        children.append(
            Child(
                "fake-slack",
                [sys.executable, str(ROOT / "bench" / "replicas.py"), "--serve-slack", str(api_port)],
                work,
                api,
            )
        )
        await asyncio.gather(children[0].ready("/_simulator/questions"), children[1].ready("/_bench/state"))
        env = bridge_env("slack", raia, api, f"sqlite:///{work}/bridge.db", port)
        if tree is not None:
            env["PYTHONPATH"] = str(tree)
        bridge = Child("bridge", [sys.executable, "-m", "bridge"], work, f"http://127.0.0.1:{port}", env)
        children.append(bridge)
        await bridge.ready("/healthz")
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

            async def post(i: int) -> None:
                url, raw, headers = webhook_post("slack", bridge, f"question of person {i}", i)
                async with http.post(url, data=raw, headers=headers) as response:
                    response.raise_for_status()

            await asyncio.gather(*(post(i) for i in range(users)))
            async with asyncio.timeout(120):
                while True:
                    async with http.get(f"{raia}/_simulator/questions") as response:
                        if len(await response.json()) >= users:
                            break
                    await asyncio.sleep(0.5)
            sent = time.monotonic()
            await asyncio.sleep(max(0.0, sent + 60 * (minute - 1) - time.monotonic()))
            cpu, calls = sum(cpu_of([bridge.ps]).values()), await raia_calls(http, raia)
            await asyncio.sleep(60.0)
            cpu = sum(cpu_of([bridge.ps]).values()) - cpu
            calls = await raia_calls(http, raia) - calls
        rss = bridge.ps.memory_info().rss
        print(f"{name}: {1000 * cpu / users:.2f} ms CPU per waiting question in minute {minute}", flush=True)
        return {"cpu": 1000 * cpu / users, "polls": calls / users, "rss": rss / 2**20}
    finally:
        stop_all(children[2:])
        stop_all(children[:2])


async def both(tree: Path, users: int, minute: int, tmp: Path) -> list[dict[str, float]]:
    (tmp / "b").mkdir()
    (tmp / "a").mkdir()
    sides = side("before", tree, users, minute, tmp / "b"), side("after", None, users, minute, tmp / "a")
    return list(await asyncio.gather(*sides))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="the older version: a commit, branch or tag")
    parser.add_argument("--users", type=int, default=1000, help="questions waiting (default 1,000)")
    parser.add_argument("--minute", type=int, default=2, help="which minute of waiting to measure (default the 2nd)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-waiting-") as tmp:
        tree = Path(tmp) / "before"
        tree.mkdir()
        archive = subprocess.run(  # noqa: S603
            ["git", "-C", str(ROOT), "archive", "--format=tar", args.before],  # noqa: S607
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)  # noqa: S603, S607
        before, after = run_async(both(tree, args.users, args.minute, Path(tmp)))
    print()
    print(f"{args.users:,} questions waiting (raia answers after {DELAY:g} s), minute {args.minute} of waiting; "
          f"before = {args.before}; both bridges ran at the same time")  # fmt: skip
    print(f"{'measure':<42} {'before':>8} {'after':>8} {'after/before':>13}")
    for label, key in (
        ("bridge CPU ms per waiting question-minute", "cpu"),
        ("response-on calls per question that minute", "polls"),
        ("bridge resident memory (MB)", "rss"),
    ):
        print(f"{label:<42} {before[key]:>8.2f} {after[key]:>8.2f} {after[key] / before[key]:>12.2f}x")
    verdict = "met" if after["cpu"] <= TARGET else "MISSED"
    print(f"\nTarget: <= {TARGET} ms CPU per waiting question per minute: {verdict}")


if __name__ == "__main__":
    main()
