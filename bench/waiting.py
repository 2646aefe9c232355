"""What waiting costs: bridge CPU per waiting question per minute, and many waiting at once.

    python bench/waiting.py --before 64164f5                 # 1,000 questions, about 4 minutes
    python bench/waiting.py --before 64164f5 --users 2000 --minute 2
    python bench/waiting.py --many 10000                      # this version alone, about 12 minutes
    python bench/waiting.py --before 64164f5 --early 10       # the first 10 s: CPU per short-wait look

Side by side (``--before``): two bridges run at the same time, each with its own raia
simulator (answers that take 20 minutes: every question keeps waiting) and fake Slack Web
API, each in a process of its own: the older version (extracted with ``git archive``; its
processes run from there) and this one, at default settings (RAIA_PUSH off, HANDOFF on: a
waiting question also learns whether a person took its conversation over). N people each
send one Slack DM at once; once raia has every question, the bridge's CPU (user + system)
over the ``--minute``-th minute of waiting is divided by the questions waiting. Also
printed: raia requests per question in that minute (``response-on``, and the
conversation's mode), and the bridge's resident memory. ``--early S``: the first S seconds
of waiting instead (a new installation's burst: short waits, the agent's pace not yet
learned), and the bridge's CPU per ``response-on`` call over them.

Many (``--many N``): this version alone, N people each ask once; raia answers each after
its own time, spread over a window that begins after the measured minute. Printed: the
peak resident memory, CPU per waiting question-minute (the ``--minute``-th minute after
raia had them all), and for every answer how late the look that found it was against
what the poll schedule promises (at most ``max(cap, a tenth of the time waited)``, never
more than RAIA_POLL_MAX_WAIT), how long it then took to reach Slack, answers missing and
posted twice.
Targets: <= 1.5 ms of CPU per waiting question per minute; 10,000 waiting in <= 400 MB,
every answer within its schedule.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import sender  # noqa: E402
from bench.processes import Child, RssPeak, cpu_of, free_port, stop_all  # noqa: E402
from bench.replicas import bridge_env, fake_state, webhook_post  # noqa: E402
from bench.versions import older_version  # noqa: E402
from bridge.app.cli import run_async  # noqa: E402
from bridge.poller import PollSchedule  # noqa: E402

DELAY = 1200.0  # raia's answer time side by side: longer than the measurement
TARGET = 1.5  # ms of CPU per waiting question per minute
RSS_TARGET = 400.0  # MB for --many 10000
SCHEDULE = PollSchedule(first=1.0)  # the defaults: RAIA_POLL_INTERVAL 1 s, RAIA_POLL_MAX_WAIT 12 s


async def raia_books(http: aiohttp.ClientSession, raia: str) -> dict[str, dict[str, Any]]:
    async with http.get(f"{raia}/_simulator/questions") as response:
        questions: dict[str, dict[str, Any]] = await response.json()
    return questions


def looks(books: dict[str, dict[str, Any]]) -> tuple[int, int]:
    """``response-on`` calls and mode requests so far, all questions together."""
    return sum(int(q["polls"]) for q in books.values()), sum(int(q["mode_looks"]) for q in books.values())


class Setup:
    """A raia simulator, a fake Slack Web API and a bridge, each a process of its own."""

    def __init__(self, work: Path, tree: Path | None, simulator: list[str]) -> None:
        self.work, self.tree, self.simulator = work, tree, simulator
        self.children: list[Child] = []
        self.raia = self.api = ""

    @property
    def bridge(self) -> Child:
        return self.children[2]

    async def __aenter__(self) -> Setup:
        raia_port, api_port, port = free_port(), free_port(), free_port()
        self.raia, self.api = f"http://127.0.0.1:{raia_port}", f"http://127.0.0.1:{api_port}"
        sim = [sys.executable, "-m", "adapters.raia.simulator", "--port", str(raia_port), *self.simulator]
        self.children.append(Child("raia-simulator", sim, self.work, self.raia))
        slack = [sys.executable, str(ROOT / "bench" / "replica_fakes.py"), "--serve-slack", str(api_port)]
        self.children.append(Child("fake-slack", slack, self.work, self.api))
        await asyncio.gather(self.children[0].ready("/_simulator/questions"), self.children[1].ready("/_bench/state"))
        env = bridge_env("slack", self.raia, self.api, f"sqlite:///{self.work}/bridge.db", port)
        if self.tree is not None:
            env["PYTHONPATH"] = str(self.tree)
        self.children.append(
            Child("bridge", [sys.executable, "-m", "bridge"], self.work, f"http://127.0.0.1:{port}", env)
        )
        await self.bridge.ready("/healthz")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if exc[0] is not None:  # a process that died says why
            for child in self.children:
                if child.popen.poll() is not None:
                    print(f"{child.name} exited with {child.popen.returncode}:\n{child.log_tail()}", file=sys.stderr)
        stop_all(self.children[2:])
        stop_all(self.children[:2])

    async def ask_all(self, http: aiohttp.ClientSession, texts: list[str]) -> float:
        """Person i asks ``texts[i]`` in a Slack DM, all at once; when raia has every question."""

        await sender.burst([webhook_post("slack", self.bridge.base, text, i) for i, text in enumerate(texts)])
        async with asyncio.timeout(900):
            while len(await raia_books(http, self.raia)) < len(texts):
                await asyncio.sleep(1.0)
        return time.monotonic()

    async def minute_from(self, http: aiohttp.ClientSession, start: float, seconds: float = 60.0) -> dict[str, float]:
        """The bridge's CPU seconds and raia's requests over ``seconds`` from ``start``."""
        await asyncio.sleep(max(0.0, start - time.monotonic()))
        cpu, (polls, modes) = sum(cpu_of([self.bridge.ps]).values()), looks(await raia_books(http, self.raia))
        await asyncio.sleep(seconds)
        cpu = sum(cpu_of([self.bridge.ps]).values()) - cpu
        polls_after, modes_after = looks(await raia_books(http, self.raia))
        return {"cpu": cpu, "polls": polls_after - polls, "modes": modes_after - modes}


def client() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=300))


async def side(name: str, tree: Path | None, users: int, minute: int, early: float, work: Path) -> dict[str, float]:
    async with Setup(work, tree, ["--delay", str(DELAY)]) as setup, client() as http:
        waiting = await setup.ask_all(http, [f"question of person {i}" for i in range(users)])
        if early:
            got = await setup.minute_from(http, time.monotonic(), early)
        else:
            got = await setup.minute_from(http, waiting + 60 * (minute - 1))
        rss = setup.bridge.ps.memory_info().rss / 2**20
    per_look = 1000 * got["cpu"] / max(1.0, got["polls"])
    if early:
        print(f"{name}: {per_look:.3f} ms CPU per look in the first {early:g} s", flush=True)
    else:
        print(f"{name}: {1000 * got['cpu'] / users:.2f} ms CPU per waiting question in minute {minute}", flush=True)
    return {
        "cpu": 1000 * got["cpu"] / users, "polls": got["polls"] / users, "modes": got["modes"] / users,
        "rss": rss, "look": per_look,
    }  # fmt: skip


async def both(tree: Path, users: int, minute: int, early: float, tmp: Path) -> list[dict[str, float]]:
    (tmp / "b").mkdir()
    (tmp / "a").mkdir()
    sides = side("before", tree, users, minute, early, tmp / "b"), side("after", None, users, minute, early, tmp / "a")
    return list(await asyncio.gather(*sides))


def compare(before_rev: str, users: int, minute: int, early: float) -> None:
    with older_version(before_rev, "bench-waiting-") as (tree, tmp):
        before, after = run_async(both(tree, users, minute, early, tmp))
    span, unit = (
        (f"the first {early:g} s of waiting", "those seconds")
        if early
        else (f"minute {minute} of waiting", "that minute")
    )
    print()
    print(f"{users:,} questions waiting (raia answers after {DELAY:g} s), {span}; "
          f"before = {before_rev}; both bridges ran at the same time")  # fmt: skip
    print(f"{'measure':<46} {'before':>8} {'after':>8} {'after/before':>13}")
    for label, key in (
        (
            f"bridge CPU ms per waiting question, {unit}" if early else "bridge CPU ms per waiting question-minute",
            "cpu",
        ),
        (f"response-on calls per question, {unit}", "polls"),
        (f"mode requests per question, {unit}", "modes"),
        ("bridge CPU ms per response-on call", "look"),
        ("bridge resident memory (MB)", "rss"),
    ):
        ratio = f"{after[key] / before[key]:>12.2f}x" if before[key] else f"{'-':>13}"
        print(f"{label:<46} {before[key]:>8.2f} {after[key]:>8.2f} {ratio}")
    if early:
        return
    verdict = "met" if after["cpu"] <= TARGET else "MISSED"
    print(f"\nTarget: <= {TARGET} ms CPU per waiting question per minute: {verdict}")


def spread(users: int, first: float, last: float) -> list[float]:
    """Each person's answer time at raia, from ``first`` to ``last`` seconds."""
    return [first + (last - first) * i / max(1, users - 1) for i in range(users)]


async def many(users: int, minute: int, answers: tuple[float, float], work: Path) -> None:
    delays = spread(users, *answers)
    texts = [f"question of person {i} delay={delay:.3f}" for i, delay in enumerate(delays)]
    async with Setup(work, None, ["--delay-from-text"]) as setup, client() as http:
        with RssPeak([setup.bridge.ps]) as rss:
            began = time.monotonic()
            waiting = await setup.ask_all(http, texts)
            print(f"raia had all {users:,} questions after {waiting - began:.0f} s", flush=True)
            if waiting - began + 60 * minute > answers[0]:
                print("the first answers come before the measured minute ends: raise --answers", file=sys.stderr)
            got = await setup.minute_from(http, waiting + 60 * (minute - 1))
            async with asyncio.timeout(answers[1] + 300):
                while (await fake_state(http, setup.api))["answers"] < users:
                    await asyncio.sleep(2.0)
            state = await fake_state(http, setup.api)
            books = await raia_books(http, setup.raia)
            async with http.get(f"{setup.api}/_bench/posts") as response:
                posts: list[list[Any]] = await response.json()
    report(users, minute, got, rss.peak[0] / 2**20, state, books, posts)


def report(
    users: int,
    minute: int,
    got: dict[str, float],
    rss: float,
    state: dict[str, Any],
    books: dict[str, dict[str, Any]],
    posts: list[list[Any]],
) -> None:
    posted = {str(channel): float(at) for channel, at in reversed(posts)}  # the first post in each DM
    late, over, reach = [], 0, []
    for question in books.values():
        person = int(str(question["text"]).split()[3])
        ready, seen = float(question["ready_at"]), question["seen_at"]
        if seen is None:
            continue
        bound = max(SCHEDULE.cap, SCHEDULE.spaced(ready - float(question["asked_at"])))
        late.append(float(seen) - ready)
        over += float(seen) - ready > bound
        if f"D{100_000 + person}" in posted:
            reach.append(posted[f"D{100_000 + person}"] - float(seen))

    def pct(values: list[float], p: int) -> float:
        return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else (values or [0.0])[0]

    def spread_of(values: list[float]) -> str:
        return f"{pct(values, 50):>5.2f} / {pct(values, 99):.2f} / {max(values, default=0.0):.2f}"

    print()
    print(f"{users:,} questions waiting on one bridge (SQLite); minute {minute} after raia had them all")
    print(f"bridge resident memory, peak (MB)              {rss:>9.1f}   target <= {RSS_TARGET:g}")
    print(f"bridge CPU ms per waiting question-minute      {1000 * got['cpu'] / users:>9.2f}   target <= {TARGET}")
    print(f"response-on calls per question that minute     {got['polls'] / users:>9.2f}")
    print(f"mode requests per question that minute         {got['modes'] / users:>9.2f}")
    print(f"answers found late, p50 / p99 / max (s)        {spread_of(late)}")
    print(f"answers found later than the schedule allows   {over:>9d}   (of {len(late):,} found)")
    print(f"found -> posted in Slack, p50 / p99 / max (s)  {spread_of(reach)}")
    print(f"answers missing / posted twice                 {users - int(state['answers']):>5d} / {state['duplicates']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--before", help="the older version to run side by side: a commit, branch or tag")
    mode.add_argument("--many", type=int, help="this version alone with this many questions waiting")
    parser.add_argument("--users", type=int, default=1000, help="questions waiting side by side (default 1,000)")
    parser.add_argument("--minute", type=int, default=3, help="which minute of waiting to measure (default the 3rd)")
    parser.add_argument("--early", type=float, default=0.0, metavar="S", help="--before: measure the first S seconds")
    parser.add_argument(
        "--answers", nargs=2, type=float, default=(420.0, 540.0), metavar=("FIRST", "LAST"),
        help="--many: raia's answer times, spread from FIRST to LAST seconds (default 420 540)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.before:
        compare(args.before, args.users, args.minute, args.early)
        return
    with tempfile.TemporaryDirectory(prefix="bench-waiting-") as tmp:
        run_async(many(args.many, args.minute, tuple(args.answers), Path(tmp)))


if __name__ == "__main__":
    main()
