"""Bridge CPU per turn, an older version and this one side by side in one run.

    python bench/compare.py --before b7ead59                     # Slack, 300 people, 3 runs each
    python bench/compare.py --before b7ead59 --platform telegram --cold

The older version is extracted (``git archive``) into a temporary directory and its
bridge processes run from there; everything else (raia simulator, fake platform, load
generator: ``bench/replicas.py``'s 1 x SQLite burst) is this checkout's. Runs interleave
(before, after, before, after, ...) so the machine's drift hits both alike; printed are
each run and the medians, with the ratio after / before, for new people (a raia user and
conversation created) and known ones.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import replicas  # noqa: E402
from bench.run import pct  # noqa: E402
from bench.versions import older_version  # noqa: E402
from bridge.app.cli import run_async  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="the older version: a commit, branch or tag")
    parser.add_argument("--platform", choices=replicas.PLATFORMS, default="slack")
    parser.add_argument("--users", type=int, default=300, help="people per burst (default 300)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each version (default 3)")
    parser.add_argument("--delay", type=float, default=5.0, help="raia's answer delay in seconds (default 5)")
    parser.add_argument("--cold", action="store_true", help="a new installation (no warm-up answers)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a kill stops the bridges and fakes too
    with older_version(args.before, "bench-compare-") as (tree, tmp):
        run_async(compare(args, tree, tmp))


async def compare(args: argparse.Namespace, tree: Path, tmp: Path) -> None:
    per_turn: dict[str, dict[str, list[float]]] = {"before": {}, "after": {}}
    acks: dict[str, list[float]] = {"before": [], "after": []}
    for run in range(args.runs):
        for side in ("before", "after"):
            replicas.BRIDGE_ENV = {"PYTHONPATH": str(tree)} if side == "before" else {}
            work = tmp / f"{side}-{run}"
            work.mkdir()
            print(f"-- {side}, run {run + 1}", flush=True)
            rounds = await replicas.run_config(
                "sqlite", 1, args.platform, args.users, args.delay, None, None, None, work,
                0 if args.cold else replicas.WARM_UP,
            )  # fmt: skip
            for r in rounds:
                per_turn[side].setdefault(r.name, []).append(r.per_turn(r.bridge_cpu))
                acks[side] += r.acks
    print()
    kind = "a new installation" if args.cold else "warm (the agent's pace learned)"
    print(f"{args.platform}, {args.users} people at once, {args.runs} interleaved runs, {kind}; before = {args.before}")
    print(f"{'bridge CPU ms/turn':<22} {'before (runs)':<22} {'after (runs)':<22} {'median':>15} {'after/before':>13}")
    for name in replicas.ROUNDS:
        b, a = per_turn["before"].get(name, []), per_turn["after"].get(name, [])
        if not b or not a:
            continue
        mb, ma = statistics.median(b), statistics.median(a)
        runs_b, runs_a = " ".join(f"{x:.2f}" for x in b), " ".join(f"{x:.2f}" for x in a)
        label = "new people" if name == "new" else "known people"
        print(f"{label:<22} {runs_b:<22} {runs_a:<22} {f'{mb:.2f} -> {ma:.2f}':>15} {ma / mb:>12.2f}x")
    b99, a99 = 1000 * pct(acks["before"], 99), 1000 * pct(acks["after"], 99)
    print(f"{'webhook ack p99 (ms)':<22} {'':<22} {'':<22} {f'{b99:.0f} -> {a99:.0f}':>15} {a99 / b99:>12.2f}x")


if __name__ == "__main__":
    main()
